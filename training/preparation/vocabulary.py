"""Count every distinct token of a corpus, then choose the vocabulary (the model's features).

The choice follows scikit-learn's CountVectorizer (the AWS 20 Newsgroups example used
`stop_words="english", max_features=2000, max_df=0.95, min_df=2`): keep tokens within the document
frequency bounds, drop stop words, keep the `size` most frequent (ties broken alphabetically, which
CountVectorizer leaves to its sort), and order the vocabulary alphabetically as CountVectorizer
does. Tokens that do not start with a letter (numbers, "_x") never become words.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from pathlib import Path
from typing import Union

import numpy as np

from training.preparation.errors import PrepareError
from training.preparation.tokenizer import TokenizedBatch

# A document frequency bound: a whole number counts documents, a fraction is a share of them.
Bound = Union[int, float]
_STARTS_WITH_LETTER = re.compile(r"[^\W\d_]")


class TermTable:
    """Term and document frequency of every distinct token seen, under ids stable for the run."""

    def __init__(self) -> None:
        self._ids = defaultdict(itertools.count().__next__)
        self.term_frequency = np.zeros(0, dtype=np.int64)
        self.document_frequency = np.zeros(0, dtype=np.int64)
        self.documents = 0

    def add(self, batch: TokenizedBatch) -> np.ndarray:
        """Add a batch's counts; returns the run-wide id of each of the batch's terms."""
        return self.add_counts(batch.terms, batch.term_frequency, batch.document_frequency, len(batch.document_lengths))

    def add_counts(self, terms: list[str], term_frequency: np.ndarray, document_frequency: np.ndarray, documents: int) -> np.ndarray:
        """Add the counts of `documents` documents (`terms` distinct); returns the terms' ids."""
        ids = np.fromiter(map(self._ids.__getitem__, terms), dtype=np.int64, count=len(terms))
        capacity = len(self.term_frequency)
        if len(self._ids) > capacity:
            extra = np.zeros(max(len(self._ids), 2 * capacity) - capacity, dtype=np.int64)
            self.term_frequency = np.concatenate((self.term_frequency, extra))
            self.document_frequency = np.concatenate((self.document_frequency, extra))
        self.term_frequency[ids] += term_frequency
        self.document_frequency[ids] += document_frequency
        self.documents += documents
        return ids

    @property
    def terms(self) -> list[str]:
        return list(self._ids)

    def columns(self, vocabulary: list[str]) -> np.ndarray:
        """For each term id, its column in `vocabulary`, or -1 for a term outside it."""
        columns = np.full(len(self._ids), -1, dtype=np.int32)
        for column, word in enumerate(vocabulary):
            term = self._ids.get(word)
            if term is not None:
                columns[term] = column
        return columns


def _document_count(bound: Bound, documents: int) -> float:
    return bound if isinstance(bound, int) else bound * documents


def eligible_terms(table: TermTable, term_ids: np.ndarray, stop_words: frozenset) -> np.ndarray:
    """Those of `term_ids` that may become vocabulary words: starting with a letter, no stop word."""
    terms = table.terms
    return np.array([term for term in term_ids.tolist() if terms[term] not in stop_words and _STARTS_WITH_LETTER.match(terms[term])],
                    dtype=np.int64)


def choose_vocabulary(table: TermTable, size: int, min_df: Bound, max_df: Bound, stop_words: frozenset[str]) -> list[str]:
    terms = table.terms
    seen = len(terms)
    frequency = table.term_frequency[:seen]
    document_frequency = table.document_frequency[:seen]
    lowest, highest = _document_count(min_df, table.documents), _document_count(max_df, table.documents)
    if highest < lowest:
        raise PrepareError(f"--max-df {max_df} allows fewer documents ({highest:g}) than --min-df {min_df} requires ({lowest:g})")
    within = np.flatnonzero((document_frequency >= lowest) & (document_frequency <= highest))
    # Alphabetical first, then a stable sort by falling frequency: equal counts stay alphabetical.
    ranked = np.array(sorted(eligible_terms(table, within, stop_words).tolist(), key=terms.__getitem__), dtype=np.int64)
    ranked = ranked[np.argsort(-frequency[ranked], kind="stable")]
    return sorted(terms[term] for term in ranked[:size])


def check_vocabulary(vocabulary: list[str], table: TermTable, options) -> None:
    """Fail on a vocabulary NTM cannot use: empty, or smaller than the number of topics asked for."""
    if not vocabulary:
        raise PrepareError(
            f"no word is left for the vocabulary from {table.documents:,} documents: "
            f"lower --min-df ({options.min_df}) or raise --max-df ({options.max_df})"
        )
    if options.num_topics and len(vocabulary) < options.num_topics:
        raise PrepareError(
            f"the vocabulary has {len(vocabulary):,} words, fewer than --num-topics {options.num_topics}: "
            "use a larger corpus, a lower --min-df, or fewer topics"
        )


def write_vocabulary(path: Path, vocabulary: list[str]) -> None:
    """vocab.txt as NTM's auxiliary channel wants it: UTF-8, one word a line, line i = feature i."""
    path.write_text("".join(f"{word}\n" for word in vocabulary), encoding="utf-8")


def read_vocabulary(path: Path) -> list[str]:
    """A vocabulary given with --vocabulary (one made by an earlier run, for instance)."""
    try:
        words = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise PrepareError(f"cannot read the vocabulary {path}: {error}") from None
    for number, word in enumerate(words, start=1):
        if not word or word != word.strip():
            raise PrepareError(f"{path}:{number}: a vocabulary line must be one word without spaces")
    if len(set(words)) != len(words):
        raise PrepareError(f"{path} lists a word more than once")
    return words
