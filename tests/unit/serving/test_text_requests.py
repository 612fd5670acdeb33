"""The endpoint's request shapes: what is accepted, and what is refused with which message."""

from __future__ import annotations

import json

import pytest

from training.serving.text_requests import RequestError, UnsupportedContentType, parse_texts


def test_json_instances_in_order_as_text_or_bytes():
    body = json.dumps({"instances": [{"text": "one"}, {"text": "two", "id": 7}, {"text": ""}]})
    assert parse_texts(body, "application/json") == ["one", "two", ""]
    assert parse_texts(body.encode(), "application/json; charset=utf-8") == ["one", "two", ""]


def test_json_lines_skip_blank_lines_and_keep_separators_inside_strings():
    body = '{"text": "a\\u2028b"}\n\n{"text": "c"}\r\n'.encode()
    assert parse_texts(body, "application/jsonlines") == ["a\u2028b", "c"]


@pytest.mark.parametrize("body, content_type, message", [
    ("{}", "application/json", 'expected {"instances"'),
    ('{"instances": [{"text": 1}]}', "application/json", "instance 0: expected an object with a string field 'text'"),
    ('{"instances": [{"text": "a"}, "b"]}', "application/json", "instance 1"),
    ("{not json", "application/json", "the request: not valid JSON"),
    ('{"text": "a"}\n[1]\n', "application/jsonlines", "line 2: expected an object"),
    ('{"text": "a"}\n{oops\n', "application/jsonlines", "line 2: not valid JSON"),
    (b'{"text": "\xff"}', "application/jsonlines", "not UTF-8 (byte 10)"),
])
def test_bad_bodies_name_the_place(body, content_type, message):
    with pytest.raises(RequestError, match=None) as raised:
        parse_texts(body, content_type)
    assert message in str(raised.value)


@pytest.mark.parametrize("content_type", ["text/csv", "application/x-recordio-protobuf", "", None])
def test_other_content_types_are_unsupported(content_type):
    with pytest.raises(UnsupportedContentType, match="send application/json or application/jsonlines"):
        parse_texts(b"1,2", content_type)
