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
# The tags on each endpoint config: the ISO 8601 start time of the execution that made it, and the
# hours it may sit idle before the hourly check deletes the endpoint (0: never).
RUN_STARTED_TAG = "ntm:run-started-at"
IDLE_HOURS_TAG = "ntm:idle-hours"


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


def config_tag(sagemaker: Any, config_name: str, key: str) -> str | None:
    """One tag of an endpoint config; None for a config without it (or one deleted since)."""
    try:
        arn = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["EndpointConfigArn"]
        tags = sagemaker.list_tags(ResourceArn=arn).get("Tags", [])
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationException":
            return None
        raise
    return next((tag["Value"] for tag in tags if tag["Key"] == key), None)


def deployed_run_started_at(sagemaker: Any, config_name: str) -> str | None:
    """The run-start tag of an endpoint config."""
    return config_tag(sagemaker, config_name, RUN_STARTED_TAG)


def alarms_gone_off(cloudwatch: Any, alarms: list[str], since: datetime.datetime | None) -> list[str]:
    """Of the rollback alarms, those in ALARM now or that changed state since `since`: the ones that
    can have rolled the update back (one may be back to OK by the time the rollback is over)."""
    if not alarms:
        return []
    found = cloudwatch.describe_alarms(AlarmNames=alarms, AlarmTypes=["MetricAlarm"]).get("MetricAlarms", [])
    return [alarm["AlarmName"] for alarm in found
            if alarm["StateValue"] == "ALARM" or (since is not None and alarm["StateUpdatedTimestamp"] >= since)]


def rollback_cause(name: str, expected_config: str, endpoint: dict[str, Any], gone_off: list[str]) -> str:
    """Why the endpoint is InService on another config than the one this run asked for."""
    by = f"by alarm {', '.join(gone_off)}" if gone_off else "by SageMaker (none of its rollback alarms changed state)"
    reason = endpoint.get("FailureReason") or "none given"
    return (f"Endpoint {name}: the update to {expected_config} was rolled back {by}; the endpoint is InService "
            f"and still serves {endpoint.get('EndpointConfigName', '?')} (SageMaker's FailureReason: {reason})")


def find(sagemaker: Any, name: str, run_started_at: str | None = None, expected_config: str | None = None,
         alarms: list[str] | None = None, cloudwatch: Any = None) -> dict[str, Any]:
    """{"exists", "status", "failure_reason", "busy", "endpoint_config_name", "newer_run_deployed",
    "rolled_back", "rollback_cause"}.

    SageMaker answers a missing endpoint with a ValidationException ("Could not find endpoint").
    With `expected_config` (the config this run asked for): an InService endpoint on another config
    that no newer run made means SageMaker rolled this run's change back.
    """
    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        message = error.response["Error"].get("Message", "")
        if error.response["Error"]["Code"] == "ValidationException" and "Could not find endpoint" in message:
            return {"exists": False, "status": "Absent", "failure_reason": "", "busy": False,
                    "endpoint_config_name": "", "newer_run_deployed": False, "rolled_back": False, "rollback_cause": ""}
        raise
    status = endpoint["EndpointStatus"]
    config = endpoint.get("EndpointConfigName", "")
    busy = status in IN_PROGRESS
    newer = bool(run_started_at and not busy and config
                 and is_newer(deployed_run_started_at(sagemaker, config), run_started_at))
    rolled_back = bool(expected_config and status == "InService" and config != expected_config and not newer)
    cause = ""
    if rolled_back:
        # An alarm that went off and is OK again changed state after this run started.
        gone_off = alarms_gone_off(cloudwatch, list(alarms or []), _moment(run_started_at or "")) if cloudwatch else []
        cause = rollback_cause(name, expected_config or "", endpoint, gone_off)
    return {"exists": True, "status": status, "failure_reason": endpoint.get("FailureReason", ""), "busy": busy,
            "endpoint_config_name": config, "newer_run_deployed": newer, "rolled_back": rolled_back,
            "rollback_cause": cause}
