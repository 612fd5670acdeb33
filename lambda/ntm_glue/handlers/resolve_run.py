"""Resolve run: merge the execution input over the deployed defaults, validate, name everything."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger

from ntm_glue.run_config import Deployment, build_run
from ntm_glue.run_input import RunSettings, parse_request

logger = Logger()


def _deployment() -> Deployment:
    return Deployment(
        name_prefix=os.environ["NAME_PREFIX"],
        data_bucket=os.environ["DATA_BUCKET"],
        endpoint_name=os.environ["ENDPOINT_NAME"],
        endpoint_max_polls=int(os.environ["ENDPOINT_MAX_POLLS"]),
        endpoint_poll_seconds=int(os.environ["ENDPOINT_POLL_SECONDS"]),
        endpoint_alarms=tuple(name for name in os.environ.get("ENDPOINT_ALARMS", "").split(",") if name),
        similar_alarms=tuple(name for name in os.environ.get("SIMILAR_ALARMS", "").split(",") if name),
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deployment = _deployment()
    defaults = RunSettings.deserialize(os.environ["RUN_DEFAULTS"])
    request = parse_request(event["input"], defaults, deployment.data_bucket)
    run = build_run(request, event["execution"], deployment, event.get("started_at", ""),
                    idle_check=defaults.endpoint.idle_hours > 0)
    logger.info("run resolved", extra={"run_id": run["run_id"], "prepare": run["prepare"]["enabled"]})
    return run
