"""python -m training.prepare on small corpora made here: the dataset layout, order, splits, bad input."""

from __future__ import annotations

import csv
import gzip
import json
import string
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from training.common.cli_options import document_frequency_bound
from training.formats import recordio
from training.preparation import prepare

# 60 documents: each has its own marker word (once) and shares topic words, so every document
# survives with --min-tokens 1 and its marker shows which transform row is which document.
TOPICS = {"space": "orbit rocket launch shuttle", "cars": "engine wheel brake clutch", "food": "bread cheese olive pasta"}


def _marker(number: int) -> str:
    letters = string.ascii_lowercase
    return "marker" + letters[number // 26] + letters[number % 26]


def _documents(count: int = 60) -> list:
    labels = sorted(TOPICS)
    documents = []
    for number in range(count):
        label = labels[number % len(labels)]
        documents.append({"id": f"doc-{number}", "label": label, "text": f"{TOPICS[label]} {TOPICS[label]} {_marker(number)}"})
    return documents


def _write_jsonl(path: Path, documents: list, compress: bool = False) -> Path:
    lines = "".join(json.dumps(document) + "\n" for document in documents).encode("utf-8")
    path.write_bytes(gzip.compress(lines) if compress else lines)
    return path


def _run(inputs, output: Path, *options: str) -> int:
    base = ["--output", str(output), "--workers", "1", "--min-df", "1", "--min-tokens", "1", "--train-shards", "2"]
    return prepare.main(["--input", *map(str, inputs), *base, *options])


def _manifest(output: Path) -> dict:
    return json.loads((output / "manifest.json").read_text())


def _document_lines(output: Path) -> list:
    return [json.loads(line) for line in (output / "documents.jsonl").read_text().splitlines()]


def _rows(output: Path, folder: str):
    return [recordio.read_sparse(path) for path in sorted((output / folder).glob("part-*.pbr"))]


def _markers_by_file(output: Path, folder: str) -> list:
    """Per file of a folder, the marker words of its records in record order (CSR keeps rows in order)."""
    vocabulary = (output / "auxiliary" / "vocab.txt").read_text().splitlines()
    return [[vocabulary[column] for column in matrix.indices if vocabulary[column].startswith("marker")] for matrix in _rows(output, folder)]


def _markers_of(output: Path, folder: str) -> list:
    """The marker word of each record of a folder's files, in file and record order."""
    return [marker for markers in _markers_by_file(output, folder) for marker in markers]


@pytest.fixture
def corpus(tmp_path) -> Path:
    return _write_jsonl(tmp_path / "corpus.jsonl", _documents())


def test_writes_the_dataset_layout_and_manifest(corpus, tmp_path):
    output = tmp_path / "dataset"
    assert _run([corpus], output) == 0
    manifest = _manifest(output)
    counts = manifest["documents"]
    assert manifest["format_version"] == 1
    assert counts["read"] == counts["kept"] == 60
    assert counts["train"] + counts["validation"] + counts["test"] == 60
    assert counts["validation"] == counts["test"] == 6
    assert counts["dropped"] == {"empty": 0, "too_short": 0}
    assert manifest["files"]["train"] == ["train/part-00000.pbr", "train/part-00001.pbr"]
    assert manifest["files"]["auxiliary"] == ["auxiliary/vocab.txt"]
    assert manifest["files"]["documents"] == "documents.jsonl"
    for name in ("train", "validation", "test", "transform"):
        assert all((output / file).is_file() for file in manifest["files"][name])
    vocabulary = (output / "auxiliary" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert len(vocabulary) == manifest["vocabulary_size"] == 12 + 60
    assert vocabulary == sorted(vocabulary)
    assert manifest["labels"] is True
    assert manifest["decode_errors"] == 0
    assert manifest["options"]["train_shards"] == 2
    assert manifest["inputs"][0]["bytes"] == corpus.stat().st_size
    assert len(manifest["inputs"][0]["sha256"]) == 64
    assert not [entry for entry in output.iterdir() if entry.name.startswith(".")]


def test_split_files_hold_the_split_documents_in_order(corpus, tmp_path):
    output = tmp_path / "dataset"
    _run([corpus], output)
    lines = _document_lines(output)
    assert _markers_of(output, "transform") == [_marker(number) for number in range(60)]
    assert [line["id"] for line in lines] == [f"doc-{number}" for number in range(60)]
    for split in ("validation", "test"):
        expected = [_marker(int(line["id"][4:])) for line in lines if line["split"] == split]
        assert _markers_of(output, split) == expected
    train = [_marker(int(line["id"][4:])) for line in lines if line["split"] == "train"]
    assert sorted(_markers_of(output, "train")) == sorted(train)
    assert [matrix.shape[0] for matrix in _rows(output, "train")] == [len(train) // 2 + len(train) % 2, len(train) // 2]


def test_records_count_words_of_the_vocabulary(corpus, tmp_path):
    output = tmp_path / "dataset"
    _run([corpus], output)
    vocabulary = (output / "auxiliary" / "vocab.txt").read_text().splitlines()
    (first,) = _rows(output, "transform")
    row = dict(zip((vocabulary[column] for column in first.indices[: first.indptr[1]]), first.data[: first.indptr[1]]))
    # doc-0 is about cars: its topic words twice, its marker once.
    assert row == {"brake": 2.0, "clutch": 2.0, "engine": 2.0, "wheel": 2.0, _marker(0): 1.0}
    assert first.shape[1] == len(vocabulary)


def test_train_shards_are_shuffled_across_the_sorted_input(tmp_path):
    documents = sorted(_documents(), key=lambda document: document["label"])
    output = tmp_path / "dataset"
    _run([_write_jsonl(tmp_path / "sorted.jsonl", documents)], output)
    labels = {_marker(int(document["id"][4:])): document["label"] for document in documents}
    for matrix_markers in _markers_by_file(output, "train"):
        assert len({labels[marker] for marker in matrix_markers}) == 3


def test_same_seed_same_bytes_and_two_workers_match_one(corpus, tmp_path):
    assert _run([corpus], tmp_path / "one") == 0
    assert _run([corpus], tmp_path / "two", "--workers", "2") == 0
    files = {path.relative_to(tmp_path / "one") for path in (tmp_path / "one").rglob("*") if path.is_file()}
    assert files == {path.relative_to(tmp_path / "two") for path in (tmp_path / "two").rglob("*") if path.is_file()}
    for path in files - {Path("manifest.json")}:
        assert (tmp_path / "one" / path).read_bytes() == (tmp_path / "two" / path).read_bytes(), path
    _run([corpus], tmp_path / "other-seed", "--seed", "5")
    assert _document_lines(tmp_path / "one") != _document_lines(tmp_path / "other-seed")


def test_vocabulary_keeps_the_most_frequent_words_without_stop_words_or_numbers(tmp_path):
    documents = [{"text": "the orbit orbit orbit 1993 x 3com rocket rocket launch"} for _ in range(20)]
    output = tmp_path / "dataset"
    _run([_write_jsonl(tmp_path / "c.jsonl", documents)], output, "--vocab-size", "2", "--max-df", "1.0")
    assert (output / "auxiliary" / "vocab.txt").read_text() == "orbit\nrocket\n"


def test_max_df_drops_words_in_too_many_documents(tmp_path):
    documents = [{"text": f"common {_marker(number)} {'medium' if number < 8 else ''} {'rare' if number < 3 else ''}"} for number in range(20)]
    output = tmp_path / "dataset"
    _run([_write_jsonl(tmp_path / "c.jsonl", documents)], output, "--max-df", "0.5", "--min-df", "2")
    assert (output / "auxiliary" / "vocab.txt").read_text() == "medium\nrare\n"


def test_short_and_empty_documents_are_dropped_and_counted(tmp_path):
    documents = _documents() + [{"id": "blank", "text": "!!!"}, {"id": "short", "text": "orbit unknownword"}]
    output = tmp_path / "dataset"
    _run([_write_jsonl(tmp_path / "c.jsonl", documents)], output, "--min-tokens", "3")
    manifest = _manifest(output)
    assert manifest["documents"]["dropped"] == {"empty": 1, "too_short": 1}
    assert manifest["documents"]["kept"] == 60
    assert "blank" not in {line["id"] for line in _document_lines(output)}


def test_given_vocabulary_is_used_as_is(corpus, tmp_path):
    vocabulary = tmp_path / "vocab.txt"
    vocabulary.write_text("rocket\norbit\nengine\n")
    output = tmp_path / "dataset"
    _run([corpus], output, "--vocabulary", str(vocabulary))
    assert (output / "auxiliary" / "vocab.txt").read_text() == "rocket\norbit\nengine\n"
    # Only the 40 space and cars documents have vocabulary words left.
    assert _manifest(output)["documents"]["kept"] == 40


def test_gzipped_json_lines_with_missing_ids_and_labels(tmp_path):
    documents = [{"body": f"orbit rocket {_marker(number)}"} for number in range(30)]
    output = tmp_path / "dataset"
    _run([_write_jsonl(tmp_path / "c.jsonl.gz", documents, compress=True)], output, "--text-field", "body")
    lines = _document_lines(output)
    assert lines[0] == {"id": f"{tmp_path / 'c.jsonl.gz'}:1", "title": f"orbit rocket {_marker(0)}", "split": lines[0]["split"]}
    assert _manifest(output)["labels"] is False


def test_csv_with_quoted_multiline_text(tmp_path):
    path = tmp_path / "c.csv"
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "category", "body"])
        for number in range(30):
            writer.writerow([f"row-{number}", "space" if number % 2 else "cars", f"orbit,\n rocket \"{_marker(number)}\""])
    output = tmp_path / "dataset"
    _run([path], output, "--text-field", "body", "--label-field", "category")
    lines = _document_lines(output)
    assert [line["id"] for line in lines] == [f"row-{number}" for number in range(30)]
    assert lines[1]["label"] == "space"
    assert _markers_of(output, "transform") == [_marker(number) for number in range(30)]


def test_folder_of_text_files_takes_labels_from_sub_folders(tmp_path):
    corpus = tmp_path / "corpus"
    for number in range(30):
        label = "sci.space" if number % 2 else "rec.autos"
        (corpus / label).mkdir(parents=True, exist_ok=True)
        (corpus / label / f"{number:03d}").write_text(f"orbit rocket {_marker(number)}")
    (corpus / ".hidden").write_text("orbit rocket")
    output = tmp_path / "dataset"
    _run([corpus], output)
    lines = _document_lines(output)
    assert len(lines) == 30
    assert lines[0]["id"] == "rec.autos/000" and lines[0]["label"] == "rec.autos"
    assert lines[-1]["id"] == "sci.space/029" and lines[-1]["label"] == "sci.space"
    assert _manifest(output)["inputs"][0]["files"] == 31 - 1


def test_strip_headers_drops_header_quotes_and_signature(tmp_path):
    message = (
        "From: someone@example.com\nSubject: headerword\n\n"
        "In article <1@example.com> quoter@example.com writes:\n> quotedword quotedword\n"
        "bodyword orbit rocket\n\n--\nsignatureword\n"
    )
    documents = [{"text": message.replace("bodyword", _marker(number))} for number in range(30)]
    output = tmp_path / "dataset"
    _run([_write_jsonl(tmp_path / "c.jsonl", documents)], output, "--strip-headers", "--max-df", "1.0")
    vocabulary = (output / "auxiliary" / "vocab.txt").read_text().splitlines()
    assert not {"headerword", "quotedword", "signatureword", "someone", "quoter", "writes"} & set(vocabulary)
    assert {"orbit", "rocket"} <= set(vocabulary)


def test_undecodable_bytes_are_replaced_and_counted(tmp_path):
    path = _write_jsonl(tmp_path / "c.jsonl", _documents())
    path.write_bytes(path.read_bytes() + b'{"id": "latin", "text": "caf\xe9 orbit rocket launch"}\n')
    output = tmp_path / "dataset"
    assert _run([path], output) == 0
    assert _manifest(output)["decode_errors"] == 1
    assert "caf" in (output / "auxiliary" / "vocab.txt").read_text().splitlines()


def _fails(capsys, inputs, output: Path, *options: str) -> str:
    assert _run(inputs, output, *options) == 1
    assert not (output / "manifest.json").exists()
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "Traceback" not in error
    return error


def test_line_that_is_not_json_names_its_line(tmp_path, capsys):
    path = _write_jsonl(tmp_path / "c.jsonl", _documents(5))
    path.write_text(path.read_text() + "\n{not json\n")
    assert f"{path}:7: not valid JSON" in _fails(capsys, [path], tmp_path / "dataset")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('["a list"]\n', "not an object"),
        ('{"body": "no text field"}\n', "no 'text' field"),
        ('{"text": 42}\n', "not a string"),
    ],
)
def test_json_lines_records_of_the_wrong_shape(tmp_path, capsys, content, message):
    path = tmp_path / "c.jsonl"
    path.write_text(content)
    assert message in _fails(capsys, [path], tmp_path / "dataset")


