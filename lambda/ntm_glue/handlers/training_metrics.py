"""Training metrics: a finished candidate's artifacts and final validation loss."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger

from ntm_glue.candidates import trained

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    candidate = event["candidate"]
    description = boto3.client("sagemaker").describe_training_job(TrainingJobName=candidate["job_name"])
    result = trained(candidate, description)
    logger.info("candidate trained", extra=result)
    return result
