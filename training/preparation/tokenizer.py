"""Split documents into tokens and count them: the work the worker processes share.

A token is a run of at least two word characters, lower-cased: scikit-learn CountVectorizer's
default rule. Which tokens may become vocabulary words (those starting with a letter, like the
AWS 20 Newsgroups example's tokenizer kept, and no stop words) is decided later, once per
distinct token (training.preparation.vocabulary): the counts of every word kept are the same, and the
tokenizer stays one regular-expression scan per document.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from training.preparation.corpus_readers import Fields, RawBatch
from training.preparation.text_cleaning import clean_message, title

TOKEN = re.compile(r"\w\w+")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


@dataclass(frozen=True)
class TokenizeSettings:
    fields: Fields
    strip_headers: bool


@dataclass(frozen=True)
class TokenizedBatch:
    """A batch's words as ids into its own `terms`, with what the counting pass adds up."""

    terms: list[str]
    term_frequency: np.ndarray  # tokens per term
    document_frequency: np.ndarray  # documents per term
    token_ids: np.ndarray  # uint32, every token of every document, in order
    document_lengths: np.ndarray  # uint32, tokens per document
    metadata: list[str]  # per document, the JSON object {"id": ..., "label": ..., "title": ...}
    labelled: np.ndarray  # bool, per document: has a label
    undecodable_documents: int


def _metadata(document_id: object, label: object, text: str) -> str:
    fields = {"id": document_id} if label is None else {"id": document_id, "label": label}
    return json.dumps({**fields, "title": title(text)}, ensure_ascii=False)


def _document_frequency(token_ids: np.ndarray, lengths: np.ndarray, terms: int) -> np.ndarray:
    """Documents per term: a document x term matrix with its repeats merged has one entry each."""
    indptr = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
    matrix = scipy.sparse.csr_matrix((np.ones(len(token_ids), dtype=np.int32), token_ids, indptr), shape=(len(lengths), terms))
    matrix.sum_duplicates()
    return np.bincount(matrix.indices, minlength=terms)


def tokenize_batch(batch: RawBatch, settings: TokenizeSettings) -> TokenizedBatch:
    documents, undecodable = batch.documents(settings.fields)
    texts = (document.text for document in documents)
    if settings.strip_headers:
        texts = map(clean_message, texts)
    per_document = [tokens(text) for text in texts]
    # Every lookup of a new token gives it the next id, all inside C (no Python loop per token).
    ids = defaultdict(itertools.count().__next__)
    lengths = np.fromiter(map(len, per_document), dtype=np.uint32, count=len(per_document))
    flat = itertools.chain.from_iterable(per_document)
    token_ids = np.fromiter(map(ids.__getitem__, flat), dtype=np.uint32, count=int(lengths.sum()))
    return TokenizedBatch(
        terms=list(ids),
        term_frequency=np.bincount(token_ids, minlength=len(ids)),
        document_frequency=_document_frequency(token_ids, lengths, len(ids)),
        token_ids=token_ids,
        document_lengths=lengths,
        metadata=[_metadata(document.id, document.label, document.text) for document in documents],
        labelled=np.array([document.label is not None for document in documents], dtype=bool),
        undecodable_documents=undecodable,
    )
