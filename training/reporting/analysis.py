"""A run's artifacts read back, checked against each other, and measured: what the report shows.

Besides the measures of training.evaluation.topic_metrics, the report's explorable views need:
- a 2-D map of the documents (t-SNE of their topic vectors, as the AWS NTM example draws it);
- an intertopic distance map: pyLDAvis's default (Sievert and Shirley, 2014, "LDAvis: A method for
  visualizing and interpreting topics"; pyLDAvis `js_PCoA`): Jensen-Shannon divergence between the
  topics' word distributions, placed in 2-D by principal coordinate analysis (classical scaling);
- words ranked by relevance, the same paper's definition: for topic t, word w and 0 <= lambda <= 1,
  relevance = lambda * log P(w | t) + (1 - lambda) * log(P(w | t) / P(w)), with P(w) the word's
  share of all tokens of the corpus (pyLDAvis's term frequency). The page computes it for any
  lambda from the candidate words chosen here;
- each topic's most representative documents (highest share of the topic) and each document's
  top topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn itself

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
RELEVANCE_TERMS = 30  # words listed per topic at each lambda (pyLDAvis's R)
RELEVANCE_LAMBDAS = np.round(np.linspace(0.0, 1.0, 11), 1)  # the page's lambda control moves in these steps
REPRESENTATIVE_DOCUMENTS = 10
TOP_TOPICS = 3  # a document's heaviest topics, shown when hovering it
# Up to this many documents, exact t-SNE is quick and avoids Barnes-Hut's thread start-up per step.
EXACT_TSNE_DOCUMENTS = 500
# Half of scikit-learn's default 1000 steps: the layout of topic shares has settled by then (the
# map is a picture, not a measurement) and the report's time halves.
TSNE_ITERATIONS = 500


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
    shares: np.ndarray  # documents x topics, each row summing to 1
    word_distributions: np.ndarray  # topics x vocabulary, P(word | topic)
    corpus_word_shares: np.ndarray  # vocabulary, P(word) over all tokens of the corpus

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
    term_counts = np.asarray(inputs.doc_term.sum(axis=0), dtype=np.float64).ravel()
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
        shares=topic_metrics.normalise_rows(inputs.doc_topics),
        word_distributions=topic_metrics.word_distributions(inputs.decoder).T,
        corpus_word_shares=term_counts / max(term_counts.sum(), 1.0),
    )


def tsne_embedding(shares: np.ndarray, max_documents: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """2-D t-SNE of (a seeded random sample of) the documents' topic shares: (row indices, coordinates)."""
    rows = len(shares)
    sample = np.sort(np.random.default_rng(seed).choice(rows, size=min(rows, max_documents), replace=False))
    if len(sample) < 3:  # t-SNE needs a few points; one or two are simply set apart
        return sample, np.column_stack([np.arange(len(sample), dtype=np.float64), np.zeros(len(sample))])
    # sklearn requires perplexity < samples; 30 is its default for larger sets.
    perplexity = max(0.5, min(30.0, (len(sample) - 1) / 3))
    method = "exact" if len(sample) <= EXACT_TSNE_DOCUMENTS else "barnes_hut"
    # scikit-learn 1.5 renamed n_iter (the 1.2-1 image's name) to max_iter.
    steps = "max_iter" if "max_iter" in TSNE().get_params() else "n_iter"
    embedding = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=seed,
                     method=method, **{steps: TSNE_ITERATIONS})
    # One thread: Barnes-Hut's OpenMP threads wait on each other at every step, which costs more
    # than they bring on a small or shared machine (measured: 4x the CPU time on 2 busy cores).
    with threadpool_limits(limits=1):
        return sample, embedding.fit_transform(shares[sample])


def jensen_shannon(distributions: np.ndarray) -> np.ndarray:
    """Pairwise Jensen-Shannon divergence (natural log) between the rows of `distributions`."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(distributions > 0, np.log(distributions), 0.0)
    entropy_terms = (distributions * logs).sum(axis=1)  # -H(P) per row
    count = len(distributions)
    divergence = np.zeros((count, count))
    for i in range(count):
        middle = 0.5 * (distributions[i] + distributions[i + 1:])
        with np.errstate(divide="ignore", invalid="ignore"):
            log_middle = np.where(middle > 0, np.log(middle), 0.0)
        cross = 0.5 * ((distributions[i] * log_middle).sum(axis=1) + (distributions[i + 1:] * log_middle).sum(axis=1))
        divergence[i, i + 1:] = 0.5 * (entropy_terms[i] + entropy_terms[i + 1:]) - cross
    divergence = np.maximum(divergence, 0.0)
    return divergence + divergence.T


def principal_coordinates(distances: np.ndarray) -> np.ndarray:
    """Classical scaling of a distance matrix into 2-D (the axes of the two largest eigenvalues)."""
    count = len(distances)
    centring = np.eye(count) - 1.0 / count
    inner = -0.5 * centring @ (distances ** 2) @ centring
    values, vectors = np.linalg.eigh(inner)
    order = np.argsort(values)[::-1][:2]
    coordinates = vectors[:, order] * np.sqrt(np.maximum(values[order], 0.0))
    if coordinates.shape[1] < 2:
        coordinates = np.column_stack([coordinates, np.zeros(count)])
    # eigh's sign is arbitrary: fix it so that the same topics give the same picture.
    signs = np.where(coordinates[np.argmax(np.abs(coordinates), axis=0), [0, 1]] < 0, -1.0, 1.0)
    return coordinates * signs


def intertopic_map(report: TopicReport) -> np.ndarray:
    """topics x 2 coordinates: Jensen-Shannon divergence between topics, by principal coordinates."""
    return principal_coordinates(jensen_shannon(report.word_distributions))


def relevance_candidates(report: TopicReport) -> np.ndarray:
    """Per topic, the word ids that rank among the RELEVANCE_TERMS most relevant at any lambda step."""
    log_topic = np.log(np.maximum(report.word_distributions, 1e-300))
    log_lift = log_topic - np.log(np.maximum(report.corpus_word_shares, 1e-300))
    terms = min(RELEVANCE_TERMS, log_topic.shape[1])
    candidates = []
    for topic in range(report.num_topics):
        chosen: set[int] = set()
        for weight in RELEVANCE_LAMBDAS:
            relevance = weight * log_topic[topic] + (1 - weight) * log_lift[topic]
            chosen.update(np.argpartition(-relevance, terms - 1)[:terms].tolist())
        candidates.append(np.array(sorted(chosen), dtype=np.int64))
    return candidates


def representative_documents(shares: np.ndarray, count: int) -> np.ndarray:
    """topics x count: the documents holding the largest share of each topic, largest first."""
    count = min(count, len(shares))
    return np.argsort(-shares.T, axis=1, kind="stable")[:, :count]


def top_topics(shares: np.ndarray, count: int) -> np.ndarray:
    """documents x count: each document's heaviest topics, heaviest first."""
    return np.argsort(-shares, axis=1, kind="stable")[:, : min(count, shares.shape[1])]