def test_empty_corpus(tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_text("\n\n")
    assert "no documents found" in _fails(capsys, [tmp_path / "empty.jsonl"], tmp_path / "dataset")
    (tmp_path / "empty-folder").mkdir()
    assert "no documents found" in _fails(capsys, [tmp_path / "empty-folder"], tmp_path / "dataset")


def test_missing_input(tmp_path, capsys):
    assert "does not exist" in _fails(capsys, [tmp_path / "nowhere.jsonl"], tmp_path / "dataset")


def test_every_document_dropped(corpus, tmp_path, capsys):
    assert "all 60 documents were dropped" in _fails(capsys, [corpus], tmp_path / "dataset", "--min-tokens", "100")


def test_vocabulary_smaller_than_num_topics(corpus, tmp_path, capsys):
    assert "fewer than --num-topics 100" in _fails(capsys, [corpus], tmp_path / "dataset", "--num-topics", "100")


def test_no_word_passes_the_document_frequency_bounds(corpus, tmp_path, capsys):
    # Topic words are in 20 documents each, markers in one.
    assert "no word is left" in _fails(capsys, [corpus], tmp_path / "dataset", "--min-df", "30")


def test_contradictory_document_frequency_bounds(corpus, tmp_path, capsys):
    assert "allows fewer documents" in _fails(capsys, [corpus], tmp_path / "dataset", "--min-df", "0.9", "--max-df", "0.5")


def test_too_few_train_documents_for_the_shards(corpus, tmp_path, capsys):
    assert "cannot fill --train-shards 100" in _fails(capsys, [corpus], tmp_path / "dataset", "--train-shards", "100")


def test_each_split_needs_a_document(tmp_path, capsys):
    path = _write_jsonl(tmp_path / "c.jsonl", _documents(2))
    assert "need at least one each" in _fails(capsys, [path], tmp_path / "dataset", "--train-shards", "1")


def test_csv_without_the_text_column(tmp_path, capsys):
    (tmp_path / "c.csv").write_text("id,body\n1,orbit\n")
    assert "no 'text' column" in _fails(capsys, [tmp_path / "c.csv"], tmp_path / "dataset")


def test_fewer_shards_than_training_instances_is_a_usage_error(corpus, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _run([corpus], tmp_path / "dataset", "--min-train-shards", "4")
    assert exit_info.value.code == 2
    assert "fewer than --min-train-shards 4" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--min-df", "abc"], ["--max-df", "1.5"], ["--test-fraction", "0"], ["--validation-fraction", "0.6", "--test-fraction", "0.5"]])
def test_bad_option_values(corpus, tmp_path, option):
    with pytest.raises(SystemExit) as exit_info:
        _run([corpus], tmp_path / "dataset", *option)
    assert exit_info.value.code == 2


def test_document_frequency_bounds_are_counts_or_fractions():
    count, share = document_frequency_bound("2"), document_frequency_bound("1.0")
    assert (count, type(count)) == (2, int)
    assert (share, type(share)) == (1.0, float)


def test_failed_run_removes_an_earlier_dataset_and_its_manifest(corpus, tmp_path, capsys):
    output = tmp_path / "dataset"
    _run([corpus], output)
    _fails(capsys, [corpus], output, "--num-topics", "500")
    assert list(output.iterdir()) == []


def test_refuses_an_output_folder_holding_other_files(corpus, tmp_path, capsys):
    output = tmp_path / "dataset"
    output.mkdir()
    (output / "notes.txt").write_text("mine")
    (output / "train").mkdir()
    assert "not part of a dataset" in _fails(capsys, [corpus], output)
    assert sorted(entry.name for entry in output.iterdir()) == ["notes.txt", "train"]


def test_rerun_replaces_an_earlier_dataset(corpus, tmp_path):
    output = tmp_path / "dataset"
    _run([corpus], output, "--train-shards", "4")
    _run([corpus], output, "--train-shards", "2")
    assert len(list((output / "train").iterdir())) == 2


def test_command_line_exit_code_and_message(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text("{broken\n")
    result = subprocess.run(
        [sys.executable, "-m", "training.prepare", "--input", str(path), "--output", str(tmp_path / "dataset")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path}:1: not valid JSON")
    assert not (tmp_path / "dataset" / "manifest.json").exists()


def test_label_counts_survive_in_documents_jsonl(corpus, tmp_path):
    output = tmp_path / "dataset"
    _run([corpus], output)
    assert Counter(line["label"] for line in _document_lines(output)) == {"cars": 20, "food": 20, "space": 20}
    assert np.all([set(line) == {"id", "label", "title", "split"} for line in _document_lines(output)])


def test_markers_and_hidden_files_in_a_folder_are_not_documents(tmp_path):
    from training.preparation.corpus_readers import discover

    folder = tmp_path / "corpus"
    (folder / "sports").mkdir(parents=True)
    (folder / "sports" / "a.txt").write_text("a match report")
    (folder / "_START").write_text("")
    (folder / ".DS_Store").write_text("x")
    assert [file.name for file in discover([str(folder)])] == ["sports/a.txt"]
