"""k-NN's verbose answers to neighbours.jsonl (training.similarity.neighbours)."""

from __future__ import annotations

import json

import pytest

from training.similarity import neighbours
from training.similarity.index import SimilarityInputError
from training.similarity.job import main

DOCUMENTS = [{"id": "a", "title": "A"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]


def answer(*predictions):
    return json.dumps({"predictions": [{"predicted_label": labels[0], "labels": labels, "distances": distances}
                                       for labels, distances in predictions]})


def test_each_document_keeps_its_k_nearest_others_in_order(tmp_path):
    folder = tmp_path / "predictions"
    folder.mkdir()
    # Two mini-batch answers in the first file, one in the second: order is file name, then position.
    (folder / "part-00000.csv.out").write_text(
        answer(([0.0, 1.0, 2.0], [0.0, 0.1, 0.3]), ([1.0, 0.0, 3.0], [0.0, 0.1, 0.2])) + "\n"
        + answer(([2.0, 3.0, 0.0], [0.0, 0.05, 0.3])) + "\n")
    (folder / "part-00001.csv.out").write_text(answer(([2.0, 3.0, 1.0], [0.0, 0.0, 0.4])) + "\n")
    (tmp_path / "documents.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCUMENTS))
    assert main(["neighbours", "--predictions", str(folder), "--documents", str(tmp_path / "documents.jsonl"),
                 "--k", "2", "--output", str(tmp_path / "out")]) == 0
    written = [json.loads(line) for line in (tmp_path / "out" / "neighbours.jsonl").read_text().splitlines()]
    assert written == [
        {"id": "a", "neighbours": [{"id": "b", "distance": 0.1}, {"id": "c", "distance": 0.3}]},
        {"id": "b", "neighbours": [{"id": "a", "distance": 0.1}, {"id": "d", "distance": 0.2}]},
        {"id": "c", "neighbours": [{"id": "d", "distance": 0.05}, {"id": "a", "distance": 0.3}]},
        # d's exact duplicate c came before d itself: d is left out wherever it stands.
        {"id": "d", "neighbours": [{"id": "c", "distance": 0.0}, {"id": "b", "distance": 0.4}]},
    ]
    assert neighbours.load_neighbours(tmp_path / "out" / "neighbours.jsonl")["c"][0] == {"id": "d", "distance": 0.05}


def test_answers_without_verbose_fields_are_refused(tmp_path):
    (tmp_path / "part-00000.csv.out").write_text(json.dumps({"predictions": [{"predicted_label": 1.0}]}))
    with pytest.raises(SimilarityInputError, match="verbose=true"):
        neighbours.read_predictions(tmp_path)


def test_a_count_mismatch_with_the_documents_is_refused(tmp_path):
    predictions = [{"labels": [0.0, 1.0], "distances": [0.0, 0.2]}]
    with pytest.raises(SimilarityInputError, match="1 predictions, the document list 4 documents"):
        neighbours.write_neighbours(DOCUMENTS, predictions, 1, tmp_path)


def test_with_itself_crowded_out_by_duplicates_the_first_k_hits_are_kept():
    prediction = {"labels": [1.0, 2.0], "distances": [0.0, 0.0]}
    assert neighbours.nearest_others(0, prediction, 1, 4) == [(1, 0.0)]


@pytest.mark.parametrize("labels", [[0.5, 1.0], [0.0, 9.0]])
def test_a_label_that_is_not_a_document_index_is_refused(labels):
    with pytest.raises(SimilarityInputError, match="is not a document index"):
        neighbours.nearest_others(0, {"labels": labels, "distances": [0.0, 0.1]}, 1, 4)


def test_too_few_hits_for_k_is_refused():
    with pytest.raises(SimilarityInputError, match="returned 2 neighbours, 3 others are needed"):
        neighbours.nearest_others(0, {"labels": [0.0, 1.0], "distances": [0.0, 0.1]}, 3, 4)
