"""Endpoint status: does the run's endpoint exist, and in which state is it?"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

logger = Logger()


def describe(sagemaker: Any, name: str) -> dict[str, Any]:
    """{"exists", "status", "failure_reason", "config_name"}; SageMaker answers a missing endpoint with a
    ValidationException. The config name is what a failed smoke test restores."""
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        message = error.response["Error"].get("Message", "")
        if error.response["Error"]["Code"] == "ValidationException" and "Could not find endpoint" in message:
            return {"exists": False, "status": "Absent", "failure_reason": "", "config_name": ""}
        raise
    return {
        "exists": True,
        "status": endpoint["EndpointStatus"],
        "failure_reason": endpoint.get("FailureReason", ""),
        "config_name": endpoint.get("EndpointConfigName", ""),
    }


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    status = describe(boto3.client("sagemaker"), event["endpoint_name"])
    logger.info("endpoint status", extra={"endpoint": event["endpoint_name"], **status})
    return status
