"""The counting pass's tokens, kept on disk so the encoding pass need not read or tokenize again.

Four files in a work folder: every token's run-wide term id (uint32, document after document),
each document's token count (uint32), whether it has a label (one byte) and its metadata line
(JSON). Reading back keeps about 17 bytes per document in memory, plus the block at hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import scipy.sparse


class TokenSpool:
    def __init__(self, folder: Path) -> None:
        self._tokens_path = folder / "tokens.u32"
        self._lengths_path = folder / "lengths.u32"
        self._labelled_path = folder / "labelled.u8"
        self._metadata_path = folder / "metadata.jsonl"
        self._tokens = open(self._tokens_path, "wb")
        self._lengths = open(self._lengths_path, "wb")
        self._labelled = open(self._labelled_path, "wb")
        self._metadata = open(self._metadata_path, "w", encoding="utf-8")

    def append(self, token_ids: np.ndarray, lengths: np.ndarray, labelled: np.ndarray, metadata: list[str]) -> None:
        self._tokens.write(token_ids.astype(np.uint32, copy=False).tobytes())
        self._lengths.write(lengths.astype(np.uint32, copy=False).tobytes())
        self._labelled.write(labelled.astype(np.uint8, copy=False).tobytes())
        self._metadata.writelines(f"{line}\n" for line in metadata)

    def close(self) -> None:
        for stream in (self._tokens, self._lengths, self._labelled, self._metadata):
            stream.close()

    def reader(self) -> SpoolReader:
        self.close()
        return SpoolReader(self._tokens_path, self._lengths_path, self._labelled_path, self._metadata_path)


class SpoolReader:
    def __init__(self, tokens: Path, lengths: Path, labelled: Path, metadata: Path) -> None:
        self.lengths = np.fromfile(lengths, dtype=np.uint32).astype(np.int64)
        self.labelled = np.fromfile(labelled, dtype=np.uint8).astype(bool)
        self._starts = np.cumsum(self.lengths) - self.lengths
        # Read, not memory-mapped: reading scattered documents through a mapping makes the kernel
        # map the pages around each one too, and the process's memory grows to the spool's size.
        self._tokens = open(tokens, "rb")
        self._labelled_path = labelled
        self._metadata = metadata

    def with_tokens(self, tokens: Path, lengths: Path) -> SpoolReader:
        """The same documents with rewritten tokens (phrases merged); this reader is closed."""
        self.close()
        return SpoolReader(tokens, lengths, self._labelled_path, self._metadata)

    @property
    def documents(self) -> int:
        return len(self.lengths)

    def tokens_of(self, documents: np.ndarray) -> np.ndarray:
        """The tokens of the given documents (any order), one document after the other."""
        starts, lengths = self._starts[documents], self.lengths[documents]
        tokens = np.empty(int(lengths.sum()), dtype=np.uint32)
        # Documents that follow each other in the spool are read in one go.
        positions = np.cumsum(lengths) - lengths
        run_first = np.flatnonzero(np.concatenate(([True], starts[1:] != starts[:-1] + lengths[:-1])))
        run_ends = np.append(positions[run_first[1:]], len(tokens))
        buffer = memoryview(tokens).cast("B")
        for start, position, end in zip(starts[run_first].tolist(), positions[run_first].tolist(), run_ends.tolist()):
            self._tokens.seek(4 * start)
            if self._tokens.readinto(buffer[4 * position : 4 * end]) != 4 * (end - position):
                raise OSError("the token spool is shorter than its lengths say")
        return tokens

    def close(self) -> None:
        self._tokens.close()

    def metadata(self) -> Iterator[str]:
        """Each document's metadata line, without its newline, in order."""
        with open(self._metadata, encoding="utf-8") as lines:
            for line in lines:
                yield line[:-1]

    def blocks(self, documents: np.ndarray, tokens_per_block: int) -> Iterator[np.ndarray]:
        """`documents` cut into consecutive runs of about `tokens_per_block` tokens."""
        ends = np.cumsum(self.lengths[documents])
        start = 0
        while start < len(documents):
            done = ends[start - 1] if start else 0
            stop = max(int(np.searchsorted(ends, done + tokens_per_block, "right")), start + 1)
            yield documents[start:stop]
            start = stop


def _known_per_document(token_columns: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    known = np.concatenate(([0], np.cumsum(token_columns >= 0)))
    ends = np.cumsum(lengths)
    return known[ends] - known[ends - lengths]


def known_tokens(tokens: np.ndarray, lengths: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """How many tokens of each document are vocabulary words (`columns` maps term ids, -1 = not)."""
    return _known_per_document(columns[tokens], lengths)


def bag_of_words(tokens: np.ndarray, lengths: np.ndarray, columns: np.ndarray, width: int) -> scipy.sparse.csr_matrix:
    """Word counts, one float32 CSR row per document, columns sorted as RecordIO readers expect."""
    token_columns = columns[tokens]
    indptr = np.concatenate(([0], np.cumsum(_known_per_document(token_columns, lengths))))
    counts = scipy.sparse.csr_matrix(
        (np.ones(int(indptr[-1]), dtype=np.float32), token_columns[token_columns >= 0], indptr), shape=(len(lengths), width)
    )
    counts.sum_duplicates()
    return counts
