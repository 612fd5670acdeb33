"""Start from upload: an S3 `Object Created` event (via EventBridge) starts one run for its corpus."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventBridgeNotificationEvent

from ntm_glue.run_input import RunSettings
from ntm_glue.upload_trigger import Upload, start_run

logger = Logger()


def _upload(event: S3EventBridgeNotificationEvent) -> Upload:
    uploaded = event.detail.object
    # Powertools decodes the key (events carry it URL-encoded); version and sequencer may be absent.
    return Upload(bucket=event.detail.bucket.name, key=uploaded.key,
                  version_id=uploaded.get("version-id"), sequencer=uploaded.get("sequencer"))


@logger.inject_lambda_context
@event_source(data_class=S3EventBridgeNotificationEvent)
def handler(event: S3EventBridgeNotificationEvent, context: Any) -> dict[str, Any]:
    outcome = start_run(
        _upload(event),
        data_bucket=os.environ["DATA_BUCKET"],
        defaults=RunSettings.deserialize(os.environ["RUN_DEFAULTS"]),
        state_machine_arn=os.environ["STATE_MACHINE_ARN"],
        s3=boto3.client("s3"),
        stepfunctions=boto3.client("stepfunctions"),
    )
    logger.info(outcome.message, extra={"status": outcome.status, "execution_name": outcome.execution_name})
    return asdict(outcome)
