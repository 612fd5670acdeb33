"""What one execution did, read back from its history, the request log and the virtual clock."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.harness.clock import Pause
from tests.harness.gate import RequestRecord

# History events that report a failure inside a state, and the key of their details.
_FAILURE_DETAILS = {
    "TaskFailed": "taskFailedEventDetails", "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails", "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "ExecutionFailed": "executionFailedEventDetails",
}


@dataclass
class StateRun:
    """One entry into a state: a state inside a loop has one run per pass."""

    name: str
    type: str  # Task, Pass, Choice, Wait, ...
    input: Any
    started_at: datetime.datetime
    ended_at: datetime.datetime | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    requests: list[RequestRecord] = field(default_factory=list)
    paused_seconds: float = 0.0  # virtual time: Wait seconds and Retry intervals, not slept

    @property
    def seconds(self) -> float:
        """Wall-clock time the state took here (history timestamps have millisecond resolution)."""
        return ((self.ended_at or self.started_at) - self.started_at).total_seconds()


@dataclass(frozen=True)
class ExecutionResult:
    execution_arn: str
    status: str  # SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    output: Any
    error: str | None
    cause: str | None
    states: tuple[StateRun, ...]
    requests: tuple[RequestRecord, ...]  # every request sent while this execution ran a state
    events: tuple[Mapping[str, Any], ...]  # the raw execution history

    def runs(self, name: str) -> list[StateRun]:
        return [run for run in self.states if run.name == name]

    def state(self, name: str) -> StateRun:
        """The last run of a state; KeyError if the execution never entered it."""
        runs = self.runs(name)
        if not runs:
            raise KeyError(f"state {name!r} never ran; ran: {[run.name for run in self.states]}")
        return runs[-1]

    def requests_to(self, service: str, operation: str | None = None) -> list[RequestRecord]:
        return [record for record in self.requests
                if record.service == service and operation in (None, record.operation)]

    def report(self) -> str:
        """One line per state run with its time and requests, for people reading a run."""
        lines = [f"{self.status}: {self.execution_arn}"]
        for run in self.states:
            paused = f" (+{run.paused_seconds:g} s virtual)" if run.paused_seconds else ""
            failure = f"  !! {run.error}: {run.cause}" if run.error else ""
            lines.append(f"  {run.name} [{run.type}] {run.seconds:.3f} s{paused}{failure}")
            lines.extend(f"      {record}" for record in run.requests)
        if self.error:
            lines.append(f"  error {self.error}: {self.cause}")
        return "\n".join(lines)


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return next((value for key, value in event.items() if key.endswith("EventDetails")), {})


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _run_at(runs: list[StateRun], name: str | None, moment: datetime.datetime) -> StateRun | None:
    """The latest run of `name` that had started by `moment`."""
    started = [run for run in runs if run.name == name and run.started_at <= moment]
    return started[-1] if started else None


def build(description: Mapping[str, Any], events: Iterable[Mapping[str, Any]],
          records: Iterable[RequestRecord], pauses: Iterable[Pause]) -> ExecutionResult:
    arn = description["executionArn"]
    events = tuple(events)
    runs: list[StateRun] = []
    open_runs: list[StateRun] = []
    for event in events:
        kind, details, moment = event["type"], _details(event), event["timestamp"]
        if kind.endswith("StateEntered"):
            run = StateRun(details["name"], kind.removesuffix("StateEntered"), _json(details.get("input")), moment)
            runs.append(run)
            open_runs.append(run)
        elif kind.endswith("StateExited"):
            run = next(run for run in reversed(open_runs) if run.name == details["name"])
            run.ended_at, run.output = moment, _json(details.get("output"))
            open_runs.remove(run)
        elif kind in _FAILURE_DETAILS and open_runs:
            open_runs[-1].error, open_runs[-1].cause = details.get("error"), details.get("cause")
            if kind == "ExecutionFailed":
                open_runs[-1].ended_at = moment
    mine = tuple(record for record in records if record.execution_arn == arn)
    for record in mine:
        run = _run_at(runs, record.state, record.at)
        if run is not None:
            run.requests.append(record)
    for pause in pauses:
        run = _run_at(runs, pause.state, pause.at) if pause.execution_arn == arn else None
        if run is not None:
            run.paused_seconds += pause.seconds
    return ExecutionResult(
        execution_arn=arn, status=description["status"], output=_json(description.get("output")),
        error=description.get("error"), cause=description.get("cause"), states=tuple(runs),
        requests=mine, events=events)
