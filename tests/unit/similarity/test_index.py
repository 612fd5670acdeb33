"""Topic vectors to k-NN's training set and query rows (training.similarity.index)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training.formats import recordio
from training.similarity import index
from training.similarity.job import main


def write_transform_output(folder, rows_per_file):
    folder.mkdir(parents=True, exist_ok=True)
    for number, rows in enumerate(rows_per_file):
        text = "".join(json.dumps({"topic_weights": row}) + "\n" for row in rows)
        (folder / f"part-{number:05d}.pbr.out").write_text(text)


def test_the_training_set_labels_each_vector_with_its_document_index_across_files(tmp_path):
    first = [[0.1, 0.9, 0.0], [0.5, 0.25, 0.25]]
    second = [[0.333333, 0.333333, 0.333334]]
    write_transform_output(tmp_path / "weights", [first, second])
    vectors = index.load_topic_vectors(tmp_path / "weights")
    summary = index.write_index_inputs(vectors, tmp_path / "out", rows_per_part=2)
    assert summary == {"documents": 3, "num_topics": 3}
    records = [record for part in sorted((tmp_path / "out" / "train").glob("*.pbr"))
               for record in recordio.read_records(part)]
    assert [float(r.label["values"].values[0]) for r in records] == [0.0, 1.0, 2.0]
    assert np.array_equal(np.array([r.features["values"].values for r in records]),
                          np.array(first + second, dtype=np.float32))
    assert all(r.features["values"].keys is None for r in records)  # dense, as k-NN's format shows
    queries = [line for part in sorted((tmp_path / "out" / "query").glob("*.csv")) for line in part.read_text().splitlines()]
    assert [[float(v) for v in line.split(",")] for line in queries] == first + second
    assert json.loads((tmp_path / "out" / "index.json").read_text()) == summary


@pytest.mark.parametrize("lines, message", [
    (['{"topic_weights": [0.5, 0.5]}', '{"topic_weights": [1.0]}'], "has 1 topic weights, the first line 2"),
    (['{"weights": [0.5, 0.5]}'], "has no topic_weights list"),
    (['{"topic_weights": [0.5, "x"]}'], "not all numbers"),
])
def test_bad_topic_weights_are_refused_with_the_line(tmp_path, lines, message):
    (tmp_path / "part-00000.pbr.out").write_text("\n".join(lines) + "\n")
    with pytest.raises(index.SimilarityInputError, match=message):
        index.load_topic_vectors(tmp_path)


def test_the_entrypoint_reports_a_missing_input_without_a_traceback(tmp_path, capsys):
    assert main(["index", "--topic-weights", str(tmp_path / "none"), "--output", str(tmp_path / "out")]) == 2
    assert "similar: error: no topic weight files" in capsys.readouterr().err
