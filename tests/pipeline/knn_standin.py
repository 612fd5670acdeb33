"""A stand-in for SageMaker's built-in k-NN: exact neighbours in numpy, and k-NN's own rules.

What it refuses, each from AWS's k-NN documentation (docs/design.md, section 10):
- channels: `train` (required) and `test` only; the training records must carry a label;
- hyperparameters: feature_dim, k, predictor_type and sample_size required, positive integers
  (predictor_type classifier | regressor); index_metric L2 | INNER_PRODUCT | COSINE, index_type
  faiss.Flat | faiss.IVFFlat | faiss.IVFPQ, and no INNER_PRODUCT or COSINE with IVFPQ; feature_dim
  must be the width of the data, at training and at inference;
- a stricter rule of its own (the pipeline never breaks it): k at most sample_size, sample_size at
  most the number of training records, so every query can be answered with k real neighbours.
Inference takes text/csv or application/jsonlines rows and answers application/json (optionally
`verbose=true`: labels and distances, nearest first) or application/jsonlines.

Its model.tar.gz holds the indexed vectors as an .npz of its own: a real k-NN artifact is opaque.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import numpy as np

from tests.harness import JobFailed, TrainingJobRun, TransformJobRun
from training.formats import recordio

REQUIRED = ("feature_dim", "k", "predictor_type", "sample_size")
CHOICES = {
    "predictor_type": ("classifier", "regressor"),
    "index_metric": ("L2", "INNER_PRODUCT", "COSINE"),
    "index_type": ("faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"),
    "dimension_reduction_type": ("sign", "fjlt"),
}
POSITIVE = ("feature_dim", "k", "sample_size", "dimension_reduction_target", "faiss_index_ivf_nlists", "faiss_index_pq_m")
MODEL_MEMBER = "knn-standin.npz"
# Records per answer object in JSON output, as a MultiRecord mini-batch would hold.
BATCH = 50


def is_knn_image(image: str) -> bool:
    return image.rsplit("/", 1)[-1].split(":")[0] == "knn"


def check_hyperparameters(hyperparameters: dict[str, str]) -> dict[str, Any]:
    missing = [name for name in REQUIRED if name not in hyperparameters]
    if missing:
        raise JobFailed(f"ClientError: missing required hyperparameter(s) {', '.join(missing)}")
    unknown = sorted(set(hyperparameters) - set(REQUIRED) - set(CHOICES) - set(POSITIVE))
    if unknown:
        raise JobFailed(f"ClientError: unknown hyperparameter(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, text in hyperparameters.items():
        if name in POSITIVE:
            if not text.isdigit() or int(text) < 1:
                raise JobFailed(f"ClientError: {name} must be a positive integer, got {text!r}")
            values[name] = int(text)
        elif text not in CHOICES[name]:
            raise JobFailed(f"ClientError: {name} must be one of {', '.join(CHOICES[name])}, got {text!r}")
        else:
            values[name] = text
    values.setdefault("index_metric", "L2")
    values.setdefault("index_type", "faiss.Flat")
    if values["index_type"] == "faiss.IVFPQ" and values["index_metric"] != "L2":
        raise JobFailed(f"ClientError: index_metric {values['index_metric']} is not supported with faiss.IVFPQ")
    return values


def _training_records(run: TrainingJobRun) -> tuple[np.ndarray, np.ndarray]:
    channels = {c["ChannelName"]: c for c in run.request["InputDataConfig"]}
    if "train" not in channels or set(channels) - {"train", "test"}:
        raise JobFailed(f"ClientError: channels {sorted(channels)}: k-NN takes train (required) and test")
    content_type = channels["train"].get("ContentType", "")
    if content_type != "application/x-recordio-protobuf":
        raise JobFailed(f"ClientError: the stand-in reads RecordIO-protobuf training data, not {content_type!r}")
    rows, labels = [], []
    for key, data in sorted(run.channel("train").items()):
        for record in recordio.read_records(io.BytesIO(data)):
            if "values" not in record.label:
                raise JobFailed(f"ClientError: a record of {key} has no label; k-NN trains on labelled records")
            tensor = record.features["values"]
            if tensor.keys is not None:
                row = np.zeros(tensor.shape[0], dtype=np.float32)
                row[tensor.keys.astype(np.int64)] = tensor.values
            else:
                row = np.asarray(tensor.values, dtype=np.float32)
            rows.append(row)
            labels.append(float(record.label["values"].values[0]))
    if not rows or len({len(row) for row in rows}) != 1:
        raise JobFailed("ClientError: the train channel holds no records, or records of different widths")
    return np.vstack(rows), np.asarray(labels, dtype=np.float32)


def train(run: TrainingJobRun) -> None:
    settings = check_hyperparameters(run.request["HyperParameters"])
    vectors, labels = _training_records(run)
    if vectors.shape[1] != settings["feature_dim"]:
        raise JobFailed(f"ClientError: feature_dim {settings['feature_dim']} does not match the data's "
                        f"{vectors.shape[1]} features")
    if settings["sample_size"] > len(vectors):
        raise JobFailed(f"ClientError: sample_size {settings['sample_size']} is larger than the "
                        f"{len(vectors)} training records")
    if settings["k"] > settings["sample_size"]:
        raise JobFailed(f"ClientError: k {settings['k']} is larger than sample_size {settings['sample_size']}")
    keep = np.sort(np.random.default_rng(0).choice(len(vectors), settings["sample_size"], replace=False))
    buffer = io.BytesIO()
    np.savez(buffer, vectors=vectors[keep], labels=labels[keep], k=settings["k"],
             metric=settings["index_metric"], predictor_type=settings["predictor_type"])
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo(MODEL_MEMBER)
        info.size = len(buffer.getvalue())
        tar.addfile(info, io.BytesIO(buffer.getvalue()))
    run.write_model(archive.getvalue())


def nearest(index: np.ndarray, queries: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest rows of `index` for each query: (row numbers, distances), nearest first, ties by row."""
    if metric == "COSINE":
        def unit(matrix: np.ndarray) -> np.ndarray:
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            return matrix / np.where(norms == 0, 1, norms)
        # Rounding can take 1 - cos a hair below 0; scikit-learn clips it the same way.
        distances = np.clip(1.0 - unit(queries) @ unit(index).T, 0.0, 2.0)
    elif metric == "INNER_PRODUCT":
        distances = -(queries @ index.T)
    else:
        distances = np.sqrt(np.maximum(((queries[:, None, :] - index[None, :, :]) ** 2).sum(axis=2), 0))
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(distances, order, axis=1)


