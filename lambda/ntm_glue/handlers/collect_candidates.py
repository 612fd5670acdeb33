"""Collect candidates: fail if none trained; record them all; pick the only one when there is no comparison."""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from ntm_glue import s3_uri
from ntm_glue.candidates import successful

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run, results = event["run"], event["candidates"]
    done = successful(results)
    logger.info("candidates collected", extra={"trained": len(done), "requested": len(results)})
    # Written for every run: the comparison job reads it, and the report finds the run's candidates there.
    bucket, prefix = s3_uri.split(run["sweep"]["comparison_uri"])
    boto3.client("s3").put_object(Bucket=bucket, Key=f"{prefix}candidates.json",
                                  Body=json.dumps(results, indent=1).encode(), ContentType="application/json")
    return {"chosen": None if run["sweep"]["enabled"] else done[0]}
