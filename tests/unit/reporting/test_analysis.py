"""training.reporting.analysis: the intertopic map, relevance candidates and document rankings."""

import math

import numpy as np
import pytest

from training.reporting import analysis


def test_jensen_shannon_is_symmetric_zero_on_itself_and_ln2_for_disjoint_distributions():
    distributions = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 0.25, 0.25]])
    divergence = analysis.jensen_shannon(distributions)
    assert np.allclose(divergence, divergence.T) and np.allclose(np.diag(divergence), 0)
    assert divergence[0, 1] == pytest.approx(math.log(2))
    # Against the definition: the mean of both KL divergences from the midpoint distribution.
    middle = (distributions[0] + distributions[2]) / 2
    def kl(p, q):
        return sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)
    assert divergence[0, 2] == pytest.approx((kl(distributions[0], middle) + kl(distributions[2], middle)) / 2)


def test_principal_coordinates_recover_distances_of_points_in_a_plane():
    points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0], [3.0, 4.0], [1.0, 2.0]])
    distances = np.linalg.norm(points[:, None] - points[None], axis=2)
    placed = analysis.principal_coordinates(distances)
    assert np.allclose(np.linalg.norm(placed[:, None] - placed[None], axis=2), distances)


def test_principal_coordinates_of_two_topics_lie_on_a_line():
    placed = analysis.principal_coordinates(np.array([[0.0, 2.0], [2.0, 0.0]]))
    assert placed.shape == (2, 2) and np.allclose(placed[:, 1], 0)
    assert abs(placed[0, 0] - placed[1, 0]) == pytest.approx(2.0)


class _Report:
    """The fields of a TopicReport that relevance_candidates reads."""

    def __init__(self, word_distributions, corpus_word_shares):
        self.word_distributions = np.asarray(word_distributions, dtype=float)
        self.corpus_word_shares = np.asarray(corpus_word_shares, dtype=float)
        self.num_topics = len(self.word_distributions)


def test_relevance_candidates_hold_the_top_words_at_lambda_one_and_zero(monkeypatch):
    monkeypatch.setattr(analysis, "RELEVANCE_TERMS", 2)
    # Word 0 is frequent everywhere; word 3 is rare in the corpus but specific to topic 0.
    topic = [0.6, 0.25, 0.1, 0.05]
    corpus = [0.7, 0.2, 0.095, 0.005]
    (candidates,) = analysis.relevance_candidates(_Report([topic], corpus))
    assert {0, 1} <= set(candidates)  # lambda = 1: by P(w | t)
    assert {3, 1} <= set(candidates)  # lambda = 0: by lift, 10 and 1.25


def test_representative_documents_and_top_topics_are_ranked_by_share():
    shares = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4], [0.2, 0.2, 0.6]])
    assert analysis.representative_documents(shares, 2).tolist() == [[0, 2], [1, 0], [3, 2]]
    assert analysis.top_topics(shares, 2).tolist() == [[0, 1], [1, 0], [0, 2], [2, 0]]


def test_tsne_of_one_or_two_documents_sets_them_apart_without_failing():
    rows, coordinates = analysis.tsne_embedding(np.array([[1.0, 0.0], [0.0, 1.0]]), 10)
    assert rows.tolist() == [0, 1] and coordinates.shape == (2, 2) and not np.allclose(coordinates[0], coordinates[1])
