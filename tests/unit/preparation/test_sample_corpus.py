"""The sample corpus shows what the default cleaning does for topics (`make dry-run` prints them).

Its football posts carry league tables and its computing posts download addresses, as real posts
do (samples/make_sample_corpus.py). Fitted as the offline harness's stand-in model fits a training
job (NMF, 4 topics, tests/pipeline/ntm_standin.py), the topics' top words hold that debris
without the cleaning and none of it with the defaults.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import scipy.sparse

from tests.pipeline import ntm_standin
from training.evaluation import topic_metrics
from training.formats import dataset as layout
from training.formats import recordio
from training.preparation import prepare

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def _generator():
    spec = importlib.util.spec_from_file_location("make_sample_corpus", SAMPLES / "make_sample_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _debris() -> set:
    generator = _generator()
    host_parts = {part for host in generator.HOSTS for part in host.split(".")}
    return ({team.lower() for team in generator.TEAMS} | set(generator.PEOPLE) | host_parts
            | {"pub", "src", "notes", "html", "mail", "don", "didn", "ll", "ve", "isn", "wasn", "doesn"})


def _top_words(dataset: Path) -> list:
    vocabulary = layout.load_vocabulary(dataset)
    train = scipy.sparse.vstack([recordio.read_sparse(path) for path in sorted((dataset / "train").glob("*.pbr"))]).tocsr()
    _, decoder = ntm_standin.fit(train, 4)
    top, _ = topic_metrics.top_words(decoder, 10)
    return [{vocabulary[index] for index in row} for row in top]


@pytest.fixture(scope="module")
def topics(tmp_path_factory) -> dict:
    found = {}
    for name, options in (("defaults", []), ("without cleaning", ["--no-clean-text"])):
        output = tmp_path_factory.mktemp(name.replace(" ", "-"))
        assert prepare.main(["--input", str(SAMPLES / "sample-news.jsonl"), "--output", str(output), "--workers", "1",
                             *options]) == 0
        found[name] = _top_words(output)
    return found


def test_the_sample_is_what_its_generator_writes(tmp_path, monkeypatch):
    generator = _generator()
    monkeypatch.setattr(generator, "__file__", str(tmp_path / "make_sample_corpus.py"))
    generator.main()
    assert (tmp_path / "sample-news.jsonl").read_bytes() == (SAMPLES / "sample-news.jsonl").read_bytes()


def test_without_cleaning_the_tables_and_addresses_reach_the_topics(topics):
    debris = _debris()
    reached = set().union(*(words & debris for words in topics["without cleaning"]))
    assert {"rov", "utd", "pub"} <= reached


def test_with_the_defaults_no_topic_holds_debris(topics):
    assert not set().union(*topics["defaults"]) & _debris()
