"""A run's artifacts read back, checked against each other, and measured: what the report shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from training.common.errors import JobInputError
from training.evaluation import topic_metrics
from training.formats.dataset import (
    CORPUS_GLOB,
    DOCUMENTS,
    VOCABULARY,
    json_lines,
    load_corpus_matrix,
    load_documents,
    load_vocabulary,
    require,
)
from training.formats.ntm_artifact import load_decoder

TRANSFORM_OUTPUT_GLOB = "*.out"


class ReportInputError(JobInputError, ValueError):
    """The report's inputs are missing or do not fit together."""


@dataclass
class RunInputs:
    vocabulary: list[str]
    documents: list[dict]
    doc_term: sparse.csr_matrix  # documents x vocabulary, the corpus as the model saw it
    decoder: np.ndarray  # vocabulary x topics
    doc_topics: np.ndarray  # documents x topics, from the batch transform


@dataclass
class TopicReport:
    inputs: RunInputs
    top_indices: np.ndarray
    top_weights: np.ndarray
    uniqueness: np.ndarray
    coherence: np.ndarray
    prevalence: np.ndarray
    dominant_share: np.ndarray
    dominant: np.ndarray
    labels: list[str] | None

    @property
    def num_topics(self) -> int:
        return self.inputs.decoder.shape[1]

    def words(self, topic: int) -> list[str]:
        return [self.inputs.vocabulary[index] for index in self.top_indices[topic]]


def differ(what: str, left: str, left_count: int, right: str, right_count: int) -> ReportInputError:
    return ReportInputError(
        f"{what}: {left} has {left_count}, {right} has {right_count} (differs by {abs(left_count - right_count)})"
    )


def load_topic_weights(path: Path, num_topics: int) -> np.ndarray:
    """Batch-transform JSON Lines ({"topic_weights": [...]} per document) from a file or a folder of *.out."""
    files = sorted(path.glob(TRANSFORM_OUTPUT_GLOB)) if path.is_dir() else [require(path, "transform output")]
    if not files:
        raise ReportInputError(f"no transform output files {TRANSFORM_OUTPUT_GLOB} in {path}")
    rows = []
    for file in files:
        for number, record in json_lines(file):
            weights = record.get("topic_weights")
            if not isinstance(weights, list):
                raise ReportInputError(f"{file.name} line {number} has no topic_weights list")
            if len(weights) != num_topics:
                raise differ(
                    f"topic weights differ from the model's topics at {file.name} line {number}",
                    "the line", len(weights), "the decoder", num_topics,
                )
            rows.append(weights)
    try:
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), num_topics)
    except (TypeError, ValueError) as error:
        raise ReportInputError(f"topic weights in {path} are not all numbers: {error}") from error


def load_run(model: Path, dataset: Path, transform_output: Path) -> RunInputs:
    """Read a run's artifacts and check that their sizes agree."""
    decoder = load_decoder(require(model, "model"))
    vocabulary = load_vocabulary(dataset)
    if len(vocabulary) != decoder.shape[0]:
        raise differ("vocabulary size differs from the model", VOCABULARY, len(vocabulary),
                      "the decoder (rows)", decoder.shape[0])
    documents = load_documents(dataset)
    if not documents:
        raise ReportInputError(f"{DOCUMENTS} lists no documents")
    doc_term = load_corpus_matrix(dataset)
    if doc_term.shape[1] != len(vocabulary):
        raise differ("corpus width differs from the vocabulary", CORPUS_GLOB + " (columns)",
                      doc_term.shape[1], VOCABULARY, len(vocabulary))
    if doc_term.shape[0] != len(documents):
        raise differ("corpus records differ from documents", CORPUS_GLOB + " (records)",
                      doc_term.shape[0], DOCUMENTS, len(documents))
    doc_topics = load_topic_weights(transform_output, decoder.shape[1])
    if len(doc_topics) != len(documents):
        raise differ("transform output lines differ from documents", "the transform output",
                      len(doc_topics), DOCUMENTS, len(documents))
    return RunInputs(vocabulary, documents, doc_term, decoder, doc_topics)


def analyse(inputs: RunInputs, top_words: int) -> TopicReport:
    top_indices, top_weights = topic_metrics.top_words(inputs.decoder, top_words)
    has_labels = any("label" in document for document in inputs.documents)
    return TopicReport(
        inputs=inputs,
        top_indices=top_indices,
        top_weights=top_weights,
        uniqueness=topic_metrics.topic_uniqueness(top_indices),
        coherence=topic_metrics.npmi_coherence(top_indices, inputs.doc_term),
        prevalence=topic_metrics.topic_prevalence(inputs.doc_topics),
        dominant_share=topic_metrics.dominant_share(inputs.doc_topics),
        dominant=topic_metrics.dominant_topics(inputs.doc_topics),
        labels=[str(doc.get("label", "(none)")) for doc in inputs.documents] if has_labels else None,
    )
