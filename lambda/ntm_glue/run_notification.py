"""The message a person gets when a run finishes: what happened, where to look, and the console link.

Built from a `Step Functions Execution Status Change` event's detail, plus (for a success) the
execution's output, which the *Summarize run* state shapes as {"run_id", "outputs", "endpoint"},
or (for a failure) the execution history, walked back from its end to the state that failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# SNS: a subject is at most 100 printable ASCII characters, on one line.
MAX_SUBJECT = 100
MAX_CAUSE = 3000
_OUTPUT_LABELS = {
    "run": "Run folder",
    "dataset": "Dataset",
    "model_artifacts": "Model artifacts",
    "model_name": "SageMaker model",
    "num_topics": "Number of topics",
    "comparison": "Candidate comparison",
    "transform": "Topic weights (batch transform)",
    "report": "Report",
}
_VERB = {"FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "was aborted"}


@dataclass(frozen=True)
class Notification:
    subject: str
    body: str


@dataclass(frozen=True)
class FailurePoint:
    """Where a run stopped: the last state it entered (other than the final Fail state) and why."""

    state: str | None
    error: str | None
    cause: str | None


def console_link(region: str, execution_arn: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"


def _details(event: dict[str, Any]) -> dict[str, Any]:
    """The one `...EventDetails` member of a history event (each type has its own name for it)."""
    return next((value for key, value in event.items() if key.endswith("EventDetails")), {})


def failure_point(history: Iterable[dict[str, Any]]) -> FailurePoint:
    """Walk the history back from the end to the last state entered that is not a Fail or Choice state.

    Errors caught by the pipeline all go through a Choice to a Fail state, so the state before them
    is the one at fault; for a timeout or an abort, it is the state the run was in. The error and
    cause are the execution's own (the Fail state repeats the original ones), else the newest task
    failure's.
    """
    error = cause = None
    for event in sorted(history, key=lambda event: event["id"], reverse=True):
        kind = event["type"]
        details = _details(event)
        if kind.endswith("StateEntered") and kind not in ("FailStateEntered", "ChoiceStateEntered"):
            return FailurePoint(details.get("name"), error, cause)
        if kind.endswith(("Failed", "TimedOut", "Aborted")) and not error:
            error, cause = details.get("error") or None, details.get("cause") or None
    return FailurePoint(None, error, cause)


def readable_cause(cause: str | None) -> tuple[str, str | None]:
    """(one-line reason, full details or None): Lambda and SageMaker causes are JSON documents."""
    if not cause:
        return "no cause was recorded", None
    # A Step Functions error ends the run as StageFailed with "States.<name>: <original cause>".
    reserved = re.match(r"^States\.[A-Za-z]+: (\{.*)$", cause, re.DOTALL)
    try:
        document = json.loads(reserved.group(1) if reserved else cause)
    except ValueError:
        document = None
    if isinstance(document, dict):
        reason = document.get("errorMessage") or document.get("FailureReason") or document.get("message")
        if isinstance(reason, str) and reason:
            kind = document.get("errorType")
            return (f"{kind}: {reason}" if kind else reason), _truncate(cause)
    return _truncate(cause), None


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_CAUSE else text[:MAX_CAUSE] + f"... ({len(text) - MAX_CAUSE} more characters)"


def _duration(detail: dict[str, Any]) -> str:
    start, stop = detail.get("startDate"), detail.get("stopDate")
    if not isinstance(start, (int, float)) or not isinstance(stop, (int, float)):
        return "an unknown time"
    minutes = round((stop - start) / 60_000)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _subject(prefix: str, what: str, name: str) -> str:
    text = f"[{prefix}] Run {what}: {name}".encode("ascii", "replace").decode()
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 3] + "..."


def _data_line(detail: dict[str, Any]) -> str | None:
    try:
        given = json.loads(detail.get("input") or "null")
    except ValueError:
        return None
    if not isinstance(given, dict):
        return None
    for field in ("corpus", "dataset"):
        if isinstance(given.get(field), str):
            return f"Data:       {field} {given[field]}"
    return None


def _footer(detail: dict[str, Any], region: str) -> list[str]:
    data = _data_line(detail)
    return ["", *([data] if data else []), f"Execution:  {console_link(region, detail['executionArn'])}"]


def _endpoint_lines(endpoint: Any, deployment: Any = None) -> list[str]:
    if not isinstance(endpoint, dict):
        return []
    if not endpoint.get("enabled"):
        return ["Endpoint:   none deployed by this run (deploy_endpoint was false)"]
    if isinstance(deployment, dict) and deployment.get("serves_this_run") is False:
        return [f"Endpoint:   {endpoint.get('endpoint_name')} left as it was: {deployment.get('note', '')}"]
    config = f" (endpoint config {endpoint['endpoint_config_name']})" if endpoint.get("endpoint_config_name") else ""
    return [f"Endpoint:   {endpoint.get('endpoint_name')} now serves this run's model{config}"]


def run_document(history: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The run document *Keep run* put in the state (read with includeExecutionData), if it got there."""
    for event in history:
        details = event.get("stateExitedEventDetails") or {}
        if details.get("name") == "Keep run" and details.get("output"):
            try:
                run = json.loads(details["output"]).get("run")
            except (ValueError, AttributeError):
                return None
            return run if isinstance(run, dict) else None
    return None


def _with_costs(lines: list[str], costs: list[str]) -> list[str]:
    return lines + ["", *costs] if costs else lines


def succeeded(detail: dict[str, Any], output: dict[str, Any], *, region: str, prefix: str,
              costs: list[str] = ()) -> Notification:
    run_id = output.get("run_id") or detail["name"]
    lines = [f"Run {run_id} succeeded after {_duration(detail)}.", "", "Outputs"]
    outputs = output.get("outputs") if isinstance(output.get("outputs"), dict) else {}
    for key, value in outputs.items():
        label = _OUTPUT_LABELS.get(key, key.replace("_", " ").capitalize())
        lines.append(f"  {label + ':':<34}{value}")
    if not outputs:
        lines.append("  (the execution output names none)")
    lines = _with_costs(lines + ["", *_endpoint_lines(output.get("endpoint"), output.get("deployment"))], list(costs))
    lines += _footer(detail, region)
    return Notification(_subject(prefix, "succeeded", run_id), "\n".join(lines) + "\n")


def stopped(detail: dict[str, Any], failure: FailurePoint, *, region: str, prefix: str,
            costs: list[str] = ()) -> Notification:
    """A run that FAILED, TIMED_OUT or was ABORTED."""
    status = detail["status"]
    name = detail["name"]
    where = f' in state "{failure.state}"' if failure.state else ""
    if status == "FAILED":
        headline = f"Run {name} failed{where} after {_duration(detail)}."
    elif status == "TIMED_OUT":
        headline = f"Run {name} timed out after {_duration(detail)}, while{where or ' running'}: it ran longer than the execution timeout."
    else:
        headline = f"Run {name} was aborted after {_duration(detail)}, while{where or ' running'}: someone stopped the execution."
    error = detail.get("error") or failure.error
    reason, details = readable_cause(detail.get("cause") or failure.cause)
    lines = [headline, "", f"Error:      {error or 'none recorded'}", f"Cause:      {reason}"]
    if details:
        lines += ["", "Details:", details]
    lines = _with_costs(lines, list(costs)) + _footer(detail, region)
    return Notification(_subject(prefix, _VERB[status], name), "\n".join(lines) + "\n")
