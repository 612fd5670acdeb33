"""Load dataset: read the prepared dataset's manifest and derive the training hyperparameters."""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from ntm_glue import s3_uri
from ntm_glue.dataset_manifest import DatasetError, training_inputs

logger = Logger()


def _read_manifest(uri: str) -> dict[str, Any]:
    bucket, key = s3_uri.split(uri)
    s3 = boto3.client("s3")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise DatasetError(f"no manifest at {uri}: the dataset is incomplete or the location is wrong") from None
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise DatasetError(f"{uri} is not valid JSON ({error})") from None


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = event["run"]
    inputs = training_inputs(_read_manifest(run["dataset"]["manifest_uri"]), run)
    logger.info("dataset loaded", extra={"vocabulary_size": inputs["vocabulary_size"], "documents": inputs["documents"]})
    return inputs
