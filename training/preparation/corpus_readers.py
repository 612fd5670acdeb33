"""Find the documents of a corpus in files and folders, and read them in batches.

Formats, told apart by the file name (an extra `.gz` means gzip-compressed):
- JSON Lines (`.jsonl`, `.ndjson`, `.json`): one JSON object per line; the text, id and label are
  the fields named by `Fields`. A line that is not a JSON object stops the run with its line number:
  a corpus with broken lines is better fixed than silently shrunk.
- CSV (`.csv`): a header row, then one document per row; the text column must exist, the id and
  label columns are optional.
- anything else is plain text, one document per file; inside a folder, a file's label is the name
  of the sub-folder holding it (the layout of 20 Newsgroups and of most labelled text corpora).

Bytes that are not UTF-8 are replaced by U+FFFD; each document that had some is counted.

The main process only splits the input into `RawBatch`es; `RawBatch.documents` does the parsing
and decoding, so it runs in the worker processes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

from training.preparation.errors import PrepareError

JSON_LINES, CSV, TEXT = "jsonl", "csv", "text"
_JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")
# A batch is cut at whichever limit comes first: enough work to pay for sending it to a worker.
BATCH_DOCUMENTS = 1000
BATCH_BYTES = 1 << 20
# Lone surrogates are what "surrogateescape" decoding leaves for bytes that are not UTF-8.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class Fields(NamedTuple):
    text: str = "text"
    id: str = "id"
    label: str = "label"


class Document(NamedTuple):
    id: object
    label: object  # None when unknown
    text: str


@dataclass(frozen=True)
class InputFile:
    path: Path
    name: str  # how ids and messages refer to the file
    format: str
    compressed: bool
    label: str | None  # the sub-folder name, for plain-text files inside a folder


@dataclass(frozen=True)
class RawBatch:
    """Consecutive raw documents, as cheap to cut in the main process as possible."""

    format: str
    source: str  # the file's name, for messages (plain-text items name their own files)
    # JSON Lines: (line number, raw line); CSV: (row number, id, label, text);
    # plain text: (path, id, label, compressed).
    items: tuple[tuple, ...]

    def documents(self, fields: Fields) -> tuple[list[Document], int]:
        """The batch's documents and how many of them held bytes that are not UTF-8."""
        parse = {JSON_LINES: _json_lines_documents, CSV: _csv_documents, TEXT: _text_documents}
        return parse[self.format](self, fields)


def _format_of(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[: -len(".gz")]
    if name.endswith(_JSON_LINES_SUFFIXES):
        return JSON_LINES, compressed
    return (CSV if name.endswith(".csv") else TEXT), compressed


def _input_file(path: Path, name: str, label: str | None) -> InputFile:
    file_format, compressed = _format_of(path)
    return InputFile(path, name, file_format, compressed, label if file_format == TEXT else None)


def _walk(folder: Path) -> Iterator[Path]:
    """Files under `folder` in a stable order, skipping hidden files and folders."""
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith((".", "_")))
        for name in sorted(files):
            # Hidden files and markers such as the upload trigger's `_START` (or Hadoop's `_SUCCESS`)
            # are not documents.
            if not name.startswith((".", "_")):
                yield Path(root, name)


def discover(paths: list[str]) -> list[InputFile]:
    """The input files of the given files and folders, in a stable order."""
    found = []
    for given in paths:
        path = Path(given)
        if path.is_file():
            found.append(_input_file(path, str(path), None))
        elif path.is_dir():
            for file in _walk(path):
                relative = file.relative_to(path)
                label = relative.parent.name if len(relative.parts) > 1 else None
                found.append(_input_file(file, relative.as_posix(), label))
        else:
            raise PrepareError(f"input {given} does not exist")
    return found


def _open_binary(path: Path, compressed: bool) -> IO[bytes]:
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def _decode(raw: bytes) -> tuple[str, bool]:
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), True


def _repair(text: str) -> tuple[str, bool]:
    """Replace what surrogateescape decoding left of undecodable bytes."""
    if _UNDECODABLE.search(text):
        return _UNDECODABLE.sub("\ufffd", text), True
    return text, False


def _batched(file_format: str, source: str, items: Iterator[tuple[tuple, int]]) -> Iterator[RawBatch]:
    """Group (item, size) pairs into batches of at most BATCH_DOCUMENTS items / BATCH_BYTES bytes."""
    batch, size = [], 0
    for item, item_size in items:
        batch.append(item)
        size += item_size
        if len(batch) >= BATCH_DOCUMENTS or size >= BATCH_BYTES:
            yield RawBatch(file_format, source, tuple(batch))
            batch, size = [], 0
    if batch:
        yield RawBatch(file_format, source, tuple(batch))


