"""Check a prepared dataset's manifest against the run about to train on it.

The manifest is the dataset's proof of completeness (docs/design.md, section 2): a run trains only
on a dataset whose manifest says it fits, and takes feature_dim from it.
"""

from __future__ import annotations

from typing import Any

SUPPORTED_FORMAT = 1
SPLITS = ("train", "validation", "test")


class DatasetError(ValueError):
    """The dataset cannot be trained on as it is; the message says what is wrong and where."""


def _count(manifest: dict[str, Any], split: str) -> int:
    value = manifest.get("documents", {}).get(split)
    if not isinstance(value, int) or isinstance(value, bool):
        raise DatasetError(f"manifest documents.{split}: expected a document count, got {value!r}")
    return value


def training_inputs(manifest: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """The dataset facts the training stage needs, with the complete hyperparameter map."""
    if manifest.get("format_version") != SUPPORTED_FORMAT:
        raise DatasetError(
            f"manifest format_version {manifest.get('format_version')!r} is not {SUPPORTED_FORMAT}; "
            "prepare the dataset again with this version of training.prepare"
        )
    vocabulary = manifest.get("vocabulary_size")
    if not isinstance(vocabulary, int) or isinstance(vocabulary, bool) or not 1 <= vocabulary <= 1_000_000:
        raise DatasetError(f"manifest vocabulary_size: {vocabulary!r} is not an integer from 1 to 1000000")
    for split in SPLITS:
        if _count(manifest, split) < 1:
            raise DatasetError(f"manifest documents.{split}: the {split} split is empty")
    candidates = run["training"]["candidates"]
    too_many = [c["num_topics"] for c in candidates if c["num_topics"] > vocabulary]
    if too_many:
        raise DatasetError(f"num_topics {too_many[0]} is larger than the dataset's vocabulary of {vocabulary} words")
    if run["deploy"]["enabled"] and not manifest.get("files", {}).get("serving"):
        raise DatasetError(
            "the dataset has no serving artifact (serving/model.tar.gz), which the endpoint's preprocessing "
            "needs: prepare it again with this version of training.prepare, or run with deploy_endpoint false"
        )
    shards = len(manifest.get("files", {}).get("train", []))
    instances = run["training"]["instance_count"]
    if shards < instances:
        raise DatasetError(
            f"the dataset has {shards} train file(s) for {instances} training instances; "
            "with ShardedByS3Key an instance without a file gets no data (prepare with more --train-shards)"
        )
    documents = sum(_count(manifest, split) for split in SPLITS)
    similar = run.get("similar", {})
    if similar.get("enabled") and similar["k"] >= documents:
        raise DatasetError(f"similar.k: {similar['k']} neighbours per document needs more than {similar['k']} "
                           f"documents, the dataset has {documents}; ask for fewer or set similar.enabled false")
    return {
        "vocabulary_size": vocabulary,
        "documents": documents,
        # One training job per candidate, each with the complete map CreateTrainingJob takes.
        "candidates": [
            dict(candidate, hyperparameters={**candidate["hyperparameters"], "feature_dim": str(vocabulary)})
            for candidate in candidates
        ],
    }
