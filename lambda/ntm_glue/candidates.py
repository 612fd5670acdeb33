"""num_topics candidates: what each training job left, and which one the run carries forward."""

from __future__ import annotations

from typing import Any

# The metric NTM reports on the validation channel; the SageMaker docs' tuning objective.
VALIDATION_LOSS = "validation:total_loss"


class AllCandidatesFailed(RuntimeError):
    """No candidate trained: the run cannot go on. The message lists each candidate's error."""


class UnknownChoice(ValueError):
    """The comparison chose a job that is not among the run's trained candidates."""


def trained(candidate: dict[str, Any], description: dict[str, Any]) -> dict[str, Any]:
    """A trained candidate's record, from its DescribeTrainingJob answer."""
    metrics = {metric["MetricName"]: metric["Value"] for metric in description.get("FinalMetricDataList", [])}
    return {
        "num_topics": candidate["num_topics"],
        "job_name": candidate["job_name"],
        "status": "Trained",
        "model_artifacts": description["ModelArtifacts"]["S3ModelArtifacts"],
        "validation_loss": metrics.get(VALIDATION_LOSS),
    }


def successful(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candidates that trained; none at all fails the run with every candidate's reason."""
    done = [result for result in results if result.get("status") == "Trained"]
    if not done:
        reasons = "; ".join(f"num_topics {r['num_topics']}: {r.get('error', '?')}: {r.get('cause', '')}".strip()
                            for r in results)
        raise AllCandidatesFailed(f"every num_topics candidate failed to train ({reasons})")
    return done


def chosen(results: list[dict[str, Any]], choice: dict[str, Any]) -> dict[str, Any]:
    """The trained candidate the comparison's chosen.json names."""
    for result in successful(results):
        if result["job_name"] == choice.get("job_name"):
            return result
    raise UnknownChoice(f"the comparison chose {choice.get('job_name')!r}, which is not a trained candidate of this run")
