"""Pack documents into as few InvokeEndpoint requests as the limits allow: a request body of at most
6 MB (sagemaker-runtime's InvokeEndpoint Body, 6,291,456 bytes) and a document count that keeps
one request well inside the endpoint's 60 s to answer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ntm_client.documents import Document, DocumentError, Item

MAX_PAYLOAD_BYTES = 6_291_456
DEFAULT_DOCUMENTS_PER_REQUEST = 500
_ENVELOPE = len(b'{"instances": []}')


@dataclass
class Batch:
    """Documents for one request, and the request body (`{"instances": [{"text": ...}, ...]}`)."""

    documents: list[Document]
    instances: list[bytes]

    def body(self) -> bytes:
        return b'{"instances": [' + b", ".join(self.instances) + b"]}"

    @property
    def size(self) -> int:
        return _ENVELOPE + sum(map(len, self.instances)) + 2 * max(len(self.instances) - 1, 0)


def instance(document: Document) -> bytes:
    return json.dumps({"text": document.text}, ensure_ascii=False).encode("utf-8")


def batches(items: Iterable[Item], max_bytes: int = MAX_PAYLOAD_BYTES,
            max_documents: int = DEFAULT_DOCUMENTS_PER_REQUEST) -> Iterator[Batch | DocumentError]:
    """Batches in input order; a document too large for one request comes out as a DocumentError
    in its place (after the batch before it), as do the reader's errors."""
    current = Batch([], [])
    for item in items:
        if isinstance(item, DocumentError):
            if current.documents:
                yield current
                current = Batch([], [])
            yield item
            continue
        encoded = instance(item)
        if _ENVELOPE + len(encoded) > max_bytes:
            if current.documents:
                yield current
                current = Batch([], [])
            yield DocumentError(item.id, f"the document's request would be {_ENVELOPE + len(encoded):,} bytes, "
                                         f"over the endpoint's payload limit of {max_bytes:,}")
            continue
        if current.documents and (current.size + 2 + len(encoded) > max_bytes or len(current.documents) >= max_documents):
            yield current
            current = Batch([], [])
        current.documents.append(item)
        current.instances.append(encoded)
    if current.documents:
        yield current
