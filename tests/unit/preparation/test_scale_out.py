"""training.scale_out: a corpus of many files prepared as several instances would, equal to one instance's dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from training.common.processing_host import this_host
from training.formats import recordio
from training.preparation import prepare, scale_out
from training.preparation.text_terms import TextSettings, document_terms, term_counts
from tests.unit.preparation.test_prepare import TOPICS, _marker

OPTIONS = ["--workers", "1", "--min-df", "2", "--min-tokens", "3", "--train-shards", "4", "--vocab-size", "40",
           "--max-df", "0.5", "--seed", "3", "--label-field", "label"]


# Debris the default cleaning removes (an address, a URL, a contraction), in some documents.
DEBRIS = " don't write to jane.doe@example.com or see http://www.example.org/faq.html"


def _corpus(folder: Path, files: int = 7, per_file: int = 40, debris: bool = False) -> Path:
    """Files of uneven sizes, with ids in some and not in others, words shared across files."""
    folder.mkdir()
    labels = sorted(TOPICS)
    for number in range(files):
        lines = []
        for line in range(per_file + 5 * number):
            label = labels[(number + line) % 3]
            words = TOPICS[label].split()
            text = " ".join(words[: 1 + line % 4] * 2) + f" {_marker(line % 50)} {_marker((line * 7 + number) % 50)} filler{number}"
            text += DEBRIS if debris and line % 3 == 0 else ""
            record = {"label": label, "text": text if line % 11 else ""}
            if number % 2:
                record["id"] = f"f{number}-{line}"
            lines.append(json.dumps(record))
        (folder / f"part-{number:03d}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def _host(folder: Path, index: int, count: int) -> Path:
    """The resourceconfig.json SageMaker Processing writes into instance `index` of `count`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"resourceconfig-{index}.json"
    path.write_text(json.dumps({"current_host": f"algo-{index + 1}", "hosts": [f"algo-{n + 1}" for n in range(count)]}))
    return path


def prepare_on_instances(corpus: Path, instances: int, work: Path, options: list[str] = OPTIONS,
                         text_options: tuple = ()) -> Path:
    """What the pipeline's three jobs do, locally: files dealt to instances by key, count on each,
    encode on each with every count file, assemble once. `text_options` go to both, as the run
    document passes them (count takes the reading ones only: see _COUNT_OPTIONS)."""
    files = sorted(path for path in corpus.rglob("*") if path.is_file())
    for index in range(instances):
        for file in files[index::instances]:
            target = work / f"input-{index}" / file.relative_to(corpus)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)
        (work / f"input-{index}").mkdir(exist_ok=True)
    hosts = [_host(work / "config", index, instances) for index in range(instances)]
    for index in range(instances):
        assert scale_out.main(["count", "--input", str(work / f"input-{index}"), "--output", str(work / "counts"),
                               "--resource-config", str(hosts[index]), *options[:2],
                               *(option for option in text_options if option in _COUNT_OPTIONS)]) == 0
    for index in range(instances):
        assert scale_out.main(["encode", "--input", str(work / f"input-{index}"), "--counts", str(work / "counts"),
                               "--output", str(work / "dataset"), "--shard-output", str(work / "shards"),
                               "--resource-config", str(hosts[index]), *options, *text_options]) == 0
    assert scale_out.main(["assemble", "--shards", str(work / "shards"), "--output", str(work / "dataset"),
                           "--min-train-shards", "2"]) == 0
    return work / "dataset"


# The text options that decide a document's terms, which the count job takes (stop words only
# matter to the vocabulary's choice, in encode).
_COUNT_OPTIONS = ("--strip-headers", "--no-clean-text")


def _by_document(dataset: Path) -> dict:
    """Every document's (split, label, sorted (word, count) pairs), by id, read back from the files."""
    vocabulary = (dataset / "auxiliary" / "vocab.txt").read_text().splitlines()
    lines = [json.loads(line) for line in (dataset / "documents.jsonl").read_text().splitlines()]
    rows = [recordio.read_sparse(path) for path in sorted((dataset / "transform").glob("part-*.pbr"))]
    matrix = np.vstack([row.toarray() for row in rows])
    assert matrix.shape[0] == len(lines)
    return {
        line["id"]: (line["split"], line.get("label"),
                     tuple((vocabulary[column], float(matrix[position, column])) for column in np.flatnonzero(matrix[position])))
        for position, line in enumerate(lines)
    }


def _split_rows(dataset: Path, split: str) -> list:
    """The rows of a split's files as sorted word-count tuples (a multiset, whatever the file cut)."""
    vocabulary = (dataset / "auxiliary" / "vocab.txt").read_text().splitlines()
    found = []
    for path in sorted((dataset / split).glob("part-*.pbr")):
        matrix = recordio.read_sparse(path).tocsr()
        for row in range(matrix.shape[0]):
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            found.append(tuple((vocabulary[c], float(v)) for c, v in zip(matrix.indices[start:end], matrix.data[start:end])))
    return sorted(found)


@pytest.mark.parametrize("instances", [3])
def test_several_instances_prepare_the_same_dataset_as_one(tmp_path, instances):
    corpus = _corpus(tmp_path / "corpus")
    assert prepare.main(["--input", str(corpus), "--output", str(tmp_path / "single"), *OPTIONS]) == 0
    scaled = prepare_on_instances(corpus, instances, tmp_path / "work")
    single = tmp_path / "single"
    assert (scaled / "auxiliary" / "vocab.txt").read_bytes() == (single / "auxiliary" / "vocab.txt").read_bytes()
    expected, got = _by_document(single), _by_document(scaled)
    assert len(expected) > 200 and got == expected
    for split in ("train", "validation", "test"):
        assert _split_rows(scaled, split) == _split_rows(single, split)
    one, many = (json.loads((path / "manifest.json").read_text()) for path in (single, scaled))
    assert many["documents"] == one["documents"] and one["documents"]["dropped"]["empty"] > 0
    assert many["vocabulary_size"] == one["vocabulary_size"] and many["labels"] is True
    assert many["preparation_instances"] == instances
    assert len(many["files"]["train"]) >= 4 and all((scaled / file).is_file() for name in ("train", "transform") for file in many["files"][name])
    # The transform files in name order hold the documents in documents.jsonl's order (instance by instance).
    assert many["files"]["transform"] == sorted(many["files"]["transform"])


