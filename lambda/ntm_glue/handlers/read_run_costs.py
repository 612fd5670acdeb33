"""Read run costs: each SageMaker job of the run with its instances and billed seconds, for the run's
summary, and per stage for the report page (read once before the report job and once after it)."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger

from ntm_glue import run_costs

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    costs = run_costs.describe_costs(boto3.client("sagemaker"), event["run"])
    logger.info("run costs", extra={"jobs": len(costs)})
    return {"jobs": [cost.to_json() for cost in costs], "summary": run_costs.cost_lines(costs),
            "by_stage": run_costs.stage_summaries(costs)}
