"""Notify run finished: one readable SNS message per run that succeeded, failed, timed out or was aborted."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from ntm_glue import run_costs, run_notification

logger = Logger()


def _history(stepfunctions: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    # With data: the run document (the jobs to read the costs of) is in *Keep run*'s output.
    pages = stepfunctions.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, includeExecutionData=True, PaginationConfig={"PageSize": 1000})
    for page in pages:
        yield from page["events"]


def _output(stepfunctions: Any, detail: dict[str, Any]) -> dict[str, Any]:
    # The event leaves out an output larger than its size limit; the execution still has it.
    text = detail.get("output") or stepfunctions.describe_execution(executionArn=detail["executionArn"]).get("output")
    output = json.loads(text or "{}")
    return output if isinstance(output, dict) else {}


def _cost_lines(sagemaker: Any, history: list[dict[str, Any]]) -> list[str]:
    run = run_notification.run_document(history)
    if run is None:
        return []
    try:
        return run_costs.cost_lines(run_costs.describe_costs(sagemaker, run))
    except Exception as error:  # noqa: BLE001 - a message without costs beats no message
        logger.warning("costs could not be read", extra={"error": str(error)})
        return [f"What it cost: not readable ({type(error).__name__})"]


def message_for(event: EventBridgeEvent, stepfunctions: Any, prefix: str,
                sagemaker: Any = None) -> run_notification.Notification:
    detail = dict(event.detail)
    history = list(_history(stepfunctions, detail["executionArn"]))
    costs = _cost_lines(sagemaker or boto3.client("sagemaker"), history)
    if detail["status"] == "SUCCEEDED":
        return run_notification.succeeded(detail, _output(stepfunctions, detail), region=event.region, prefix=prefix,
                                          costs=costs)
    failure = run_notification.failure_point(history)
    return run_notification.stopped(detail, failure, region=event.region, prefix=prefix, costs=costs)


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: Any) -> dict[str, str]:
    status = event.detail["status"]
    if status not in run_notification.FINISHED:
        logger.info(f"ignored status {status}: only finished runs notify")
        return {"status": status, "published": ""}
    note = message_for(event, boto3.client("stepfunctions"), os.environ["NAME_PREFIX"])
    published = boto3.client("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Subject=note.subject, Message=note.body)
    logger.info("notified", extra={"subject": note.subject, "message_id": published["MessageId"]})
    return {"status": status, "published": published["MessageId"]}
