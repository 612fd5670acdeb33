"""The endpoint's request bodies (docs/design.md, section 10):

- `application/json`: `{"instances": [{"text": "..."}, ...]}`, NTM's own JSON request shape with a
  text instead of features;
- `application/jsonlines`: one `{"text": "..."}` object a line.

The serving library hands JSON over as text and other types as bytes (sagemaker-containers
`_worker.Request.content`, UTF8_TYPES), so both are accepted.
"""

from __future__ import annotations

import json
from typing import Union

JSON = "application/json"
JSON_LINES = "application/jsonlines"
REQUEST_TYPES = (JSON, JSON_LINES)
TEXT_FIELD = "text"


class RequestError(ValueError):
    """A request body that is not one of the documented shapes; the message says where."""


class UnsupportedContentType(RequestError):
    def __init__(self, content_type: str) -> None:
        super().__init__(f"content type {content_type!r} is not supported: send {' or '.join(REQUEST_TYPES)}")
        self.content_type = content_type


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _as_text(body: Union[str, bytes]) -> str:
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError(f"the request body is not UTF-8 (byte {error.start})") from None


def _text_of(instance: object, where: str) -> str:
    if not isinstance(instance, dict) or not isinstance(instance.get(TEXT_FIELD), str):
        raise RequestError(f"{where}: expected an object with a string field {TEXT_FIELD!r}")
    return instance[TEXT_FIELD]


def _json(document: str, where: str) -> object:
    try:
        return json.loads(document)
    except ValueError as error:
        raise RequestError(f"{where}: not valid JSON ({error})") from None


def parse_texts(body: Union[str, bytes], content_type: str | None) -> list[str]:
    """The documents' texts, in request order."""
    kind = media_type(content_type)
    if kind not in REQUEST_TYPES:
        raise UnsupportedContentType(kind)
    text = _as_text(body)
    if kind == JSON:
        request = _json(text, "the request")
        if not isinstance(request, dict) or not isinstance(request.get("instances"), list):
            raise RequestError('the request: expected {"instances": [{"text": "..."}, ...]}')
        return [_text_of(instance, f"instance {number}") for number, instance in enumerate(request["instances"])]
    # Only "\n" ends a line: U+2028 and friends may sit inside a JSON string.
    lines = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
    return [_text_of(_json(line, f"line {number}"), f"line {number}") for number, line in lines]
