"""SageMaker as the harness emulates it: jobs that run code and fail, endpoints that update."""

import copy
import json

import pytest
from botocore.exceptions import ClientError

from tests.harness import Harness, JobFailed, ProcessingJobRun, TrainingJobRun
from tests.harness_selftest import toy


def test_a_failed_training_job_fails_the_state_with_its_reason(harness: Harness) -> None:
    def diverge(run: TrainingJobRun) -> None:
        assert run.channel("train") == {"datasets/toy/train/part-00000.pbr": b"records"}
        raise JobFailed("AlgorithmError: loss diverged")
    harness.hooks.training = diverge

    result = harness.run_execution(toy.DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert (result.status, result.error) == ("FAILED", "TrainingFailed")
    assert result.state("Train").error == "States.TaskFailed"
    description = json.loads(result.cause)
    assert (description["TrainingJobStatus"], description["FailureReason"]) == (
        "Failed", "AlgorithmError: loss diverged")
    [published] = result.state("NotifyFailure").requests
    assert (published.operation, published.params["Message"]) == ("Publish", result.cause)
    assert not [r for r in result.requests if r.operation in ("CreateModel", "CreateEndpoint")]


def test_a_processing_job_runs_local_code_on_its_s3_inputs(harness: Harness) -> None:
    seen = {}

    def count_words(run: ProcessingJobRun) -> None:
        corpus = run.local_path("/opt/ml/processing/input/corpus")
        seen.update(inputs=run.inputs, arguments=run.arguments, environment=run.environment,
                    files=sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file()))
        words = " ".join(p.read_text() for p in sorted(corpus.rglob("*.txt"))).split()
        (run.outputs["dataset"] / "vocab").mkdir()
        (run.outputs["dataset"] / "vocab" / "counts.json").write_text(json.dumps({w: words.count(w) for w in words}))
    harness.hooks.processing = count_words

    result = harness.run_execution(toy.PREPARE_DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert result.status == "SUCCEEDED", result.report()
    assert result.output == {"status": "Completed"}
    assert list(seen["inputs"]) == ["corpus"]
    assert seen["inputs"]["corpus"].as_posix().endswith("/opt/ml/processing/input/corpus")
    assert seen["files"] == ["a.txt", "nested/b.txt"]
    assert (seen["arguments"], seen["environment"]) == (["--min-count", "2"], {"RUN_ID": "r1"})
    counts = harness.client("s3").get_object(Bucket=toy.BUCKET, Key="datasets/r1/vocab/counts.json")["Body"].read()
    assert json.loads(counts) == {"topic": 2, "model": 2, "words": 1}


def test_a_processing_job_on_several_instances_shards_by_key_and_names_each_instance(harness: Harness) -> None:
    seen = {}

    def record(run: ProcessingJobRun) -> None:
        corpus = run.local_path("/opt/ml/processing/input/corpus")
        config = json.loads(run.local_path("/opt/ml/config/resourceconfig.json").read_text())
        seen[run.host] = (config, sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file()))
        (run.outputs["dataset"] / f"{config['current_host']}.txt").write_text(run.host)
    harness.hooks.processing = record
    prepare = toy.PREPARE_DEFINITION["States"]["Prepare"]
    parameters = copy.deepcopy(prepare["Parameters"])
    parameters["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = 3
    parameters["ProcessingInputs"][0]["S3Input"]["S3DataDistributionType"] = "ShardedByS3Key"
    s3 = harness.client("s3")
    s3.put_object(Bucket=toy.BUCKET, Key="incoming/corpus/c.txt", Body=b"more words")

    result = harness.run_execution(toy.variant(toy.PREPARE_DEFINITION, "Prepare", Parameters=parameters),
                                   {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert result.status == "SUCCEEDED", result.report()
    assert sorted(seen) == ["algo-1", "algo-2", "algo-3"]
    for host, (config, _) in seen.items():
        assert config == {"current_host": host, "hosts": ["algo-1", "algo-2", "algo-3"]}
    shares = [files for _, files in seen.values()]
    assert all(len(files) == 1 for files in shares)
    assert sorted(file for files in shares for file in files) == ["a.txt", "c.txt", "nested/b.txt"]
    outputs = s3.list_objects_v2(Bucket=toy.BUCKET, Prefix="datasets/r1/")["Contents"]
    assert sorted(item["Key"] for item in outputs) == [f"datasets/r1/algo-{n}.txt" for n in (1, 2, 3)]


def test_a_processing_job_whose_code_raises_fails_as_an_algorithm_error(harness: Harness) -> None:
    def broken(run: ProcessingJobRun) -> None:
        raise KeyError("text")
    harness.hooks.processing = broken

    result = harness.run_execution(toy.PREPARE_DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    assert json.loads(result.cause)["FailureReason"] == "AlgorithmError: KeyError: 'text'"


def test_an_existing_endpoint_is_updated_to_the_new_configuration(harness: Harness) -> None:
    sagemaker = harness.client("sagemaker")
    sagemaker.create_model(ModelName="toy-old", ExecutionRoleArn=toy.SAGEMAKER_ROLE,
                           PrimaryContainer={"Image": toy.IMAGE})
    sagemaker.create_endpoint_config(EndpointConfigName="toy-old", ProductionVariants=[
        {"VariantName": "all", "ModelName": "toy-old", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sagemaker.create_endpoint(EndpointName=toy.ENDPOINT, EndpointConfigName="toy-old")
    definition = toy.variant(toy.DEFINITION, "CreateEndpoint",
                             Resource="arn:aws:states:::sagemaker:updateEndpoint")

    result = harness.run_execution(definition, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert result.status == "SUCCEEDED", result.report()
    endpoint = sagemaker.describe_endpoint(EndpointName=toy.ENDPOINT)
    assert (endpoint["EndpointConfigName"], endpoint["EndpointStatus"]) == ("toy-r1", "InService")
    assert [run.output["endpoint"]["status"] for run in result.runs("DescribeEndpoint")] == ["Updating", "InService"]


ALARM = "toy-endpoint-errors"
GUARDED = {"EndpointName": toy.ENDPOINT, "EndpointConfigName.$": "$.job_name", "DeploymentConfig": {
    "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                              "TerminationWaitInSeconds": 600, "MaximumExecutionTimeoutInSeconds": 1800},
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]}}}


def guarded_update(alarm_state: str, *, may_read_alarms: bool = True):
    """The toy's endpoint, updated with a DeploymentConfig whose rollback alarm is `alarm_state`."""
    policy = copy.deepcopy(toy.SAGEMAKER_POLICY)
    if may_read_alarms:
        policy["Statement"].append({"Sid": "Alarms", "Effect": "Allow", "Action": "cloudwatch:DescribeAlarms",
                                    "Resource": f"arn:aws:cloudwatch:{toy.REGION}:{toy.ACCOUNT}:alarm:{ALARM}"})
    with Harness() as harness:
        toy.set_up(harness, sagemaker_policy=policy)
        cloudwatch = harness.client("cloudwatch")
        cloudwatch.put_metric_alarm(AlarmName=ALARM, Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
                                    Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanOrEqualToThreshold")
        cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue=alarm_state, StateReason="test")
        sagemaker = harness.client("sagemaker")
        sagemaker.create_model(ModelName="toy-old", ExecutionRoleArn=toy.SAGEMAKER_ROLE, PrimaryContainer={"Image": toy.IMAGE})
        sagemaker.create_endpoint_config(EndpointConfigName="toy-old", ProductionVariants=[
            {"VariantName": "all", "ModelName": "toy-old", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
        sagemaker.create_endpoint(EndpointName=toy.ENDPOINT, EndpointConfigName="toy-old")
        definition = toy.variant(toy.DEFINITION, "CreateEndpoint",
                                 Resource="arn:aws:states:::sagemaker:updateEndpoint", Parameters=GUARDED)
        result = harness.run_execution(definition, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)
        return result, sagemaker.describe_endpoint(EndpointName=toy.ENDPOINT), harness.requests


def test_an_update_whose_alarm_is_in_alarm_while_baking_is_rolled_back_to_the_old_configuration() -> None:
    result, endpoint, requests = guarded_update("ALARM")
    # The toy does not look at the config: it goes on, as a pipeline that did not check would.
    seen = [run.output["endpoint"]["status"] for run in result.runs("DescribeEndpoint")]
    assert seen[0] == "Updating" and seen[-2:] == ["RollingBack", "InService"], seen
    assert (endpoint["EndpointConfigName"], endpoint["EndpointStatus"]) == ("toy-old", "InService")
    assert ALARM in endpoint["FailureReason"]
    (read,) = [r for r in requests if r.operation == "DescribeAlarms"]
    assert (read.caller_role_arn, read.params["AlarmNames"]) == (toy.SAGEMAKER_ROLE, [ALARM])


def test_an_update_whose_alarm_stays_ok_switches_to_the_new_configuration() -> None:
    result, endpoint, _ = guarded_update("OK")
    assert (endpoint["EndpointConfigName"], endpoint["EndpointStatus"]) == ("toy-r1", "InService")
    assert "FailureReason" not in endpoint or not endpoint["FailureReason"]


def test_an_execution_role_that_may_not_read_the_alarms_is_caught() -> None:
    result, _, _ = guarded_update("OK", may_read_alarms=False)
    assert result.status == "FAILED"
    assert "assumed-role/toy-sagemaker/" in result.cause
    assert f"not authorized to perform: cloudwatch:DescribeAlarms on resource: arn:aws:cloudwatch:{toy.REGION}:" in result.cause


def test_a_transform_naming_a_missing_model_is_refused(harness: Harness) -> None:
    transform = copy.deepcopy(toy.DEFINITION["States"]["Transform"])
    del transform["Parameters"]["ModelName.$"], transform["Next"]
    transform.update(End=True)
    transform["Parameters"]["ModelName"] = "toy-none"

    result = harness.run_execution({"StartAt": "Transform", "States": {"Transform": transform}},
                                   {"run_id": "r1", "job_name": "toy-r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert (result.status, result.error) == ("FAILED", "SageMaker.AmazonSageMakerException")
    assert result.cause.startswith("Could not find model 'arn:aws:sagemaker:us-east-1:123456789012:model/toy-none'")
    assert not harness.client("sagemaker").list_transform_jobs()["TransformJobSummaries"]


def test_an_integration_step_functions_does_not_offer_is_refused_at_deployment(harness: Harness) -> None:
    definition = toy.variant(toy.DEFINITION, "Model", Resource="arn:aws:states:::sagemaker:createModel.sync")

    with pytest.raises(ClientError, match="sagemaker:createModel.sync is not supported"):
        harness.deploy_state_machine(definition, toy.STATES_ROLE, "toy")


def test_retry_intervals_are_virtual(harness: Harness) -> None:
    retry = [{"ErrorEquals": ["SageMaker.AmazonSageMakerException"], "IntervalSeconds": 15, "MaxAttempts": 3,
              "BackoffRate": 2.0}]
    definition = toy.variant(toy.DEFINITION, "Model", Retry=retry,
                             Parameters=dict(toy.DEFINITION["States"]["Model"]["Parameters"],
                                             ExecutionRoleArn=f"arn:aws:iam::{toy.ACCOUNT}:role/missing"))

    result = harness.run_execution(definition, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert result.status == "FAILED"
    assert [r.error_code for r in result.requests_to("sagemaker", "CreateModel")] == ["AccessDeniedException"] * 4
    assert result.state("Model").paused_seconds == 15 + 30 + 60
