"""Read choice: the candidate the comparison job chose (its chosen.json), to carry forward."""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from ntm_glue import s3_uri
from ntm_glue.candidates import chosen

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    bucket, prefix = s3_uri.split(event["run"]["sweep"]["comparison_uri"])
    choice = json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=f"{prefix}chosen.json")["Body"].read())
    result = chosen(event["candidates"], choice)
    logger.info("candidate chosen", extra=result)
    return {"chosen": result}
