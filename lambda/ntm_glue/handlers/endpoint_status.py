"""Endpoint status: does the run's endpoint exist, in which state, and may this run change it?"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger

from ntm_glue import endpoint_turn

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    expected = event.get("expected_config")
    status = endpoint_turn.find(boto3.client("sagemaker"), event["endpoint_name"], event.get("run_started_at"),
                                expected_config=expected, alarms=event.get("alarms"),
                                cloudwatch=boto3.client("cloudwatch") if expected else None)
    logger.info("endpoint status", extra={"endpoint": event["endpoint_name"], **status})
    return status
