"""`python -m ntm_client similar`: neighbours of a run's document from the file, and of new text
through the topics and k-NN endpoints (requests checked by botocore's Stubber against the API)."""

from __future__ import annotations

import argparse
import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from ntm_client import similar

DOCUMENTS = [{"id": "space-1", "title": "Launch window"}, {"id": "space-2", "title": "Lunar crater"},
             {"id": "football-1", "title": "Late penalty"}]
NEIGHBOURS = [{"id": "space-1", "neighbours": [{"id": "space-2", "distance": 0.01}, {"id": "football-1", "distance": 0.4}]}]


def jsonl(rows) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


@pytest.fixture
def session():
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        s3 = session.client("s3")
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="runs/r/similar/neighbours.jsonl", Body=jsonl(NEIGHBOURS))
        s3.put_object(Bucket="data", Key="datasets/d/documents.jsonl", Body=jsonl(DOCUMENTS))
        yield session


def arguments(**values) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    similar.add_arguments(parser)
    return parser.parse_args([f"--{key.replace('_', '-')}={value}" for key, value in values.items()])


def test_a_documents_neighbours_come_from_the_runs_file_with_titles(session, capsys):
    code = similar.run(arguments(document="space-1", neighbours="s3://data/runs/r/similar/neighbours.jsonl",
                                 documents="s3://data/datasets/d/documents.jsonl", count=1), session)
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {
        "id": "space-1", "title": "Launch window",
        "neighbours": [{"id": "space-2", "distance": 0.01, "title": "Lunar crater"}]}


def test_an_unknown_document_is_a_clear_error(session, capsys):
    assert similar.run(arguments(document="nope", neighbours="s3://data/runs/r/similar/neighbours.jsonl"), session) == 2
    assert "document 'nope' is not in s3://data/runs/r/similar/neighbours.jsonl" in capsys.readouterr().err


def test_text_needs_both_endpoints_and_the_documents(session, capsys):
    assert similar.run(arguments(text="a rocket launch", endpoint="ntm-topics"), session) == 2
    assert "--text needs --similar-endpoint, --documents" in capsys.readouterr().err


def body(value: dict) -> StreamingBody:
    data = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(data), len(data))


def test_new_text_goes_through_the_topics_then_the_knn_endpoint():
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(runtime) as stub:
        stub.add_response("invoke_endpoint", {"Body": body({"predictions": [{"topic_weights": [0.9, 0.1]}]})},
                          {"EndpointName": "ntm-topics", "ContentType": "application/json", "Accept": "application/json",
                           "Body": json.dumps({"instances": [{"text": "a rocket launch"}]}).encode()})
        stub.add_response("invoke_endpoint", {"Body": body({"predictions": [
            {"predicted_label": 1.0, "labels": [1.0, 0.0, 2.0], "distances": [0.002, 0.01, 0.5]}]})},
            {"EndpointName": "ntm-similar", "ContentType": "text/csv", "Accept": "application/json; verbose=true",
             "Body": b"0.9,0.1"})
        result = similar.like_text("a rocket launch", "ntm-topics", "ntm-similar", DOCUMENTS, 2, runtime)
    assert result["neighbours"] == [{"id": "space-2", "distance": 0.002, "title": "Lunar crater"},
                                    {"id": "space-1", "distance": 0.01, "title": "Launch window"}]


def test_a_label_outside_the_documents_file_says_the_files_do_not_match():
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(runtime) as stub:
        stub.add_response("invoke_endpoint", {"Body": body({"predictions": [{"topic_weights": [1.0]}]})})
        stub.add_response("invoke_endpoint", {"Body": body({"predictions": [{"labels": [7.0], "distances": [0.0]}]})})
        with pytest.raises(similar.SimilarError, match="is it the same run's dataset"):
            similar.like_text("x", "t", "s", DOCUMENTS, 1, runtime)


def test_similar_is_a_sub_command_of_the_client(capsys):
    from ntm_client.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["similar", "--help"])
    assert exit_info.value.code == 0
    assert "--neighbours" in capsys.readouterr().out
