"""training.term_counts: counting shards apart and merging gives the single-machine vocabulary."""

from __future__ import annotations

import json
from pathlib import Path

from training.preparation import prepare, term_counts

WORDS = "orbit rocket launch engine wheel brake bread cheese olive pasta".split()


def _shard(path: Path, first: int, count: int) -> Path:
    # Word k appears in documents whose number is a multiple of k + 1: frequencies differ per word.
    lines = []
    for number in range(first, first + count):
        text = " ".join(word for rank, word in enumerate(WORDS) if number % (rank + 1) == 0)
        lines.append(json.dumps({"id": number, "text": f"{text} orbit"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_merged_counts_choose_the_vocabulary_of_one_run_over_everything(tmp_path):
    shards = [_shard(tmp_path / "a.jsonl", 0, 40), _shard(tmp_path / "b.jsonl", 40, 25)]
    for index, shard in enumerate(shards):
        assert term_counts.main(["count", "--input", str(shard), "--workers", "1", "--output", str(tmp_path / f"{index}.tsv")]) == 0
    # Over both shards (65 documents): cheese, olive and pasta reach --min-df only with the second
    # shard's documents, rocket (33) stays within --max-df only with all 65 documents counted, and
    # pasta (7 documents) is the one --vocab-size cuts.
    options = ["--vocab-size", "8", "--min-df", "6", "--max-df", "0.6"]
    assert term_counts.main(["vocabulary", "--counts", str(tmp_path / "0.tsv"), str(tmp_path / "1.tsv"), "--output", str(tmp_path / "vocab.txt"), *options]) == 0
    whole = tmp_path / "whole"
    assert prepare.main(["--input", *map(str, shards), "--output", str(whole), "--workers", "1", "--min-tokens", "1", "--train-shards", "1", *options]) == 0
    assert (tmp_path / "vocab.txt").read_text() == (whole / "auxiliary" / "vocab.txt").read_text()
    assert (tmp_path / "vocab.txt").read_text().split() == sorted(["rocket", "launch", "engine", "wheel", "brake", "bread", "cheese", "olive"])


def test_count_file_holds_documents_and_frequencies(tmp_path):
    shard = _shard(tmp_path / "a.jsonl", 0, 4)
    assert term_counts.main(["count", "--input", str(shard), "--workers", "1", "--output", str(tmp_path / "c.tsv")]) == 0
    lines = (tmp_path / "c.tsv").read_text().splitlines()
    assert lines[0] == "#documents\t4"
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:]}
    # Documents 0..3: orbit twice in each (as word 1 and as the suffix); rocket in documents 0 and 2.
    assert rows["rocket"] == ["2", "2"]
    assert rows["orbit"] == ["8", "4"]


def test_encoding_a_shard_with_the_shared_vocabulary(tmp_path):
    (tmp_path / "vocab.txt").write_text("rocket\nlaunch\n")
    shard = _shard(tmp_path / "a.jsonl", 0, 40)
    output = tmp_path / "part-0"
    assert prepare.main(["--input", str(shard), "--vocabulary", str(tmp_path / "vocab.txt"), "--output", str(output), "--workers", "1", "--min-tokens", "1", "--train-shards", "2"]) == 0
    assert json.loads((output / "manifest.json").read_text())["vocabulary_size"] == 2
    # The shared vocabulary is copied as it is, not re-sorted: every shard's feature i is the same word.
    assert (output / "auxiliary" / "vocab.txt").read_text() == "rocket\nlaunch\n"


def test_a_file_that_is_not_a_count_file(tmp_path, capsys):
    (tmp_path / "c.tsv").write_text("hello\n")
    assert term_counts.main(["vocabulary", "--counts", str(tmp_path / "c.tsv"), "--output", str(tmp_path / "v.txt")]) == 1
    assert "cannot read the count file" in capsys.readouterr().err
    assert not (tmp_path / "v.txt").exists()
