"""Smoke test endpoint: the run's own documents as raw text to the endpoint, compared with the batch transform."""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from ntm_glue.s3_uri import split as split_s3_uri
from ntm_glue.smoke_test import compare, failed_call, parse_smoke_documents

logger = Logger()
SMOKE_TEST = "serving/smoke-test.jsonl"


def _text(s3: Any, uri: str) -> str:
    bucket, key = split_s3_uri(uri)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def transform_rows(s3: Any, output_uri: str, rows: int) -> list[list[float]]:
    """The first `rows` answers of the transform, reading its `.out` files in input order."""
    bucket, prefix = split_s3_uri(output_uri)
    keys = sorted(item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                  for item in page.get("Contents", []) if item["Key"].endswith(".out"))
    answers: list[list[float]] = []
    for key in keys:
        for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8").splitlines():
            if line.strip():
                answers.append(json.loads(line)["topic_weights"])
                if len(answers) == rows:
                    return answers
    return answers


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run, s3 = event["run"], boto3.client("s3")
    documents = parse_smoke_documents(_text(s3, run["dataset"]["uri"] + SMOKE_TEST))
    transform = transform_rows(s3, event["transform"]["output_uri"], max(d.row for d in documents) + 1)
    transform = [transform[d.row] for d in documents]
    body = json.dumps({"instances": [{"text": d.text} for d in documents]}, ensure_ascii=False).encode("utf-8")
    try:
        response = boto3.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=run["deploy"]["endpoint_name"], ContentType="application/json", Accept="application/json", Body=body)
        endpoint = [p["topic_weights"] for p in json.loads(response["Body"].read())["predictions"]]
    except ClientError as error:
        result = failed_call(documents, transform, f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}")
    else:
        result = compare(documents, transform, endpoint)
    logger.info("smoke test", extra={k: result[k] for k in ("passed", "agreed", "checked", "needed")})
    return result
