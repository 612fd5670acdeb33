"""Split documents into terms and count them: the work the worker processes share.

The terms are text_terms.document_terms' (before phrases, which come later from the token spool),
computed in bulk: one regular-expression scan per document, the tokens mapped to the batch's ids
inside C, then each distinct token that is not a plain word judged once (text_terms.cached_terms)
and the batch's id stream rewritten with numpy.
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
from training.preparation.splits import id_hash
from training.preparation.text_cleaning import title
from training.preparation.text_terms import TextSettings, cached_terms, clean, raw_tokens


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
    id_hashes: np.ndarray  # uint64, per document: the hash of its id that decides its split
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
    Most tokens are plain words, their own single term: only the others are looked at (found and
    looked up inside C: map over the batch's distinct tokens). The id stream is rewritten with one
    gather; only the few occurrences of tokens that yield no term or several are then found and
    the stream repeated around them (each pass over the stream costs, and more so while the other
    workers use the memory too). Returns the batch's terms (no id left for a token that yields
    none), the rewritten ids and the documents' new lengths."""
    tokens = list(ids)
    count = len(tokens)
    # The tokens are JOINED_TOKEN's, 2+ characters: one of letters and digits only is its own term.
    # isalnum() is a quick test; a word token it rejects ("x_y") only takes the slower, same-result path.
    special = np.flatnonzero(~np.fromiter(map(str.isalnum, tokens), dtype=bool, count=count))
    if not len(special):
        return tokens, token_ids, lengths
    judged = list(map(cached_terms, map(tokens.__getitem__, special.tolist())))
    widths = np.fromiter(map(len, judged), dtype=np.int64, count=len(judged))
    # New pieces ("well-known" -> "known") get the next ids of `ids`, after the batch's tokens.
    piece_terms = list(itertools.chain.from_iterable(judged))
    pieces = np.fromiter(map(ids.__getitem__, piece_terms), dtype=np.int64, count=len(piece_terms))
    # A term id is kept unless it is only a special token's own (an address, "don't"): compact.
    used = np.ones(len(ids), dtype=bool)
    used[special] = False
    used[pieces] = True
    compact = np.cumsum(used) - 1
    terms = list(itertools.compress(list(ids), used.tolist()))
    piece_start = np.cumsum(widths) - widths
    # Each token's first term (a token that yields none keeps an id that is never read).
    first = compact[:count].astype(np.uint32)
    yielding = widths > 0
    first[special[yielding]] = compact[pieces[piece_start[yielding]]]
    expanded = first[token_ids]
    extra_terms = np.zeros(count, dtype=np.int64)  # -1: the token yields none, k: k more than one
    extra_terms[special] = widths - 1
    positions = np.flatnonzero((extra_terms != 0)[token_ids])
    if not len(positions):
        return terms, expanded, lengths
    token = token_ids[positions]
    extra = extra_terms[token]
    repeats = np.ones(len(token_ids), dtype=np.int64)
    repeats[positions] += extra
    expanded = np.repeat(expanded, repeats)
    several = extra > 0
    if several.any():
        # The later terms of each occurrence that yields several, set in place after its first.
        more = extra[several]
        starts = (positions + np.cumsum(extra) - extra)[several]
        first_piece = np.zeros(count, dtype=np.int64)
        first_piece[special] = piece_start
        occurrence = np.repeat(np.arange(len(more)), more)
        offset = np.arange(int(more.sum())) - np.repeat(np.cumsum(more) - more, more) + 1
        expanded[starts[occurrence] + offset] = compact[pieces[first_piece[token[several]][occurrence] + offset]]
    document_of = np.searchsorted(np.cumsum(lengths, dtype=np.int64), positions, side="right")
    new_lengths = lengths.astype(np.int64)
    np.add.at(new_lengths, document_of, extra)
    return terms, expanded, new_lengths.astype(np.uint32)


def id_stream(per_document: list) -> tuple:
    """A batch's tokens as ids: ({token: id} in order of first use, every token's id in order, tokens
    per document). Every lookup of a new token gives it the next id, all inside C (no Python loop
    per token)."""
    ids = defaultdict(itertools.count().__next__)
    lengths = np.fromiter(map(len, per_document), dtype=np.uint32, count=len(per_document))
    flat = itertools.chain.from_iterable(per_document)
    return ids, np.fromiter(map(ids.__getitem__, flat), dtype=np.uint32, count=int(lengths.sum())), lengths


def tokenize_batch(batch: RawBatch, settings: TokenizeSettings) -> TokenizedBatch:
    documents, undecodable = batch.documents(settings.fields)
    per_document = [raw_tokens(clean(document.text, settings.text), settings.text) for document in documents]
    ids, token_ids, lengths = id_stream(per_document)
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
        id_hashes=np.array([id_hash(document.id) for document in documents], dtype=np.uint64),
        undecodable_documents=undecodable,
    )
