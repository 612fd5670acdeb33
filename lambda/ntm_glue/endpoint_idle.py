"""The endpoint sleeps when idle: deleted after `idle_hours` without an invocation, re-created by the next run.

Only the endpoint goes: its configs and models stay (a run makes new ones anyway), and the variant's
auto scaling is deregistered first (SageMaker's guide: deleting an endpoint deregisters its scalable
targets only if the caller may; doing it explicitly leaves nothing behind). An endpoint that is
not InService is being changed by a run and is left alone; one changed less than `idle_hours` ago
has not had the chance to be used.
"""

from __future__ import annotations

import datetime
from typing import Any

from ntm_glue import endpoint_scaling, endpoint_turn


def invocations(cloudwatch: Any, endpoint_name: str, start: datetime.datetime, end: datetime.datetime) -> float:
    """Sum of AWS/SageMaker Invocations of the variant; no datapoint means no invocation."""
    hours = max(1, round((end - start).total_seconds() / 3600))
    period = 3600 * max(1, -(-hours // 1440))  # at most 1,440 datapoints per request
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker", MetricName="Invocations", StartTime=start, EndTime=end, Period=period,
        Statistics=["Sum"], Dimensions=[{"Name": "EndpointName", "Value": endpoint_name},
                                        {"Name": "VariantName", "Value": endpoint_scaling.VARIANT}])
    return sum(point["Sum"] for point in answer.get("Datapoints", []))


def idle_hours_of(sagemaker: Any, config_name: str, default: int) -> int:
    """The hours the run that made the config asked for (its ntm:idle-hours tag), else the deployment's."""
    tagged = endpoint_turn.config_tag(sagemaker, config_name, endpoint_turn.IDLE_HOURS_TAG) if config_name else None
    try:
        return int(tagged) if tagged is not None else default
    except ValueError:
        return default  # a tag edited by hand into something else: the deployment's rule holds


def check(sagemaker: Any, cloudwatch: Any, autoscaling: Any, endpoint_name: str, idle_hours: int,
          now: datetime.datetime) -> dict[str, Any]:
    """{"deleted": bool, "reason": str}: delete the endpoint if it sat idle for its idle hours (the
    deployed config's run's own, or `idle_hours`)."""
    found = endpoint_turn.find(sagemaker, endpoint_name)
    if not found["exists"]:
        return {"deleted": False, "reason": "no endpoint"}
    if found["status"] != "InService":
        return {"deleted": False, "reason": f"endpoint is {found['status']}: a run is changing it"}
    idle_hours = idle_hours_of(sagemaker, found["endpoint_config_name"], idle_hours)
    if idle_hours == 0:
        return {"deleted": False, "reason": "its run asked never to delete it for idleness (idle_hours 0)"}
    changed = sagemaker.describe_endpoint(EndpointName=endpoint_name)["LastModifiedTime"]
    window = datetime.timedelta(hours=idle_hours)
    if now - changed < window:
        return {"deleted": False, "reason": f"changed {(now - changed).total_seconds() / 3600:.1f} h ago"}
    calls = invocations(cloudwatch, endpoint_name, now - window, now)
    if calls > 0:
        return {"deleted": False, "reason": f"{calls:.0f} invocations in the last {idle_hours} h"}
    endpoint_scaling.deregister(autoscaling, endpoint_name)
    sagemaker.delete_endpoint(EndpointName=endpoint_name)
    return {"deleted": True, "reason": f"no invocations in {idle_hours} h", "endpoint_config_name": found["endpoint_config_name"]}


def message(endpoint_name: str, result: dict[str, Any], prefix: str) -> tuple[str, str]:
    subject = f"[{prefix}] Endpoint {endpoint_name} deleted after {result['reason']}"[:100]
    body = (f"The endpoint {endpoint_name} had {result['reason']}, so it was deleted to stop its hourly cost.\n"
            f"Its config ({result.get('endpoint_config_name') or 'unknown'}) and model are kept: the next run "
            "with deploy_endpoint creates the endpoint again.\n")
    return subject, body
