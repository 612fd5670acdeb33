"""Split documents into terms and count them: the work the worker processes share.

The terms are text_terms.document_terms' (before phrases, which come later from the token spool),
computed in bulk: one regular-expression scan per document, then each distinct token of the batch
is judged once (text_terms.token_terms) and the batch's token stream is rewritten with numpy.
Which terms may become vocabulary words (those starting with a letter, like the AWS 20
Newsgroups example's tokenizer kept, and no stop words) is decided later, once per distinct term
(training.preparation.vocabulary).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from training.preparation.corpus_readers import Fields, RawBatch
from training.preparation.text_cleaning import title
from training.preparation.text_terms import TextSettings, clean, raw_tokens, token_terms


@dataclass(frozen=True)
class TokenizeSettings:
    fields: Fields
    text: TextSettings


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


def documents_per_term(token_ids: np.ndarray, lengths: np.ndarray, terms: int) -> np.ndarray:
    """Documents per term: a document x term matrix with its repeats merged has one entry each."""
    indptr = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
    matrix = scipy.sparse.csr_matrix((np.ones(len(token_ids), dtype=np.int32), token_ids, indptr), shape=(len(lengths), terms))
    matrix.sum_duplicates()
    return np.bincount(matrix.indices, minlength=terms)


def _expand_tokens(ids: dict, token_ids: np.ndarray, lengths: np.ndarray) -> tuple:
    """Replace each token by its terms (none, one or several), judged once per distinct token.
    Most tokens are plain words, their own single term: only the others go through token_terms."""
    tokens = list(ids)
    # isalnum() is a quick test; a word token it rejects ("x_y") only takes the slower, same-result path.
    special = [position for position, token in enumerate(tokens) if len(token) < 2 or not token.isalnum()]
    if not special:
        return tokens, token_ids, lengths
    expansions = [[ids[term] for term in token_terms(tokens[position])] for position in special]
    widths = np.ones(len(tokens), dtype=np.int64)
    widths[special] = [len(expansion) for expansion in expansions]
    first = np.cumsum(widths) - widths
    targets = np.arange(len(tokens), dtype=np.int64)[np.repeat(np.arange(len(tokens)), widths)]
    for position, expansion in zip(special, expansions):
        targets[first[position] : first[position] + len(expansion)] = expansion
    per_token = widths[token_ids]
    total = int(per_token.sum())
    # Output k comes from token j = repeat(arange, per_token)[k], as its (k - start of j)-th term.
    starts = np.repeat(np.cumsum(per_token) - per_token, per_token)
    expanded = targets[np.repeat(first[token_ids], per_token) + np.arange(total) - starts]
    ends = np.concatenate(([0], np.cumsum(per_token)))[np.cumsum(lengths.astype(np.int64))]
    new_lengths = np.diff(np.concatenate(([0], ends))).astype(np.uint32)
    # Ids of tokens that yield no term of their own (addresses, "don't") are dropped: compact.
    terms = list(ids)
    used = np.bincount(expanded, minlength=len(terms)) > 0
    compact = np.cumsum(used) - 1
    return [terms[term] for term in np.flatnonzero(used).tolist()], compact[expanded].astype(np.uint32), new_lengths


def tokenize_batch(batch: RawBatch, settings: TokenizeSettings) -> TokenizedBatch:
    documents, undecodable = batch.documents(settings.fields)
    per_document = [raw_tokens(clean(document.text, settings.text), settings.text) for document in documents]
    # Every lookup of a new token gives it the next id, all inside C (no Python loop per token).
    ids = defaultdict(itertools.count().__next__)
    lengths = np.fromiter(map(len, per_document), dtype=np.uint32, count=len(per_document))
    flat = itertools.chain.from_iterable(per_document)
    token_ids = np.fromiter(map(ids.__getitem__, flat), dtype=np.uint32, count=int(lengths.sum()))
    if settings.text.clean_text:
        terms, token_ids, lengths = _expand_tokens(ids, token_ids, lengths)
    else:
        terms = list(ids)
    return TokenizedBatch(
        terms=terms,
        term_frequency=np.bincount(token_ids, minlength=len(terms)),
        document_frequency=documents_per_term(token_ids, lengths, len(terms)),
        token_ids=token_ids,
        document_lengths=lengths,
        metadata=[_metadata(document.id, document.label, document.text) for document in documents],
        labelled=np.array([document.label is not None for document in documents], dtype=bool),
        undecodable_documents=undecodable,
    )
