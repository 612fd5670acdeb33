"""The documents to ask about: JSON Lines (one object a line with a text field and, optionally, an
id), or texts given on the command line. A line that cannot be a document becomes a
`DocumentError` in its place, so the output still accounts for it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Union


@dataclass(frozen=True)
class Document:
    id: object
    text: str


@dataclass(frozen=True)
class DocumentError:
    id: object
    error: str


Item = Union[Document, DocumentError]


def _document(number: int, raw: bytes, text_field: str, id_field: str) -> Item:
    where = f"line {number}"
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return DocumentError(where, f"{where}: not UTF-8 (byte {error.start} of the line)")
    try:
        record = json.loads(line)
    except ValueError as error:
        return DocumentError(where, f"{where}: not valid JSON ({error})")
    if not isinstance(record, dict):
        return DocumentError(where, f"{where}: a JSON {type(record).__name__}, not an object")
    document_id = record.get(id_field, where)
    text = record.get(text_field)
    if not isinstance(text, str):
        return DocumentError(document_id, f"{where}: no string field {text_field!r}")
    if not text.strip():
        return DocumentError(document_id, f"{where}: the text is empty")
    return Document(document_id, text)


def read_json_lines(stream: BinaryIO, text_field: str = "text", id_field: str = "id") -> Iterator[Item]:
    for number, raw in enumerate(stream, start=1):
        if raw.strip():
            yield _document(number, raw.rstrip(b"\r\n"), text_field, id_field)


def from_texts(texts: Iterable[str]) -> Iterator[Item]:
    for number, text in enumerate(texts, start=1):
        document_id = f"text {number}"
        yield Document(document_id, text) if text.strip() else DocumentError(document_id, "the text is empty")
