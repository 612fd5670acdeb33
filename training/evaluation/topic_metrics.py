"""Pure, vectorised measures of a topic model: top words, uniqueness, coherence, prevalence.

Shapes: `decoder` is vocabulary x topics (NTM's `arg:projection_weight`), `top_indices` is
topics x n (word ids, best first), `doc_term` is documents x vocabulary, `doc_topics` is
documents x topics.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def word_distributions(decoder: np.ndarray) -> np.ndarray:
    """Softmax of every decoder column, as the AWS NTM example does: column k = P(word | topic k)."""
    shifted = decoder - decoder.max(axis=0, keepdims=True)  # for numerical stability only
    exp = np.exp(shifted.astype(np.float64))
    return exp / exp.sum(axis=0, keepdims=True)


def top_words(decoder: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The `n` heaviest words of each topic: (indices, softmax weights), both topics x n, best first."""
    weights = word_distributions(decoder).T  # topics x vocabulary
    # A stable sort breaks ties by word id, so the ranking is deterministic.
    indices = np.argsort(-weights, axis=1, kind="stable")[:, :n]
    return indices, np.take_along_axis(weights, indices, axis=1)


def topic_uniqueness(top_indices: np.ndarray) -> np.ndarray:
    """TU per topic (Nan et al., 2019; the NTM training log's `tu`).

    With cnt(w) = number of topics whose top-word list holds w,
    TU_k = (1/n) * sum over w in topic k's list of 1/cnt(w). Mean over topics = the model's TU;
    1 means no word is shared, 1/K means all K topics have the same words.
    """
    counts = np.bincount(top_indices.ravel())
    return (1.0 / counts[top_indices]).mean(axis=1)


def npmi_coherence(top_indices: np.ndarray, doc_term: sparse.spmatrix) -> np.ndarray:
    """Per-topic mean NPMI over all pairs of its top words, on document co-occurrence.

    p(w) = share of documents holding w, p(w1, w2) = share holding both;
    NPMI = log(p(w1, w2) / (p(w1) p(w2))) / -log p(w1, w2), in [-1, 1].
    Pairs that never co-occur score -1; pairs present in every document score 1.
    """
    documents = doc_term.shape[0]
    if documents == 0:
        raise ValueError("coherence needs at least one document")
    words, local = np.unique(top_indices, return_inverse=True)
    local = local.reshape(top_indices.shape)
    presence = (sparse.csc_matrix(doc_term)[:, words] > 0).astype(np.float64)
    joint = np.asarray((presence.T @ presence).todense()) / documents  # words x words
    marginal = np.diag(joint)

    pair_joint = joint[local[:, :, None], local[:, None, :]]  # topics x n x n
    pair_product = marginal[local][:, :, None] * marginal[local][:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        npmi = np.log(pair_joint / pair_product) / -np.log(pair_joint)
    npmi = np.where(pair_joint == 0, -1.0, npmi)
    npmi = np.where(pair_joint >= 1, 1.0, npmi)

    n = top_indices.shape[1]
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    if not upper.any():
        return np.zeros(top_indices.shape[0])
    return npmi[:, upper].mean(axis=1)


def normalise_rows(doc_topics: np.ndarray) -> np.ndarray:
    """Each document's topic weights scaled to sum to 1 (rows of zeros stay zero)."""
    totals = doc_topics.sum(axis=1, keepdims=True)
    return np.divide(doc_topics, totals, out=np.zeros_like(doc_topics, dtype=np.float64), where=totals > 0)


def topic_prevalence(doc_topics: np.ndarray) -> np.ndarray:
    """Mean share of each topic across documents (sums to 1 over topics)."""
    return normalise_rows(doc_topics).mean(axis=0)


def dominant_topics(doc_topics: np.ndarray) -> np.ndarray:
    """Each document's heaviest topic."""
    return np.argmax(doc_topics, axis=1)


def dominant_share(doc_topics: np.ndarray) -> np.ndarray:
    """Share of documents whose heaviest topic is k."""
    return np.bincount(dominant_topics(doc_topics), minlength=doc_topics.shape[1]) / len(doc_topics)


def label_topic_counts(labels: list[str], dominant: np.ndarray, num_topics: int) -> tuple[list[str], np.ndarray]:
    """Contingency table: (sorted label names, labels x topics counts of documents by dominant topic)."""
    names, label_ids = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    counts = np.zeros((len(names), num_topics), dtype=np.int64)
    np.add.at(counts, (label_ids, dominant), 1)
    return [str(name) for name in names], counts


def purity(counts: np.ndarray) -> float:
    """Purity of the topics against the labels, from a labels x topics count table.

    Each topic is credited with the documents of its most common label; purity is the credited
    share of all documents (1 = every topic holds a single label).
    """
    total = counts.sum()
    return float(counts.max(axis=0).sum() / total) if total else 0.0
