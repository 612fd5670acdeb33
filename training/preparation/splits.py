"""Which split a document belongs to, decided by the document alone.

A document's split and its place in the train order come from a seeded hash of its id, not from a
permutation of the whole corpus: a shard of the corpus prepared on its own instance (several
processing instances, docs/corpus-preparation.md) then assigns every document exactly as one
machine preparing the whole corpus would. With the same seed a document keeps its split when other
documents are added or the corpus is cut into files differently; documents sharing an id share a
split (duplicates never straddle train and test).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

# Split codes, in the order of training.formats.dataset.SPLITS.
TRAIN, VALIDATION, TEST = range(3)
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def id_hash(document_id: object) -> int:
    """64 bits of the id's JSON form (ASCII, so every id encodes, whatever surrogates it holds)."""
    text = json.dumps(document_id, ensure_ascii=True, sort_keys=True)
    return int.from_bytes(hashlib.blake2b(text.encode("ascii"), digest_size=8).digest(), "little")


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: every input bit flips about half the output bits (uint64 arithmetic wraps)."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def split_positions(id_hashes: np.ndarray, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per document, fixed by its id hash and the seed."""
    offset = np.uint64((seed * _GOLDEN) & _MASK)
    return (_mix(id_hashes.astype(np.uint64) + offset) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def assign_splits(positions: np.ndarray, validation_fraction: float, test_fraction: float) -> np.ndarray:
    """Test below test_fraction, validation up to test + validation fraction, train above."""
    codes = np.full(len(positions), TRAIN, dtype=np.int8)
    codes[positions < test_fraction + validation_fraction] = VALIDATION
    codes[positions < test_fraction] = TEST
    return codes


def train_order(positions: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The train documents (indexes into `codes`) in a seeded random order: by their position."""
    train = np.flatnonzero(codes == TRAIN)
    return train[np.argsort(positions[train], kind="stable")]
