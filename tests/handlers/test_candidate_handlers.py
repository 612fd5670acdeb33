"""The sweep's Lambdas against moto: training metrics, collecting candidates, reading the choice."""

import json

import boto3
import pytest
from moto import mock_aws
from ntm_glue.candidates import AllCandidatesFailed
from ntm_glue.handlers import (
    collect_candidates,
    read_choice,
    resolve_run,
    training_metrics,
)

ROLE = "arn:aws:iam::123456789012:role/sagemaker"


def sweep_run(resolve_env, context, num_topics):
    return resolve_run.handler({"input": {"dataset": "s3://data-bucket/datasets/news/", "num_topics": num_topics},
                                "execution": "sweep-1"}, context)


@mock_aws
def test_training_metrics_reads_the_artifacts_of_a_finished_job(resolve_env, context):
    run = sweep_run(resolve_env, context, [10, 20])
    candidate = run["training"]["candidates"][0]
    boto3.client("sagemaker").create_training_job(
        TrainingJobName=candidate["job_name"], RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "382416733822.dkr.ecr.us-east-1.amazonaws.com/ntm:1", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": run["training"]["output_uri"]},
        ResourceConfig={"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600})
    result = training_metrics.handler({"candidate": candidate}, context)
    assert result["status"] == "Trained" and result["num_topics"] == 10
    assert result["model_artifacts"].startswith(run["training"]["output_uri"])


@mock_aws
def test_collect_records_candidates_and_picks_the_only_one(resolve_env, context):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data-bucket")
    run = sweep_run(resolve_env, context, 30)
    trained = {"num_topics": 30, "job_name": "j30", "status": "Trained", "model_artifacts": "s3://x", "validation_loss": 1.0}
    assert collect_candidates.handler({"run": run, "candidates": [trained]}, context) == {"chosen": trained}
    stored = s3.get_object(Bucket="data-bucket", Key="runs/sweep-1/comparison/candidates.json")["Body"].read()
    assert json.loads(stored) == [trained]


@mock_aws
def test_collect_leaves_the_choice_to_the_comparison_and_fails_when_nothing_trained(resolve_env, context):
    boto3.client("s3").create_bucket(Bucket="data-bucket")
    run = sweep_run(resolve_env, context, [10, 20])
    trained = {"num_topics": 20, "job_name": "j20", "status": "Trained", "model_artifacts": "s3://x", "validation_loss": None}
    failed = {"num_topics": 10, "job_name": "j10", "status": "Failed", "error": "States.TaskFailed", "cause": "boom"}
    assert collect_candidates.handler({"run": run, "candidates": [failed, trained]}, context) == {"chosen": None}
    with pytest.raises(AllCandidatesFailed, match="num_topics 10"):
        collect_candidates.handler({"run": run, "candidates": [failed]}, context)


@mock_aws
def test_read_choice_maps_chosen_json_to_the_trained_candidate(resolve_env, context):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data-bucket")
    run = sweep_run(resolve_env, context, [10, 20])
    trained = {"num_topics": 20, "job_name": "j20", "status": "Trained", "model_artifacts": "s3://x", "validation_loss": 3.0}
    s3.put_object(Bucket="data-bucket", Key="runs/sweep-1/comparison/chosen.json",
                  Body=json.dumps({"num_topics": 20, "job_name": "j20"}))
    assert read_choice.handler({"run": run, "candidates": [trained]}, context) == {"chosen": trained}
