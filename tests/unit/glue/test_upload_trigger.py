"""Which uploads start runs, what the run reads, and the execution name that makes repeats harmless."""

import re
from pathlib import Path

import pytest
from ntm_glue.upload_trigger import (
    CORPUS_SUFFIXES,
    Corpus,
    Ignored,
    Upload,
    build_input,
    corpus_of,
    execution_name,
    rule_key_patterns,
)

from stacks.config import PipelineConfig
from tests.unit.glue.test_input_schema import json_blocks

DOC = Path(__file__).resolve().parents[3] / "docs" / "starting-runs.md"


def upload(key: str, version: str | None = "v1", sequencer: str | None = "0055AED6DCD90281E5", bucket: str = "data-bucket") -> Upload:
    return Upload(bucket, key, version, sequencer)


def matches_rule(key: str) -> bool:
    """EventBridge's wildcard: `*` stands for any characters, slashes included."""
    return any(re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), key) for pattern in rule_key_patterns())


@pytest.mark.parametrize("key, expected", [
    ("incoming/news.jsonl.gz", Corpus("incoming/news.jsonl.gz", "incoming/news", is_folder=False)),
    ("incoming/news.jsonl", Corpus("incoming/news.jsonl", "incoming/news", is_folder=False)),
    ("incoming/reviews.csv.gz", Corpus("incoming/reviews.csv.gz", "incoming/reviews", is_folder=False)),
    ("incoming/my news.ndjson", Corpus("incoming/my news.ndjson", "incoming/my news", is_folder=False)),
    ("incoming/20news/_START", Corpus("incoming/20news/", "incoming/20news", is_folder=True)),
    ("incoming/2024/june/_START", Corpus("incoming/2024/june/", "incoming/2024/june", is_folder=True)),
])
def test_corpus_files_and_folder_markers(key, expected):
    assert corpus_of(key) == expected
    assert matches_rule(key), "the EventBridge rule must deliver every key the Lambda would start a run for"


def test_settings_file_sits_beside_the_corpus_never_inside_what_the_run_reads():
    assert corpus_of("incoming/news.jsonl.gz").settings_key == "incoming/news.run.json"
    assert corpus_of("incoming/20news/_START").settings_key == "incoming/20news.run.json"
    for key in ("incoming/news.jsonl.gz", "incoming/news.csv", "incoming/20news/_START", "incoming/a/b/_START"):
        corpus = corpus_of(key)
        # The preparation stage reads every object under the location: a settings file there would be data.
        assert not corpus.settings_key.startswith(corpus.location), key


@pytest.mark.parametrize("key, why", [
    ("incoming/news.run.json", "run settings file"),
    ("incoming/20news.run.json", "run settings file"),
    ("incoming/readme.md", "neither a corpus file"),
    ("incoming/notes.txt", "neither a corpus file"),
    ("incoming/news.JSONL", "neither a corpus file"),
    ("incoming/news.json", "neither a corpus file"),
    ("incoming/20news/part-0001.jsonl", "inside a folder: a folder corpus starts with its marker, incoming/20news/_START"),
    ("incoming/_START", "directly under incoming/"),
    ("datasets/news/manifest.json", "outside incoming/"),
    ("runs/x/transform/part-00000.pbr.out", "outside incoming/"),
])
def test_keys_that_start_nothing_say_why(key, why):
    with pytest.raises(Ignored, match=re.escape(why)):
        corpus_of(key)


def test_the_rule_leaves_out_settings_and_keys_outside_incoming():
    for key in ("incoming/news.run.json", "incoming/readme.md", "datasets/news/train.jsonl", "incoming/_START.txt",
                "runs/x/model.tar.gz"):
        assert not matches_rule(key), key
    assert {p.rsplit("*", 1)[1] for p in rule_key_patterns()} == {*CORPUS_SUFFIXES, "/_START"}


def test_execution_name_is_deterministic_and_tells_object_versions_apart():
    corpus = corpus_of("incoming/news.jsonl.gz")
    name = execution_name(upload("incoming/news.jsonl.gz"), corpus)
    assert name == execution_name(upload("incoming/news.jsonl.gz"), corpus)
    assert re.fullmatch(r"news-[0-9a-f]{16}", name)
    others = {
        execution_name(upload("incoming/news.jsonl.gz", version="v2"), corpus),
        execution_name(upload("incoming/news.jsonl.gz", bucket="other-bucket"), corpus),
        execution_name(upload("incoming/news.csv"), corpus_of("incoming/news.csv")),
    }
    assert name not in others and len(others) == 3


def test_without_a_version_the_sequencer_tells_uploads_apart():
    corpus = corpus_of("incoming/news.csv")
    first = execution_name(upload("incoming/news.csv", version=None, sequencer="0A1"), corpus)
    second = execution_name(upload("incoming/news.csv", version=None, sequencer="0A2"), corpus)
    assert first != second


@pytest.mark.parametrize("key", [
    "incoming/" + "very-long-corpus-name_" * 10 + ".jsonl",
    "incoming/Ünïcödé & spaces (1).csv",
    "incoming/deep/" * 8 + "_START",
    "incoming/.jsonl",
])
def test_execution_names_are_valid_for_step_functions(key):
    name = execution_name(upload(key), corpus_of(key))
    # 1..80 characters; only letters, digits and hyphens keep it readable in CloudWatch Logs too.
    assert 1 <= len(name) <= 80
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]", name), name


def test_the_documented_settings_file_is_accepted():
    (settings,) = json_blocks(DOC.read_text(), "### Run settings for an upload")
    key = "incoming/news.jsonl.gz"
    request = build_input(upload(key), corpus_of(key), settings, PipelineConfig().run_defaults())
    assert request == {"corpus": "s3://data-bucket/incoming/news.jsonl.gz", **settings,
                       "source": {"bucket": "data-bucket", "key": key, "version_id": "v1", "sequencer": "0055AED6DCD90281E5"}}


def test_settings_that_resolve_run_would_reject_start_nothing():
    key = "incoming/news.csv"
    with pytest.raises(Ignored, match=r"incoming/news.run.json is invalid: num_topics"):
        build_input(upload(key), corpus_of(key), {"num_topics": 5000}, PipelineConfig().run_defaults())