def _json_lines_items(file: InputFile) -> Iterator[tuple[tuple, int]]:
    with _open_binary(file.path, file.compressed) as stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield (number, line), len(line)


def _json_lines_documents(batch: RawBatch, fields: Fields) -> tuple[list[Document], int]:
    documents, undecodable = [], 0
    for number, line in batch.items:
        where = f"{batch.source}:{number}"
        text, replaced = _decode(line)
        undecodable += replaced
        try:
            record = json.loads(text)
        except ValueError as error:
            raise PrepareError(f"{where}: not valid JSON ({error}); JSON Lines needs one JSON object per line") from None
        if not isinstance(record, dict):
            raise PrepareError(f"{where}: a JSON {type(record).__name__}, not an object; JSON Lines needs one object per line")
        if fields.text not in record:
            raise PrepareError(f"{where}: no {fields.text!r} field (it has {', '.join(sorted(record)) or 'none'}); choose the text field with --text-field")
        body = record[fields.text]
        if body is not None and not isinstance(body, str):
            raise PrepareError(f"{where}: the {fields.text!r} field is a {type(body).__name__}, not a string")
        document_id = record.get(fields.id, where)
        documents.append(Document(document_id, record.get(fields.label), body or ""))
    return documents, undecodable


def _csv_items(file: InputFile, fields: Fields) -> Iterator[tuple[tuple, int]]:
    # utf-8-sig drops a byte-order mark; surrogateescape keeps undecodable bytes for _repair.
    with io.TextIOWrapper(_open_binary(file.path, file.compressed), encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        rows = csv.reader(stream)
        header = next(rows, None)
        if header is None:
            return
        if fields.text not in header:
            raise PrepareError(f"{file.name}: no {fields.text!r} column (it has {', '.join(header)}); choose the text column with --text-field")
        text_at = header.index(fields.text)
        id_at = header.index(fields.id) if fields.id in header else None
        label_at = header.index(fields.label) if fields.label in header else None
        for row in rows:
            if any(row):
                document_id = _cell(row, id_at) or f"{file.name}:{rows.line_num}"
                text = _cell(row, text_at) or ""
                yield (rows.line_num, document_id, _cell(row, label_at) or None, text), len(text)


def _cell(row: list[str], at: int | None) -> str | None:
    """A cell of a CSV row; None for a missing column or a short row."""
    return row[at] if at is not None and at < len(row) else None


def _csv_documents(batch: RawBatch, fields: Fields) -> tuple[list[Document], int]:
    documents, undecodable = [], 0
    for _, document_id, label, raw_text in batch.items:
        text, replaced = _repair(raw_text)
        undecodable += replaced
        documents.append(Document(_repair(document_id)[0], label and _repair(label)[0], text))
    return documents, undecodable


def _text_documents(batch: RawBatch, fields: Fields) -> tuple[list[Document], int]:
    documents, undecodable = [], 0
    for path, document_id, label, compressed in batch.items:
        with _open_binary(path, compressed) as stream:
            text, replaced = _decode(stream.read())
        undecodable += replaced
        documents.append(Document(document_id, label, text))
    return documents, undecodable


def read_batches(files: list[InputFile], fields: Fields) -> Iterator[RawBatch]:
    """Every document of every file, in order, cut into batches."""
    # Plain-text files hold one document each, so consecutive ones share batches.
    for is_text, group in itertools.groupby(files, key=lambda file: file.format == TEXT):
        if is_text:
            items = (((file.path, file.name, file.label, file.compressed), file.path.stat().st_size) for file in group)
            yield from _batched(TEXT, "plain-text files", items)
            continue
        for file in group:
            items = _json_lines_items(file) if file.format == JSON_LINES else _csv_items(file, fields)
            yield from _batched(file.format, file.name, items)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_inputs(paths: list[str]) -> list[dict]:
    """Path, size and SHA-256 of each input; a folder's digest covers its files' digests and names."""
    described = []
    for given in paths:
        path = Path(given)
        if path.is_file():
            described.append({"path": given, "files": 1, "bytes": path.stat().st_size, "sha256": _sha256(path)})
            continue
        files = list(_walk(path))
        listing = "".join(f"{_sha256(file)}  {file.relative_to(path).as_posix()}\n" for file in files)
        described.append(
            {
                "path": given,
                "files": len(files),
                "bytes": sum(file.stat().st_size for file in files),
                "sha256": hashlib.sha256(listing.encode("utf-8", "surrogateescape")).hexdigest(),
            }
        )
    return described