def load_model(tarball: bytes) -> dict[str, Any]:
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        member = tar.extractfile(MODEL_MEMBER)
        if member is None:
            raise JobFailed("ClientError: the model is not a k-NN model")
        with np.load(io.BytesIO(member.read())) as saved:
            return {key: saved[key] for key in saved.files}


def _queries(data: bytes, content_type: str, width: int) -> np.ndarray:
    lines = [line for line in data.decode("utf-8").split("\n") if line.strip()]
    if content_type == "text/csv":
        rows = [[float(value) for value in line.split(",")] for line in lines]
    elif content_type == "application/jsonlines":
        rows = [json.loads(line)["features"] for line in lines]
    else:
        raise JobFailed(f"ClientError: the stand-in answers text/csv or application/jsonlines, not {content_type!r}")
    if any(len(row) != width for row in rows):
        raise JobFailed(f"ClientError: a request row does not have feature_dim {width} values")
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), width)


def answer(model: dict[str, Any], queries: np.ndarray, accept: str) -> str:
    """The transform output for `queries` in the Accept's format, one answer per line."""
    order, distances = nearest(model["vectors"], queries, int(model["k"]), str(model["metric"]))
    labels = model["labels"][order]
    verbose = "verbose=true" in accept.replace(" ", "")
    predictions = []
    for row_labels, row_distances in zip(labels, distances):
        values, counts = np.unique(row_labels, return_counts=True)
        predicted = float(values[np.argmax(counts)]) if str(model["predictor_type"]) == "classifier" else float(row_labels.mean())
        prediction = {"predicted_label": predicted}
        if verbose:
            prediction.update(distances=[float(d) for d in row_distances], labels=[float(v) for v in row_labels])
        predictions.append(prediction)
    if accept.startswith("application/jsonlines"):
        return "".join(json.dumps(p) + "\n" for p in predictions)
    if not accept.startswith("application/json"):
        raise JobFailed(f"ClientError: the stand-in answers application/json or application/jsonlines, not {accept!r}")
    return "".join(json.dumps({"predictions": predictions[start:start + BATCH]}) + "\n"
                   for start in range(0, len(predictions), BATCH))


def transform(run: TransformJobRun, tarball: bytes) -> None:
    model = load_model(tarball)
    request = run.request
    if request["TransformInput"].get("SplitType") != "Line":
        raise JobFailed("ClientError: CSV and JSON Lines requests are split by Line")
    content_type = request["TransformInput"]["ContentType"]
    accept = request["TransformOutput"].get("Accept", "application/json")
    for relative_key, data in run.inputs().items():
        queries = _queries(data, content_type, model["vectors"].shape[1])
        run.write_output(relative_key, answer(model, queries, accept).encode())
