"""The pipeline's glue Lambdas, called as Lambda calls them, against moto's S3 and SageMaker."""

import datetime
import json

import boto3
import pytest
from moto import mock_aws
from ntm_glue.dataset_manifest import DatasetError
from ntm_glue.handlers import endpoint_status, load_dataset, resolve_run
from ntm_glue.run_input import RunInputError


def test_resolve_run_from_console_input(resolve_env, context):
    run = resolve_run.handler({"input": {"dataset": "s3://data-bucket/datasets/news/", "num_topics": 12},
                               "execution": "console-1"}, context)
    assert run["run_id"] == "console-1"
    assert run["training"]["candidates"][0]["hyperparameters"]["num_topics"] == "12"
    assert (run["deploy"]["max_polls"], run["deploy"]["poll_seconds"]) == (90, 45)  # from the environment
    json.dumps(run)  # Step Functions carries it as JSON


def test_resolve_run_rejects_bad_input_with_the_field(resolve_env, context):
    with pytest.raises(RunInputError, match="^training.instance_count"):
        resolve_run.handler({"input": {"dataset": "s3://data-bucket/datasets/news/",
                                       "training": {"instance_count": 99}}, "execution": "x"}, context)


def _run(resolve_env, context):
    return resolve_run.handler({"input": {"dataset": "s3://data-bucket/datasets/news/"}, "execution": "e1"}, context)


@mock_aws
def test_load_dataset_reads_the_manifest(resolve_env, context):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data-bucket")
    s3.put_object(Bucket="data-bucket", Key="datasets/news/manifest.json", Body=json.dumps({
        "format_version": 1, "vocabulary_size": 2000, "documents": {"train": 10, "validation": 2, "test": 2},
        "files": {"train": ["train/part-00000.pbr", "train/part-00001.pbr"], "serving": "serving/model.tar.gz"}}))
    inputs = load_dataset.handler({"run": _run(resolve_env, context)}, context)
    assert inputs["candidates"][0]["hyperparameters"]["feature_dim"] == "2000"
    assert inputs["vocabulary_size"] == 2000


@mock_aws
def test_load_dataset_without_a_manifest_says_the_dataset_is_incomplete(resolve_env, context):
    boto3.client("s3").create_bucket(Bucket="data-bucket")
    with pytest.raises(DatasetError, match="no manifest at s3://data-bucket/datasets/news/manifest.json"):
        load_dataset.handler({"run": _run(resolve_env, context)}, context)


@mock_aws
def test_endpoint_status_absent_then_present(context):
    assert endpoint_status.handler({"endpoint_name": "ntm-topics"}, context) == {
        "exists": False, "status": "Absent", "failure_reason": "", "busy": False, "endpoint_config_name": "",
        "newer_run_deployed": False, "rolled_back": False, "rollback_cause": ""}
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                           PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/ntm:1"})
    sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m4.xlarge", "InitialInstanceCount": 1}])
    sagemaker.create_endpoint(EndpointName="ntm-topics", EndpointConfigName="c")
    status = endpoint_status.handler({"endpoint_name": "ntm-topics"}, context)
    assert status["exists"] is True and status["status"] in ("Creating", "InService")
    assert status["endpoint_config_name"] == "c"  # what a failed smoke test restores


@mock_aws
def test_endpoint_status_tells_a_rolled_back_update_and_names_the_alarm(context):
    sagemaker, cloudwatch = boto3.client("sagemaker"), boto3.client("cloudwatch")
    sagemaker.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                           PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/ntm:1"})
    sagemaker.create_endpoint_config(EndpointConfigName="old", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m4.xlarge", "InitialInstanceCount": 1}])
    sagemaker.create_endpoint(EndpointName="ntm-topics", EndpointConfigName="old")
    for name in ("ntm-endpoint-server-errors", "ntm-endpoint-latency"):
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
                                    Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanOrEqualToThreshold")
    started = datetime.datetime.now(datetime.timezone.utc).isoformat()  # after the alarms last changed
    cloudwatch.set_alarm_state(AlarmName="ntm-endpoint-server-errors", StateValue="ALARM", StateReason="5xx")
    event = {"endpoint_name": "ntm-topics", "run_started_at": started, "expected_config": "ours",
             "alarms": ["ntm-endpoint-server-errors", "ntm-endpoint-latency"]}
    status = endpoint_status.handler(event, context)
    if status["status"] != "InService":  # moto's endpoint may still be Creating on the first describe
        status = endpoint_status.handler(event, context)
    assert status["rolled_back"] is True
    assert "rolled back by alarm ntm-endpoint-server-errors; the endpoint is InService and still serves old" in status["rollback_cause"]


@mock_aws
def test_endpoint_status_tells_whether_a_newer_run_deployed_the_endpoint(context):
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                           PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/ntm:1"})
    sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m4.xlarge", "InitialInstanceCount": 1}],
        Tags=[{"Key": "ntm:run-started-at", "Value": "2026-12-01T10:00:00.000Z"}])
    sagemaker.create_endpoint(EndpointName="ntm-topics", EndpointConfigName="c")
    older = endpoint_status.handler({"endpoint_name": "ntm-topics", "run_started_at": "2026-12-01T09:59:59.999Z"}, context)
    newer = endpoint_status.handler({"endpoint_name": "ntm-topics", "run_started_at": "2026-12-01T10:00:01.000Z"}, context)
    assert older["newer_run_deployed"] is True and newer["newer_run_deployed"] is False
    assert older["endpoint_config_name"] == "c" and older["busy"] is False
