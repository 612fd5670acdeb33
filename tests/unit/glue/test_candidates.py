"""Candidates of a num_topics sweep: their records, the all-failed case, and the comparison's choice."""

import pytest
from ntm_glue.candidates import (
    AllCandidatesFailed,
    UnknownChoice,
    chosen,
    successful,
    trained,
)

CANDIDATE = {"num_topics": 20, "job_name": "ntm-train-k20-x", "hyperparameters": {}}
DESCRIBE = {
    "ModelArtifacts": {"S3ModelArtifacts": "s3://b/runs/x/model/ntm-train-k20-x/output/model.tar.gz"},
    "FinalMetricDataList": [{"MetricName": "validation:total_loss", "Value": 7.25},
                            {"MetricName": "train:total_loss", "Value": 6.5}],
}


def test_a_trained_candidate_keeps_its_artifacts_and_validation_loss():
    assert trained(CANDIDATE, DESCRIBE) == {
        "num_topics": 20, "job_name": "ntm-train-k20-x", "status": "Trained",
        "model_artifacts": "s3://b/runs/x/model/ntm-train-k20-x/output/model.tar.gz", "validation_loss": 7.25}


def test_a_job_without_validation_metric_has_no_loss():
    assert trained(CANDIDATE, {**DESCRIBE, "FinalMetricDataList": []})["validation_loss"] is None


FAILED = {"num_topics": 10, "job_name": "k10", "status": "Failed", "error": "States.TaskFailed", "cause": "capacity"}


def test_failed_candidates_are_left_out_and_all_failing_fails_with_each_reason():
    good = trained(CANDIDATE, DESCRIBE)
    assert successful([FAILED, good]) == [good]
    with pytest.raises(AllCandidatesFailed, match="num_topics 10: States.TaskFailed: capacity"):
        successful([FAILED])


def test_the_choice_must_be_a_trained_candidate():
    good = trained(CANDIDATE, DESCRIBE)
    assert chosen([FAILED, good], {"job_name": "ntm-train-k20-x", "num_topics": 20}) == good
    with pytest.raises(UnknownChoice):
        chosen([FAILED, good], {"job_name": "k10"})
