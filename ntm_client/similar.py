"""Documents like a given one: from a run's neighbours.jsonl, or for new text through the endpoints.

    python -m ntm_client similar --document ID --neighbours s3://.../runs/<run-id>/similar/neighbours.jsonl \\
        [--documents s3://.../datasets/<name>/documents.jsonl]
    python -m ntm_client similar --text "..." --endpoint ntm-topics --similar-endpoint ntm-similar \\
        --documents s3://.../datasets/<name>/documents.jsonl [--count 10]

`--document` needs no endpoint: it reads the neighbours the run's similarity stage wrote. `--text`
asks the topics endpoint for the text's topic weights (`{"instances": [{"text": ...}]}`), then the
similar-documents endpoint (k-NN, `text/csv` in, `application/json; verbose=true` out) for the
nearest documents, whose labels are lines of the dataset's documents.jsonl. One JSON object is
printed: `{"id" or "text", "neighbours": [{"id", "distance", "title"}]}`. Exit status 0, or 2 with
a message when something is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

HELP = "documents most like a given document (from neighbours.jsonl) or like new text (through the endpoints)"


class SimilarError(Exception):
    """Something the user can fix: a missing file, an unknown document, an endpoint not answering."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--document", metavar="ID", help="a document of the run, by its id")
    query.add_argument("--text", metavar="TEXT", help="new text, placed by the topics endpoint")
    parser.add_argument("--neighbours", metavar="FILE_OR_S3_URI",
                        help="the run's similar/neighbours.jsonl (with --document)")
    parser.add_argument("--documents", metavar="FILE_OR_S3_URI",
                        help="the dataset's documents.jsonl: titles, and with --text the ids of the k-NN labels")
    parser.add_argument("--endpoint", help="the topics endpoint (with --text), e.g. ntm-topics")
    parser.add_argument("--similar-endpoint", help="the similar-documents endpoint (with --text), e.g. ntm-similar")
    parser.add_argument("--count", type=int, default=10, help="neighbours shown (default 10)")
    parser.add_argument("--region", help="AWS region (default: the environment's)")


def read_text(location: str, s3: Any) -> str:
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        except ClientError as error:
            raise SimilarError(f"{location}: {error.response['Error']['Code']}") from None
    try:
        with open(location, encoding="utf-8") as stream:
            return stream.read()
    except OSError as error:
        raise SimilarError(f"{location}: {error.strerror}") from None


def json_lines(location: str, s3: Any) -> list[dict]:
    return [json.loads(line) for line in read_text(location, s3).split("\n") if line.strip()]


def _titled(neighbours: list[dict], titles: dict[str, str]) -> list[dict]:
    return [{**neighbour, **({"title": titles[str(neighbour["id"])]} if str(neighbour["id"]) in titles else {})}
            for neighbour in neighbours]


def like_document(document_id: str, neighbours_file: str, documents: list[dict], count: int, s3: Any) -> dict:
    for line in json_lines(neighbours_file, s3):
        if str(line.get("id")) == document_id:
            titles = {str(d.get("id")): d.get("title", "") for d in documents}
            return {"id": line["id"], **({"title": titles[document_id]} if document_id in titles else {}),
                    "neighbours": _titled(line["neighbours"][:count], titles)}
    raise SimilarError(f"document {document_id!r} is not in {neighbours_file}")


def _invoke(runtime: Any, endpoint: str, content_type: str, accept: str, body: str) -> dict:
    try:
        response = runtime.invoke_endpoint(EndpointName=endpoint, ContentType=content_type, Accept=accept,
                                           Body=body.encode("utf-8"))
    except ClientError as error:
        raise SimilarError(f"endpoint {endpoint}: {error.response['Error']['Code']}: "
                           f"{error.response['Error'].get('Message', '')}") from None
    return json.loads(response["Body"].read())


def like_text(text: str, topics_endpoint: str, similar_endpoint: str, documents: list[dict], count: int,
              runtime: Any) -> dict:
    """Topic weights from the topics endpoint, then the nearest documents from the k-NN endpoint."""
    answer = _invoke(runtime, topics_endpoint, "application/json", "application/json",
                     json.dumps({"instances": [{"text": text}]}))
    weights = answer["predictions"][0]["topic_weights"]
    nearest = _invoke(runtime, similar_endpoint, "text/csv", "application/json; verbose=true",
                      ",".join(repr(float(w)) for w in weights))["predictions"][0]
    found = []
    for label, distance in list(zip(nearest["labels"], nearest["distances"]))[:count]:
        index = int(label)
        if not 0 <= index < len(documents):
            raise SimilarError(f"the k-NN endpoint answered document {index}, the documents file has {len(documents)}: "
                               "is it the same run's dataset?")
        document = documents[index]
        found.append({"id": document.get("id"), "distance": distance,
                      **({"title": document["title"]} if "title" in document else {})})
    return {"text": text, "topic_weights": weights, "neighbours": found}


def run(arguments: argparse.Namespace, session: Any = None) -> int:
    session = session or boto3.session.Session(region_name=arguments.region)
    try:
        s3 = session.client("s3")
        documents = json_lines(arguments.documents, s3) if arguments.documents else []
        if arguments.document is not None:
            if not arguments.neighbours:
                raise SimilarError("--document needs --neighbours (the run's similar/neighbours.jsonl)")
            result = like_document(arguments.document, arguments.neighbours, documents, arguments.count, s3)
        else:
            missing = [flag for flag, value in (("--endpoint", arguments.endpoint),
                                                ("--similar-endpoint", arguments.similar_endpoint),
                                                ("--documents", arguments.documents)) if not value]
            if missing:
                raise SimilarError(f"--text needs {', '.join(missing)}")
            result = like_text(arguments.text, arguments.endpoint, arguments.similar_endpoint, documents,
                               arguments.count, session.client("sagemaker-runtime"))
    except (SimilarError, BotoCoreError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0
