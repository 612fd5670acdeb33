"""`python -m ntm_client topics` against the offline endpoint (tests/harness): every document gets
an answer or an error line, in input order; requests are few, throttling is retried, a bad
document does not sink the others, and an endpoint that cannot answer stops the run clearly.
Requests are sent as a user allowed only to invoke and describe the endpoint (IAM-checked)."""

from __future__ import annotations

import io
import json

import pytest

from ntm_client import cli, topics_command
from tests.client.conftest import ENDPOINT
from tests.harness.gate import ServiceError, read_payload


def _run(served, tmp_path, *options: str) -> tuple[int, list[dict]]:
    output = tmp_path / "out.jsonl"
    arguments = cli.parser().parse_args(["topics", "--endpoint", ENDPOINT, "--output", str(output), *options])
    status = topics_command.run(arguments, session=served.session)
    return status, [json.loads(line) for line in output.read_text().splitlines()] if output.exists() else []


def _invocations(served) -> int:
    return sum(1 for r in served.harness.requests if r.operation == "InvokeEndpoint")


def _input(tmp_path, lines: list[bytes]):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_documents_are_answered_in_order_with_their_dominant_topics_and_words(served, tmp_path):
    ids = sorted(served.texts)[:25]
    path = _input(tmp_path, [json.dumps({"id": i, "text": served.texts[i]}).encode() for i in ids])
    before = _invocations(served)
    status, lines = _run(served, tmp_path, "--input", str(path), "--batch-size", "10", "--topics", served.topics_uri)
    assert status == 0
    assert [line["id"] for line in lines] == ids
    assert _invocations(served) - before == 3  # 25 documents, 10 a request
    for line in lines:
        assert len(line["topic_weights"]) == 4 and abs(sum(line["topic_weights"]) - 1) < 1e-3
        top = line["dominant_topics"][0]
        assert top["weight"] == max(line["topic_weights"]) and len(top["words"]) == 8


def test_bad_documents_get_an_error_line_in_their_place_and_the_others_their_answer(served, tmp_path):
    good = sorted(served.texts)[:3]
    lines = [json.dumps({"id": good[0], "text": served.texts[good[0]]}).encode(),
             json.dumps({"id": "empty", "text": "  "}).encode(),
             b'{"id": "bytes", "text": "caf\xe9"}',
             b"not json",
             json.dumps({"id": "no-text", "body": "x"}).encode(),
             json.dumps({"id": "huge", "text": "orbit " * 400}).encode(),
             json.dumps({"id": good[1], "text": served.texts[good[1]]}).encode()]
    status, answers = _run(served, tmp_path, "--input", str(_input(tmp_path, lines)), "--max-payload-bytes", "2000")
    assert status == 1
    assert [a["id"] for a in answers] == [good[0], "empty", "line 3", "line 4", "no-text", "huge", good[1]]
    errors = {a["id"]: a["error"] for a in answers if "error" in a}
    assert errors["empty"] == "line 2: the text is empty"
    assert "not UTF-8" in errors["line 3"] and "not valid JSON" in errors["line 4"]
    assert "no string field 'text'" in errors["no-text"]
    assert "over the endpoint's payload limit of 2,000" in errors["huge"]
    assert "topic_weights" in answers[0] and "topic_weights" in answers[-1]


def test_throttling_is_retried_with_backoff(served, tmp_path, monkeypatch):
    pauses = []
    monkeypatch.setattr("ntm_client.endpoint.time.sleep", pauses.append)
    refusals = iter([True, True])

    def throttle(_, params):
        if next(refusals, False):
            raise ServiceError("ThrottlingException", "Rate exceeded")
    served.harness.gate.intercept("sagemaker-runtime", "InvokeEndpoint", throttle, first=True)
    status, answers = _run(served, tmp_path, "--text", "the rocket launch reached orbit")
    assert status == 0 and len(answers) == 1 and "topic_weights" in answers[0]
    assert len(pauses) == 2 and pauses[0] <= 0.5 and pauses[1] <= 1.0


def test_a_request_the_model_refuses_is_retried_document_by_document(served, tmp_path):
    def refuse_poison(_, params):
        if b"POISON" in read_payload(params.get("Body")):
            raise ServiceError("ModelError", "Received client error (500) from container-1", 424)
    served.harness.gate.intercept("sagemaker-runtime", "InvokeEndpoint", refuse_poison, first=True)
    status, answers = _run(served, tmp_path, "--text", "orbit launch", "--text", "POISON pill", "--text", "engine brake")
    assert status == 1
    assert ["error" in a for a in answers] == [False, True, False]
    assert answers[1]["error"].startswith("ModelError")


def test_an_endpoint_that_is_not_in_service_stops_the_run(served, tmp_path, capsys):
    endpoint = served.harness.endpoints.backend().endpoints[ENDPOINT]
    endpoint.endpoint_status = "Updating"
    try:
        status, answers = _run(served, tmp_path, "--text", "orbit")
    finally:
        endpoint.endpoint_status = "InService"
    assert status == 2 and answers == []
    assert f"endpoint {ENDPOINT} is Updating, not InService" in capsys.readouterr().err


def test_stdin_is_read_with_a_dash(served, tmp_path, monkeypatch):
    body = "".join(json.dumps({"id": n, "text": t}) + "\n" for n, t in enumerate(["orbit launch", "engine wheel"]))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(body.encode())))
    status, answers = _run(served, tmp_path, "--input", "-")
    assert status == 0 and [a["id"] for a in answers] == [0, 1]


@pytest.mark.parametrize("argv", [["topics", "--endpoint", "e"], ["topics", "--input", "x", "--text", "y", "--endpoint", "e"]])
def test_the_command_line_wants_one_source(argv, capsys):
    with pytest.raises(SystemExit):
        cli.parser().parse_args(argv)


def test_the_progress_bar_counts_documents_and_failures():
    from ntm_client.progress import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream, enabled=True)
    bar.update(5, 1, 10, force=True)
    bar.finish(10, 1, 10)
    assert "[###############...............] 5/10 (1 failed" in stream.getvalue()
    assert "] 10/10 (1 failed" in stream.getvalue() and stream.getvalue().endswith("/s)\n")
    assert ProgressBar(io.StringIO()).enabled is False  # not a terminal: quiet unless asked
