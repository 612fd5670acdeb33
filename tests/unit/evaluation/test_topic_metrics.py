"""Topic measures on hand-computable cases (training.evaluation.topic_metrics)."""

import math

import numpy as np
import pytest
from scipy import sparse

from training.evaluation import topic_metrics


def test_word_distributions_are_column_softmaxes():
    decoder = np.array([[0.0, 1000.0], [math.log(3), 1000.0]])

    weights = topic_metrics.word_distributions(decoder)

    np.testing.assert_allclose(weights, [[0.25, 0.5], [0.75, 0.5]])


def test_top_words_rank_each_column_best_first_with_softmax_weights():
    decoder = np.zeros((6, 2))
    decoder[[4, 1, 3], 0] = [3.0, 2.0, 1.0]
    decoder[[0, 5], 1] = [5.0, 4.0]

    indices, weights = topic_metrics.top_words(decoder, 3)

    np.testing.assert_array_equal(indices, [[4, 1, 3], [0, 5, 1]])  # the tie (ids 1-4 in topic 1) goes to id 1
    np.testing.assert_allclose(weights[0], np.exp([3, 2, 1]) / (np.exp([3, 2, 1]).sum() + 3))
    assert indices.shape == weights.shape == (2, 3)


def test_top_words_cap_at_the_vocabulary():
    indices, _ = topic_metrics.top_words(np.eye(3), 10)

    assert indices.shape == (3, 3)


def test_uniqueness_of_shared_words():
    # word 1 is in both lists: each topic scores (1 + 1/2) / 2
    np.testing.assert_allclose(topic_metrics.topic_uniqueness(np.array([[0, 1], [1, 2]])), [0.75, 0.75])


def test_uniqueness_bounds():
    assert topic_metrics.topic_uniqueness(np.array([[0, 1], [2, 3], [4, 5]])).mean() == 1.0
    np.testing.assert_allclose(topic_metrics.topic_uniqueness(np.array([[0, 1], [1, 0], [0, 1]])), [1 / 3] * 3)


# Documents x words presence: word 0 in docs {0,1}, word 1 in {0,1}, word 2 in {2}, word 3 in {1,2}.
CORPUS = sparse.csr_matrix(np.array([[1, 2, 0, 0], [3, 1, 0, 1], [0, 0, 5, 1], [0, 0, 0, 0]]))


def test_npmi_by_hand():
    coherence = topic_metrics.npmi_coherence(np.array([[0, 1, 3], [0, 2, 3]]), CORPUS)
    # topic 0: (0,1) always together -> 1; (0,3) p=1/4=p0*p3 -> 0; (1,3) -> 0.
    # topic 1: (0,2) never together -> -1; (0,3) -> 0; (2,3): log(1/4 / (1/4*1/2)) / -log(1/4) = 1/2.
    np.testing.assert_allclose(coherence, [1 / 3, -1 / 6])


def test_npmi_of_words_in_every_document_is_one():
    everywhere = sparse.csr_matrix(np.ones((3, 2)))

    np.testing.assert_allclose(topic_metrics.npmi_coherence(np.array([[0, 1]]), everywhere), [1.0])


def test_npmi_needs_documents():
    with pytest.raises(ValueError, match="at least one document"):
        topic_metrics.npmi_coherence(np.array([[0, 1]]), sparse.csr_matrix((0, 2)))


def test_prevalence_normalises_each_document_first():
    doc_topics = np.array([[2.0, 2.0], [0.0, 1.0], [0.0, 0.0]])

    np.testing.assert_allclose(topic_metrics.topic_prevalence(doc_topics), [0.5 / 3, 1.5 / 3])


def test_dominant_topics_and_their_shares():
    doc_topics = np.array([[0.1, 0.9, 0.0], [0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]])

    np.testing.assert_array_equal(topic_metrics.dominant_topics(doc_topics), [1, 0, 1, 2])
    np.testing.assert_allclose(topic_metrics.dominant_share(doc_topics), [0.25, 0.5, 0.25])


def test_label_topic_counts_and_purity():
    names, counts = topic_metrics.label_topic_counts(["b", "a", "b", "a", "b"], np.array([0, 1, 0, 0, 2]), 3)

    assert names == ["a", "b"]
    np.testing.assert_array_equal(counts, [[1, 1, 0], [2, 0, 1]])
    assert topic_metrics.purity(counts) == pytest.approx(4 / 5)  # topic 0 -> b (2), 1 -> a (1), 2 -> b (1)
