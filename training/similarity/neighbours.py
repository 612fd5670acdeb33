"""k-NN's batch transform answers, turned into `neighbours.jsonl`: each document's nearest others.

k-NN is asked with `Accept: application/json; verbose=true`, so each answer is
`{"predictions": [{"predicted_label": ..., "labels": [...], "distances": [...]}, ...]}`, distances
sorted from smallest to largest (k-NN request and response formats). With MultiRecord batches and
AssembleWith Line an output file is a sequence of such objects, one per mini-batch, in input order.
The labels are document indices (training.similarity.index), so the index is trained with one
neighbour more than a run asks for: the nearest hit of a document is normally itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from training.formats.dataset import json_lines, require
from training.similarity.index import SimilarityInputError

PREDICTIONS_GLOB = "*.out"
NEIGHBOURS = "neighbours.jsonl"


def _json_values(text: str, name: str) -> Iterator[Any]:
    decoder, position = json.JSONDecoder(), 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise SimilarityInputError(f"{name} is not a sequence of k-NN JSON answers: {error}") from error
        yield value


def read_predictions(folder: Path) -> list[dict]:
    """Every prediction of the k-NN transform output, files in name order (= documents order)."""
    files = sorted(folder.glob(PREDICTIONS_GLOB)) if folder.is_dir() else []
    if not files:
        raise SimilarityInputError(f"no k-NN output files {PREDICTIONS_GLOB} in {folder}")
    predictions = []
    for file in files:
        for answer in _json_values(file.read_text(encoding="utf-8"), file.name):
            batch = answer.get("predictions") if isinstance(answer, dict) else None
            if not isinstance(batch, list):
                raise SimilarityInputError(f"{file.name}: an answer without a predictions list (was verbose=true asked?)")
            for prediction in batch:
                if not (isinstance(prediction, dict) and isinstance(prediction.get("labels"), list)
                        and isinstance(prediction.get("distances"), list)
                        and len(prediction["labels"]) == len(prediction["distances"])):
                    raise SimilarityInputError(f"{file.name}: a prediction without matching labels and distances "
                                               "(k-NN answers them only with verbose=true)")
                predictions.append(prediction)
    return predictions


def nearest_others(index: int, prediction: dict, k: int, documents: int) -> list[tuple[int, float]]:
    """The k nearest documents other than `index`, nearest first, as (document index, distance)."""
    hits = []
    for label, distance in zip(prediction["labels"], prediction["distances"]):
        neighbour = int(label)
        if neighbour != label or not 0 <= neighbour < documents:
            raise SimilarityInputError(f"document {index}: label {label!r} is not a document index")
        hits.append((neighbour, float(distance)))
    # Itself is usually first; with exact duplicates it may come later, or fall off the list.
    others = [hit for hit in hits if hit[0] != index]
    if len(others) < min(k, documents - 1):
        raise SimilarityInputError(f"document {index}: k-NN returned {len(hits)} neighbours, {k} others are needed")
    return others[:k]


def write_neighbours(documents: list[dict], predictions: list[dict], k: int, output: Path) -> Path:
    if len(predictions) != len(documents):
        raise SimilarityInputError(f"the k-NN output has {len(predictions)} predictions, the document list "
                                   f"{len(documents)} documents: they must match line for line")
    output.mkdir(parents=True, exist_ok=True)
    path = output / NEIGHBOURS
    with open(path, "w", encoding="utf-8") as stream:
        for index, (document, prediction) in enumerate(zip(documents, predictions)):
            neighbours = [{"id": documents[other]["id"], "distance": round(distance, 6)}
                          for other, distance in nearest_others(index, prediction, k, len(documents))]
            stream.write(json.dumps({"id": document["id"], "neighbours": neighbours}, ensure_ascii=False) + "\n")
    return path


def collect(predictions_folder: Path, documents_file: Path, k: int, output: Path) -> Path:
    documents = [record for _, record in json_lines(require(documents_file, "document list"))]
    return write_neighbours(documents, read_predictions(predictions_folder), k, output)


def load_neighbours(path: Path) -> dict[str, list[dict]]:
    """neighbours.jsonl read back: document id -> its neighbours ({"id", "distance"}), nearest first."""
    found = {}
    for number, record in json_lines(require(path, "neighbours file")):
        if "id" not in record or not isinstance(record.get("neighbours"), list):
            raise SimilarityInputError(f"{path.name} line {number} has no id and neighbours list")
        found[str(record["id"])] = record["neighbours"]
    return found

