"""The prepared dataset's layout (docs/design.md, section 2): writing it so that only a complete
dataset ever has a manifest.json, and reading it back."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import BinaryIO, Iterator

import scipy.sparse

from training.common.errors import JobInputError
from training.formats import recordio

MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
AUXILIARY = "auxiliary"
VOCABULARY = f"{AUXILIARY}/vocab.txt"
TRAIN, VALIDATION, TEST = "train", "validation", "test"
SPLITS = (TRAIN, VALIDATION, TEST)
TRANSFORM = "transform"
SERVING = "serving"  # the preprocessing container's model.tar.gz (training.preparation.serving_artifact)
CORPUS_GLOB = f"{TRANSFORM}/part-*.pbr"  # every document once, in documents.jsonl order
WORK_PREFIX = ".prepare-work-"
# Validation, test and transform files are cut every so many records, so that no single file
# grows without bound and a batch transform can spread the parts over several instances.
RECORDS_PER_PART = 100_000
_ENTRIES = frozenset((MANIFEST, DOCUMENTS, AUXILIARY, TRANSFORM, SERVING, *SPLITS))


class DatasetError(JobInputError):
    """A dataset folder that is missing files, or an output folder that cannot become one."""


def _ours(name: str) -> bool:
    return name in _ENTRIES or name.startswith(WORK_PREFIX)


def remove_dataset(output: Path) -> None:
    """Delete what a run writes, the manifest first so nothing half-removed looks complete."""
    if not output.is_dir():
        return
    (output / MANIFEST).unlink(missing_ok=True)
    for entry in output.iterdir():
        if _ours(entry.name):
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def clear_output(output: Path) -> None:
    """Make `output` an empty folder for a dataset, replacing an earlier dataset but nothing else."""
    if output.exists() and not output.is_dir():
        raise DatasetError(f"--output {output} is a file, not a folder")
    output.mkdir(parents=True, exist_ok=True)
    foreign = sorted(entry.name for entry in output.iterdir() if not _ours(entry.name))
    if foreign:
        raise DatasetError(f"--output {output} holds files that are not part of a dataset ({', '.join(foreign[:5])}); choose a new or empty folder")
    remove_dataset(output)


def write_manifest(output: Path, manifest: dict) -> None:
    """Write manifest.json atomically: a reader sees no manifest or the whole of it."""
    partial = output / f"{WORK_PREFIX}{MANIFEST}"
    partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, output / MANIFEST)


class PartWriter:
    """Sparse RecordIO rows into <folder>/part-00000.pbr, part-00001.pbr, ..."""

    def __init__(self, output: Path, folder: str, records_per_part: int | None = None, prefix: str = "part-") -> None:
        self._output = output
        self._prefix = prefix
        self._folder = output / folder
        self._folder.mkdir(parents=True, exist_ok=True)
        self._records_per_part = records_per_part
        self._stream: BinaryIO | None = None
        self._in_part = 0
        self.files: list[str] = []  # relative to the output folder

    def new_part(self) -> None:
        self.close()
        path = self._folder / f"{self._prefix}{len(self.files):05d}.pbr"
        self._stream = open(path, "wb")
        self._in_part = 0
        self.files.append(path.relative_to(self._output).as_posix())

    def write(self, rows: scipy.sparse.csr_matrix) -> None:
        start = 0
        while start < rows.shape[0]:
            if self._stream is None or (self._records_per_part and self._in_part >= self._records_per_part):
                self.new_part()
            room = self._records_per_part - self._in_part if self._records_per_part else rows.shape[0]
            stop = min(rows.shape[0], start + room)
            recordio.write_sparse(self._stream, rows[start:stop])
            self._in_part += stop - start
            start = stop

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


# --- reading a dataset back (report, comparison) ---

def require(path: Path, what: str) -> Path:
    """The path of an input file; a missing path or a folder is a clear input error, not a traceback."""
    if not path.exists():
        raise DatasetError(f"{what} not found: {path}")
    if not path.is_file():
        raise DatasetError(f"{what} is a folder, not a file: {path}")
    return path


def text_lines(path: Path) -> list[str]:
    # Only "\n" ends a line: str.splitlines() would also split words or JSON strings at U+2028 & co.
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def load_vocabulary(dataset: Path) -> list[str]:
    return [word.rstrip("\r") for word in text_lines(require(dataset / VOCABULARY, "vocabulary"))]


def json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(text_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{path.name} line {number} is not JSON: {error}") from error
        if not isinstance(record, dict):
            raise DatasetError(f"{path.name} line {number} is not a JSON object")
        yield number, record


def load_documents(dataset: Path) -> list[dict]:
    return [record for _, record in json_lines(require(dataset / DOCUMENTS, "document list"))]


def load_corpus_matrix(dataset: Path) -> scipy.sparse.csr_matrix:
    parts = sorted(dataset.glob(CORPUS_GLOB))
    if not parts:
        raise DatasetError(f"no corpus files {CORPUS_GLOB} under {dataset}")
    return scipy.sparse.vstack([recordio.read_sparse(part) for part in parts], format="csr")
