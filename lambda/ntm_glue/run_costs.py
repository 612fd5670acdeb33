"""What a run cost: each SageMaker job of the run, its instances and the seconds SageMaker billed.

Read from the jobs' own descriptions (DescribeTrainingJob's BillableTimeInSeconds and
TrainingTimeInSeconds; processing and transform jobs bill from their start to their end time),
never from a price list that could go stale: a reader multiplies by the price of the day.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

# The kinds of job a run starts, with the API noun that describes each. The similar-documents stage
# (SageMaker k-NN, run_config's `similar`) adds four: index, train, query (its transform), and similar (the neighbours file).
_NOUNS = {"prepare": "ProcessingJob", "train": "TrainingJob", "compare": "ProcessingJob",
          "transform": "TransformJob", "report": "ProcessingJob",
          "knn-index": "ProcessingJob", "knn-train": "TrainingJob", "knn-query": "TransformJob",
          "similar": "ProcessingJob"}
_SIMILAR_JOBS = (("knn-index", "index_job_name"), ("knn-train", "training_job_name"),
                 ("knn-query", "transform_job_name"), ("similar", "neighbours_job_name"))


@dataclass(frozen=True)
class JobCost:
    stage: str  # prepare, train, compare, transform, knn-index, knn-train, knn-query, similar, report
    job_name: str
    status: str
    instance_type: str
    instance_count: int
    seconds: int  # wall-clock seconds the instances ran (training: TrainingTimeInSeconds)
    billable_seconds: int  # per instance, as SageMaker bills it
    spot: bool = False

    @property
    def instance_seconds(self) -> int:
        return self.billable_seconds * self.instance_count

    @property
    def spot_saving_percent(self) -> int | None:
        """DescribeTrainingJob: savings = (1 - BillableTimeInSeconds / TrainingTimeInSeconds) x 100."""
        if not self.spot or not self.seconds:
            return None
        return round((1 - self.billable_seconds / self.seconds) * 100)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "instance_seconds": self.instance_seconds,
                "spot_saving_percent": self.spot_saving_percent}


def run_jobs(run: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(stage, job name) of every job the run document names, in the order the run starts them."""
    if run.get("prepare", {}).get("enabled"):
        yield "prepare", run["prepare"]["job_name"]
    for candidate in run.get("training", {}).get("candidates", []):
        yield "train", candidate["job_name"]
    if run.get("sweep", {}).get("enabled"):
        yield "compare", run["sweep"]["job_name"]
    if run.get("transform", {}).get("job_name"):
        yield "transform", run["transform"]["job_name"]
    similar = run.get("similar", {})
    if similar.get("enabled"):
        for stage, key in _SIMILAR_JOBS:
            yield stage, similar[key]
    if run.get("report", {}).get("job_name"):
        yield "report", run["report"]["job_name"]


def _seconds(start: Any, end: Any) -> int:
    if not isinstance(start, datetime.datetime) or not isinstance(end, datetime.datetime):
        return 0
    return max(0, round((end - start).total_seconds()))


def job_cost(stage: str, description: dict[str, Any]) -> JobCost:
    """The billing facts of one Describe<Job> answer."""
    noun = _NOUNS[stage]
    if noun == "TrainingJob":
        resources = description.get("ResourceConfig", {})
        seconds = int(description.get("TrainingTimeInSeconds") or 0)
        billable = int(description.get("BillableTimeInSeconds") or 0)
        return JobCost(stage, description["TrainingJobName"], description["TrainingJobStatus"],
                       resources.get("InstanceType", "?"), int(resources.get("InstanceCount", 0)), seconds, billable,
                       bool(description.get("EnableManagedSpotTraining")))
    if noun == "ProcessingJob":
        cluster = description.get("ProcessingResources", {}).get("ClusterConfig", {})
        seconds = _seconds(description.get("ProcessingStartTime"), description.get("ProcessingEndTime"))
        return JobCost(stage, description["ProcessingJobName"], description["ProcessingJobStatus"],
                       cluster.get("InstanceType", "?"), int(cluster.get("InstanceCount", 0)), seconds, seconds)
    resources = description.get("TransformResources", {})
    seconds = _seconds(description.get("TransformStartTime"), description.get("TransformEndTime"))
    return JobCost(stage, description["TransformJobName"], description["TransformJobStatus"],
                   resources.get("InstanceType", "?"), int(resources.get("InstanceCount", 0)), seconds, seconds)


