"""Scale endpoint: before an update, make it valid for auto scaling; once InService, register scaling again."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from ntm_glue import endpoint_scaling

logger = Logger()


def _scaling() -> endpoint_scaling.Scaling:
    return endpoint_scaling.Scaling(int(os.environ["SCALING_MIN_INSTANCES"]), int(os.environ["SCALING_MAX_INSTANCES"]),
                                    int(os.environ["SCALING_TARGET_INVOCATIONS"]))


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    autoscaling = boto3.client("application-autoscaling")
    deploy = event["deploy"]
    if event["action"] == "prepare_update":
        result = endpoint_scaling.prepare_update(boto3.client("sagemaker"), autoscaling, deploy["endpoint_name"],
                                                 event["current_config"], deploy["instance_type"])
    else:
        result = endpoint_scaling.register(autoscaling, deploy["endpoint_name"], _scaling(), deploy["instance_count"])
    logger.info("endpoint scaling", extra={"action": event["action"], **result})
    return result
