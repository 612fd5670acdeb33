"""Whose turn it is on the one endpoint: runs that finish close together must not collide on it.

A run may change the endpoint only when no change is in progress (SageMaker refuses an update of
an endpoint that is Creating, Updating, SystemUpdating, RollingBack or Deleting), and never to an
older run's model than the one it finds: every endpoint config carries, as a tag, the start time of
the run that made it, and a run that started earlier than the deployed config's run leaves it.
"""

from __future__ import annotations

import datetime
from typing import Any

from botocore.exceptions import ClientError

# DescribeEndpoint's EndpointStatus values during which UpdateEndpoint and DeleteEndpoint are refused.
IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
# The tag on each endpoint config: the ISO 8601 start time of the execution that made it.
RUN_STARTED_TAG = "ntm:run-started-at"


def _moment(text: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def is_newer(deployed_started_at: str | None, run_started_at: str) -> bool:
    """Whether the deployed config's run started after this one (unknown or untagged: not newer)."""
    deployed, ours = _moment(deployed_started_at or ""), _moment(run_started_at)
    return deployed is not None and ours is not None and deployed > ours


def deployed_run_started_at(sagemaker: Any, config_name: str) -> str | None:
    """The run-start tag of an endpoint config; None for a config without it (or one deleted since)."""
    try:
        arn = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["EndpointConfigArn"]
        tags = sagemaker.list_tags(ResourceArn=arn).get("Tags", [])
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationException":
            return None
        raise
    return next((tag["Value"] for tag in tags if tag["Key"] == RUN_STARTED_TAG), None)


def find(sagemaker: Any, name: str, run_started_at: str | None = None) -> dict[str, Any]:
    """{"exists", "status", "failure_reason", "busy", "endpoint_config_name", "newer_run_deployed"}.

    SageMaker answers a missing endpoint with a ValidationException ("Could not find endpoint").
    """
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        message = error.response["Error"].get("Message", "")
        if error.response["Error"]["Code"] == "ValidationException" and "Could not find endpoint" in message:
            return {"exists": False, "status": "Absent", "failure_reason": "", "busy": False,
                    "endpoint_config_name": "", "newer_run_deployed": False}
        raise
    status = endpoint["EndpointStatus"]
    config = endpoint.get("EndpointConfigName", "")
    busy = status in IN_PROGRESS
    newer = bool(run_started_at and not busy and config
                 and is_newer(deployed_run_started_at(sagemaker, config), run_started_at))
    return {"exists": True, "status": status, "failure_reason": endpoint.get("FailureReason", ""), "busy": busy,
            "endpoint_config_name": config, "newer_run_deployed": newer}
