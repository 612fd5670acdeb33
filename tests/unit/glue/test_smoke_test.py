"""The smoke test's verdict: dominant topics of the endpoint against the batch transform's."""

import json

from ntm_glue.smoke_test import SmokeDocument, compare, dominant, failed_call, parse_smoke_documents

DOCUMENTS = [SmokeDocument(row, f"doc-{row}", f"text {row}") for row in range(5)]
TRANSFORM = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1], [0.3, 0.3, 0.4]]


def test_dominant_topic_prefers_the_lowest_topic_on_a_tie():
    assert dominant([0.2, 0.5, 0.5]) == 1 and dominant([0.9, 0.1]) == 0


def test_identical_answers_pass():
    result = compare(DOCUMENTS, TRANSFORM, TRANSFORM)
    assert result["passed"] and result["agreed"] == 5 and result["needed"] == 4


def test_one_document_in_five_may_differ_two_may_not():
    one = [list(row) for row in TRANSFORM]
    one[3] = [0.1, 0.8, 0.1]
    assert compare(DOCUMENTS, TRANSFORM, one)["passed"]
    two = [list(row) for row in one]
    two[0] = [0.1, 0.1, 0.8]
    result = compare(DOCUMENTS, TRANSFORM, two)
    assert not result["passed"] and result["agreed"] == 3
    assert result["cause"].startswith("3 of 5 documents have the same dominant topic")
    rows = json.loads(result["cause"].split(" needed). ", 1)[1])
    assert rows[0] == {"id": "doc-0", "transform_topic": 0, "endpoint_topic": 2,
                       "transform_weights": [0.7, 0.2, 0.1], "endpoint_weights": [0.1, 0.1, 0.8]}


def test_an_answer_missing_documents_fails():
    assert not compare(DOCUMENTS, TRANSFORM, TRANSFORM[:4])["passed"]


def test_an_endpoint_error_fails_with_the_transforms_answers_in_the_cause():
    result = failed_call(DOCUMENTS, TRANSFORM, "ModelError: Received server error (500)")
    assert not result["passed"]
    assert "ModelError: Received server error (500)" in result["cause"] and '"transform_topic": 2' in result["cause"]


def test_the_smoke_documents_file_is_read_in_order():
    body = '{"row": 0, "id": "a", "text": "x"}\n{"row": 1, "id": "b", "text": "y"}\n'
    assert parse_smoke_documents(body) == [SmokeDocument(0, "a", "x"), SmokeDocument(1, "b", "y")]
