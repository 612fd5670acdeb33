"""Lambda handlers of the toy pipeline: they use boto3 the way the project's handlers do."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

# Made at import, as many handlers do: in Lambda this signs as the function's role.
_IMPORT_TIME_STS = boto3.client("sts", region_name="us-east-1")


def resolve_run(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Writes a marker as the function's role and returns the run document."""
    run_id = event["run_id"]
    boto3.client("s3").put_object(Bucket=os.environ["DATA_BUCKET"], Key=f"runs/{run_id}/started.json",
                                  Body=json.dumps({"function": context.function_name}).encode())
    return {
        "run_id": run_id,
        "job_name": f"toy-{run_id}",
        "hyperparameters": event.get("hyperparameters", {"num_topics": "3", "feature_dim": "50"}),
        "wait_seconds": 30,
        "caller": boto3.client("sts").get_caller_identity()["Arn"],
        "import_time_caller": _IMPORT_TIME_STS.get_caller_identity()["Arn"],
        "remaining_ms_positive": context.get_remaining_time_in_millis() > 0,
    }


def fail(event: dict[str, Any], context: Any) -> None:
    raise ValueError(f"bad input: {sorted(event)}")


def start_run(event: dict[str, Any], context: Any) -> str:
    """An upload trigger: starts one execution per uploaded object."""
    key = event["Records"][0]["s3"]["object"]["key"]
    response = boto3.client("stepfunctions").start_execution(
        stateMachineArn=os.environ["STATE_MACHINE_ARN"], name=key.replace("/", "-"),
        input=json.dumps({"run_id": key.rsplit("/", 1)[-1]}))
    return response["executionArn"]