def test_an_instance_without_a_file_refuses_with_how_to_upload_many(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    host = _host(tmp_path, 1, 4)
    assert scale_out.main(["count", "--input", str(tmp_path / "empty"), "--output", str(tmp_path / "counts"),
                           "--resource-config", str(host)]) == 1
    error = capsys.readouterr().err
    assert "algo-2 (2 of 4) received no corpus file" in error and "_START" in error and "instance_count 1" in error


def test_assembly_checks_the_whole_dataset(tmp_path, capsys):
    corpus = _corpus(tmp_path / "corpus", files=2, per_file=3)
    with pytest.raises(AssertionError):
        prepare_on_instances(corpus, 2, tmp_path / "work", [*OPTIONS[:-4], "--label-field", "label"])
    assert "need at least one each" in capsys.readouterr().err
    assert not (tmp_path / "work" / "dataset" / "manifest.json").exists()


def test_hosts_are_ordered_naturally(tmp_path):
    path = tmp_path / "resourceconfig.json"
    path.write_text(json.dumps({"current_host": "algo-10", "hosts": [f"algo-{n}" for n in range(1, 11)][::-1]}))
    host = this_host(path)
    assert (host.index, host.count) == (9, 10)


def _stop_word_file(folder: Path) -> Path:
    path = folder / "stop words.txt"
    path.write_text("# ours\nbrake\nfiller3\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("text_options", [
    lambda folder: ["--stop-words", "orbit,cheese", "filler2", "--strip-headers"],
    lambda folder: ["--no-clean-text", "--no-default-stop-words", "--stop-words-file", str(_stop_word_file(folder))],
], ids=["stop-word-list-cleaning-on", "stop-word-file-no-cleaning"])
def test_several_instances_apply_the_same_text_settings_as_one(tmp_path, text_options):
    corpus = _corpus(tmp_path / "corpus", files=6, debris=True)
    options = text_options(tmp_path)
    single = tmp_path / "single"
    assert prepare.main(["--input", str(corpus), "--output", str(single), *OPTIONS, *options]) == 0
    scaled = prepare_on_instances(corpus, 2, tmp_path / "work", OPTIONS, tuple(options))
    vocabulary = (scaled / "auxiliary" / "vocab.txt").read_text().splitlines()
    assert (scaled / "auxiliary" / "vocab.txt").read_bytes() == (single / "auxiliary" / "vocab.txt").read_bytes()
    assert _by_document(scaled) == _by_document(single)
    one, many = (json.loads((path / "manifest.json").read_text()) for path in (single, scaled))
    assert many["text_settings"] == one["text_settings"]
    settings = TextSettings.from_json(many["text_settings"])
    user_words = {"orbit", "cheese", "filler2"} if "--stop-words" in options else {"brake", "filler3"}
    assert set(settings.stop_words) == user_words and not user_words & set(vocabulary)
    assert settings.clean_text == ("--no-clean-text" not in options)
    # With cleaning, the debris never reaches the vocabulary; without it, its pieces do.
    assert ({"jane", "example", "don"} & set(vocabulary) == set()) == settings.clean_text
    # The serving contract: each row is rebuilt from the raw text and the assembled manifest alone.
    raw = {json.loads(line).get("id"): json.loads(line)["text"]
           for path in sorted(corpus.iterdir()) for line in path.read_text().splitlines()}
    columns = {word: column for column, word in enumerate(vocabulary)}
    rebuilt = 0
    for document_id, (_, _, row) in _by_document(scaled).items():
        if document_id in raw:
            expected = term_counts(document_terms(raw[document_id], settings), columns)
            assert {vocabulary[column]: float(count) for column, count in expected.items()} == dict(row)
            rebuilt += 1
    assert rebuilt > 50


def test_phrases_are_refused_on_several_instances(tmp_path, capsys):
    corpus = _corpus(tmp_path / "corpus", files=2, per_file=5)
    host = _host(tmp_path / "config", 0, 2)
    with pytest.raises(SystemExit) as stopped:
        scale_out.main(["encode", "--input", str(corpus), "--counts", str(tmp_path / "counts"), "--output", str(tmp_path / "dataset"),
                        "--shard-output", str(tmp_path / "shards"), "--resource-config", str(host), "--phrases"])
    assert stopped.value.code == 2
    assert "--phrases is not available on several instances" in capsys.readouterr().err


def test_assembly_refuses_shards_with_different_text_settings(tmp_path, capsys):
    corpus = _corpus(tmp_path / "corpus", files=4)
    work = tmp_path / "work"
    prepare_on_instances(corpus, 2, work)
    manifest_path = work / "shards" / "part-00001" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["text_settings"]["stop_words"] = ["orbit"]
    manifest_path.write_text(json.dumps(manifest))
    (work / "dataset" / "manifest.json").unlink()
    assert scale_out.main(["assemble", "--shards", str(work / "shards"), "--output", str(work / "dataset")]) == 1
    assert "different text settings" in capsys.readouterr().err
    assert not (work / "dataset" / "manifest.json").exists()
