"""The NTM batch transform's topic vectors, turned into what SageMaker k-NN reads.

- `train/part-*.pbr`: the k-NN training set, RecordIO-protobuf, one dense float32 record per
  document, its label the document's index in documents.jsonl (k-NN training input formats).
- `query/part-*.csv`: the same vectors as headerless CSV rows, the k-NN batch transform's input
  (text/csv, label_size 0), in documents.jsonl order.
- `index.json`: how many documents and topics, for the stage and the tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from training.common.errors import JobInputError
from training.formats import recordio
from training.formats.dataset import json_lines

TOPIC_WEIGHTS_GLOB = "*.out"
TRAIN, QUERY, SUMMARY = "train", "query", "index.json"
ROWS_PER_PART = 100_000
# Labels travel as float32 (k-NN's training format): every integer up to 2**24 is exact.
MAX_DOCUMENTS = 2**24


class SimilarityInputError(JobInputError, ValueError):
    """Inputs of the similarity stage that are missing or do not fit together."""


def load_topic_vectors(folder: Path) -> np.ndarray:
    """The NTM transform output ({"topic_weights": [...]} a line), its files in name order: one row per document."""
    files = sorted(folder.glob(TOPIC_WEIGHTS_GLOB)) if folder.is_dir() else []
    if not files:
        raise SimilarityInputError(f"no topic weight files {TOPIC_WEIGHTS_GLOB} in {folder}")
    rows: list[list[float]] = []
    for file in files:
        for number, record in json_lines(file):
            weights = record.get("topic_weights")
            if not isinstance(weights, list) or not weights:
                raise SimilarityInputError(f"{file.name} line {number} has no topic_weights list")
            if rows and len(weights) != len(rows[0]):
                raise SimilarityInputError(f"{file.name} line {number} has {len(weights)} topic weights, "
                                           f"the first line {len(rows[0])}")
            rows.append(weights)
    if not rows:
        raise SimilarityInputError(f"the topic weight files in {folder} hold no lines")
    try:
        return np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise SimilarityInputError(f"topic weights in {folder} are not all numbers: {error}") from error


def write_index_inputs(vectors: np.ndarray, output: Path, rows_per_part: int = ROWS_PER_PART) -> dict:
    """Write the training set and the query rows for `vectors` (documents x topics)."""
    documents, topics = vectors.shape
    if documents > MAX_DOCUMENTS:
        raise SimilarityInputError(f"{documents} documents: k-NN's float32 labels hold document indices up to {MAX_DOCUMENTS}")
    (output / TRAIN).mkdir(parents=True, exist_ok=True)
    (output / QUERY).mkdir(parents=True, exist_ok=True)
    for part, start in enumerate(range(0, documents, rows_per_part)):
        rows = vectors[start:start + rows_per_part]
        labels = np.arange(start, start + len(rows), dtype=np.float32)
        with open(output / TRAIN / f"part-{part:05d}.pbr", "wb") as stream:
            recordio.write_dense(stream, rows.astype(np.float32), labels)
        # The numbers as the transform wrote them: k-NN reads both files into the same float32 values.
        lines = "".join(",".join(map(repr, row.tolist())) + "\n" for row in rows)
        (output / QUERY / f"part-{part:05d}.csv").write_text(lines, encoding="utf-8")
    summary = {"documents": documents, "num_topics": topics}
    (output / SUMMARY).write_text(json.dumps(summary) + "\n", encoding="utf-8")
    return summary