def _not_found(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    message = error.response["Error"].get("Message", "")
    return code == "ResourceNotFound" or (code == "ValidationException" and "not found" in message.lower()) or (
        code == "ValidationException" and "could not find" in message.lower())


def describe_costs(sagemaker: Any, run: dict[str, Any]) -> list[JobCost]:
    """Every job of the run that SageMaker knows (a stage the run never reached has none)."""
    costs = []
    for stage, name in run_jobs(run):
        noun = _NOUNS[stage]
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in noun).lstrip("_")
        try:
            description = getattr(sagemaker, f"describe_{snake}")(**{f"{noun}Name": name})
        except ClientError as error:
            if _not_found(error):
                continue
            raise
        costs.append(job_cost(stage, description))
    return costs


def cost_lines(costs: list[JobCost]) -> list[str]:
    """The notification's "What it cost" section: one line per job and the total instance time."""
    if not costs:
        return []
    lines = ["What it cost (billed seconds from SageMaker; multiply by your instance prices)"]
    for cost in costs:
        spot = ""
        if cost.spot:
            saving = cost.spot_saving_percent
            spot = f", spot: {cost.seconds} s run, {saving}% saved" if saving is not None else ", spot"
        lines.append(f"  {cost.stage:<10}{cost.instance_count} x {cost.instance_type:<16}"
                     f"{cost.billable_seconds:>7} s billed{spot}  ({cost.job_name}, {cost.status})")
    by_type: dict[str, int] = {}
    for cost in costs:
        by_type[cost.instance_type] = by_type.get(cost.instance_type, 0) + cost.instance_seconds
    total = ", ".join(f"{seconds / 3600:.2f} h of {kind}" for kind, seconds in sorted(by_type.items()))
    return lines + [f"  total: {total}"]


# The stages the report's page shows, one row each (it runs before its own job has a cost). Keys are
# fixed: the state machine maps each to an environment variable of the report job.
REPORTED_STAGES = ("prepare", "train", "compare", "transform", "knn-index", "knn-train", "knn-query", "similar")
# A processing job's Environment values are at most 256 characters.
MAX_ENVIRONMENT_VALUE = 256


def stage_summaries(costs: list[JobCost]) -> dict[str, str]:
    """One line per reported stage (several jobs of a stage, e.g. num_topics candidates, in one line),
    and the total so far: what the report page lists, each short enough for an environment variable."""
    lines: dict[str, str] = {}
    for stage in REPORTED_STAGES:
        jobs = [cost for cost in costs if cost.stage == stage]
        if not jobs:
            lines[stage.replace("-", "_")] = "not run"
            continue
        kinds = sorted({f"{cost.instance_count} x {cost.instance_type}" for cost in jobs})
        line = (f"{len(jobs)} job{'s' if len(jobs) > 1 else ''} on {', '.join(kinds)}: "
                f"{sum(cost.instance_seconds for cost in jobs)} instance-seconds billed")
        savings = [cost.spot_saving_percent for cost in jobs if cost.spot_saving_percent is not None]
        if savings:
            line += f", spot saved {round(sum(savings) / len(savings))}%"
        lines[stage.replace("-", "_")] = line[:MAX_ENVIRONMENT_VALUE]
    total = cost_lines(costs)[-1].strip() if costs else "total: nothing billed yet"
    lines["total"] = f"{total} (before the report job; the run's notification has every job)"[:MAX_ENVIRONMENT_VALUE]
    return lines
