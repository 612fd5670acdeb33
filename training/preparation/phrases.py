"""Phrases: neighbouring words that occur together far more often than chance become one term.

Chosen after the counting pass, from the token spool (no text is read or tokenized again):
1. candidates: words that could be vocabulary words (start with a letter, no stop word) seen at
   least `min_count` times, at most `max_candidates` of them, the most frequent first;
2. pair pass: every pair of neighbouring candidates is counted, block by block; memory holds the
   distinct candidate pairs seen, never the corpus;
3. selection: a pair (a, b) seen n_ab >= min_count times whose normalized pointwise mutual
   information NPMI = ln(p_ab / (p_a p_b)) / -ln(p_ab) is at least `threshold`, with p_ab = n_ab / N,
   p_a = n_a / N and N the corpus' tokens (the statistic of gensim's `npmi` scorer);
4. merge pass: the spool is rewritten with each selected pair merged, greedily left to right
   (text_terms.merge_phrases does the same for one document), and the terms counted again, so the
   vocabulary is chosen from the counts the dataset really has.
All counts in 2 and 4 add up over parts of the corpus (docs/corpus-preparation.md, Scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.preparation.text_terms import phrase_term
from training.preparation.token_spool import SpoolReader
from training.preparation.tokenizer import documents_per_term
from training.preparation.vocabulary import TermTable, eligible_terms


@dataclass(frozen=True)
class PhraseOptions:
    threshold: float  # least NPMI, in (0, 1]
    min_count: int  # least occurrences of the pair
    max_candidates: int  # words considered as a phrase's parts


def _neighbours(lengths: np.ndarray, tokens: int) -> np.ndarray:
    """For each token position i < n-1: does position i+1 belong to the same document?"""
    same = np.ones(max(tokens - 1, 0), dtype=bool)
    ends = np.cumsum(lengths)[:-1]
    ends = ends[(ends > 0) & (ends < tokens)]
    same[ends - 1] = False
    return same


def candidate_words(table: TermTable, stop_words: frozenset, options: PhraseOptions) -> np.ndarray:
    """A mask over term ids: the words a phrase may be made of."""
    seen = len(table.terms)
    frequency = table.term_frequency[:seen]
    eligible = eligible_terms(table, np.flatnonzero(frequency >= options.min_count), stop_words)
    ranked = eligible[np.argsort(-frequency[eligible], kind="stable")][: options.max_candidates]
    mask = np.zeros(seen, dtype=bool)
    mask[ranked] = True
    return mask


def _pair_codes(tokens: np.ndarray, lengths: np.ndarray, terms: int) -> tuple:
    tokens = tokens.astype(np.int64)
    return tokens[:-1] * terms + tokens[1:], _neighbours(lengths, len(tokens))


def count_pairs(reader: SpoolReader, candidates: np.ndarray, tokens_per_block: int) -> tuple:
    """Distinct neighbouring candidate pairs (as first * terms + second, sorted) and their counts."""
    terms = len(candidates)
    codes, counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    for block in reader.blocks(np.arange(reader.documents), tokens_per_block):
        tokens = reader.tokens_of(block)
        pairs, neighbours = _pair_codes(tokens, reader.lengths[block], terms)
        keep = neighbours & candidates[tokens[:-1]] & candidates[tokens[1:]]
        block_codes, block_counts = np.unique(pairs[keep], return_counts=True)
        codes, inverse = np.unique(np.concatenate((codes, block_codes)), return_inverse=True)
        counts = np.bincount(inverse, weights=np.concatenate((counts, block_counts)), minlength=len(codes)).astype(np.int64)
    return codes, counts


def select_phrases(codes: np.ndarray, counts: np.ndarray, table: TermTable, options: PhraseOptions) -> np.ndarray:
    """The codes of the pairs that become phrases, sorted."""
    terms = len(table.terms)
    total = float(table.term_frequency[:terms].sum())
    if not len(codes) or total == 0:
        return codes[:0]
    first, second = codes // terms, codes % terms
    joint = counts / total
    marginals = table.term_frequency[first] / total * (table.term_frequency[second] / total)
    with np.errstate(divide="ignore", invalid="ignore"):
        npmi = np.where(joint < 1.0, np.log(joint / marginals) / -np.log(joint), 1.0)
    return codes[(counts >= options.min_count) & (npmi >= options.threshold)]


def merge_tokens(tokens: np.ndarray, lengths: np.ndarray, phrase_codes: np.ndarray, terms: int) -> tuple:
    """Each selected neighbouring pair replaced by its phrase, greedily left to right; phrase k of
    the sorted `phrase_codes` gets term id terms + k. Returns the tokens and the new lengths."""
    if len(tokens) < 2 or not len(phrase_codes):
        return tokens, lengths
    pairs, neighbours = _pair_codes(tokens, lengths, terms)
    slot = np.minimum(np.searchsorted(phrase_codes, pairs), len(phrase_codes) - 1)
    is_phrase = neighbours & (phrase_codes[slot] == pairs)
    # In a run of overlapping phrase pairs, the greedy scan takes the 1st, 3rd, 5th ... of the run.
    position = np.arange(len(is_phrase))
    run_starts = is_phrase & ~np.concatenate(([False], is_phrase[:-1]))
    run_start = np.maximum.accumulate(np.where(run_starts, position, 0))
    taken = np.flatnonzero(is_phrase & ((position - run_start) % 2 == 0))
    merged = tokens.astype(np.uint32, copy=True)
    merged[taken] = terms + slot[taken]
    keep = np.ones(len(tokens), dtype=bool)
    keep[taken + 1] = False
    document_of = np.repeat(np.arange(len(lengths)), lengths)
    new_lengths = lengths - np.bincount(document_of[taken], minlength=len(lengths))
    return merged[keep], new_lengths


def apply_phrases(table: TermTable, reader: SpoolReader, work: Path, stop_words: frozenset, options: PhraseOptions,
                  tokens_per_block: int) -> tuple:
    """Find the phrases and merge them into the spool: (new table, new reader, phrase pairs)."""
    terms = table.terms
    codes, counts = count_pairs(reader, candidate_words(table, stop_words, options), tokens_per_block)
    phrase_codes = select_phrases(codes, counts, table, options)
    pairs = [(terms[code // len(terms)], terms[code % len(terms)]) for code in phrase_codes.tolist()]
    width = len(terms) + len(pairs)
    frequency, documents = np.zeros(width, dtype=np.int64), np.zeros(width, dtype=np.int64)
    tokens_path, lengths_path = work / "phrase-tokens.u32", work / "phrase-lengths.u32"
    with open(tokens_path, "wb") as token_file, open(lengths_path, "wb") as length_file:
        for block in reader.blocks(np.arange(reader.documents), tokens_per_block):
            merged, lengths = merge_tokens(reader.tokens_of(block), reader.lengths[block], phrase_codes, len(terms))
            token_file.write(merged.astype(np.uint32, copy=False).tobytes())
            length_file.write(lengths.astype(np.uint32).tobytes())
            frequency += np.bincount(merged, minlength=width)
            documents += documents_per_term(merged, lengths, width)
    merged_table = TermTable()
    merged_table.add_counts(terms + [phrase_term(*pair) for pair in pairs], frequency, documents, table.documents)
    return merged_table, reader.with_tokens(tokens_path, lengths_path), pairs
