"""API results as Step Functions puts them into state data: JSON only.

moto leaves datetimes and streams in task results, which then break the next state or
describe_execution. Optimized integrations (sagemaker:*) render timestamps as epoch milliseconds,
AWS SDK integrations (aws-sdk:*) as ISO 8601 strings; a streamed body (aws-sdk:s3:getObject's
Body) becomes its text.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from botocore.response import StreamingBody

Render = Callable[[datetime.datetime], Any]


def epoch_millis(value: datetime.datetime) -> int:
    return int(value.timestamp() * 1000)


def iso_millis(value: datetime.datetime) -> str:
    utc = value.astimezone(datetime.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def rendered(value: Any, render: Render) -> Any:
    """`value` as JSON data: datetimes through `render`, streams read as UTF-8 text."""
    if isinstance(value, datetime.datetime):
        return render(value)
    if isinstance(value, StreamingBody):
        return value.read().decode()
    if isinstance(value, dict):
        return {key: rendered(item, render) for key, item in value.items()}
    if isinstance(value, list):
        return [rendered(item, render) for item in value]
    return value
