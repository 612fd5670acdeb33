"""Idle endpoint: the scheduled check that deletes the pipeline's endpoint after hours without invocations."""

from __future__ import annotations

import datetime
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from ntm_glue import endpoint_idle

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    name = os.environ["ENDPOINT_NAME"]
    result = endpoint_idle.check(boto3.client("sagemaker"), boto3.client("cloudwatch"),
                                 boto3.client("application-autoscaling"), name, int(os.environ["IDLE_HOURS"]),
                                 datetime.datetime.now(datetime.timezone.utc))
    if result["deleted"]:
        subject, body = endpoint_idle.message(name, result, os.environ["NAME_PREFIX"])
        boto3.client("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Subject=subject, Message=body)
    logger.info("idle check", extra={"endpoint": name, **result})
    return result
