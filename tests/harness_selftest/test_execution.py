"""A whole toy run: Lambda task, training .sync, model, endpoint loop, transform .sync, SNS."""

import json
import threading
import time

from tests.harness import Harness, LambdaFunction
from tests.harness_selftest import toy, toy_handlers  # noqa: F401 - imported outside any harness, as unit tests do


def test_toy_pipeline_succeeds_with_each_request_sent_by_its_role(harness: Harness) -> None:
    result = harness.run_execution(toy.DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert result.status == "SUCCEEDED", result.report()
    assert result.output["training"] == {"model": "s3://toy-data/runs/r1/model/toy-r1/output/model.tar.gz",
                                         "status": "Completed"}
    assert result.output["transform"] == {"status": "Completed"}
    resolve = result.state("Resolve")
    assert [(r.caller, r.service, r.operation) for r in resolve.requests] == [
        ("states", "lambda", "Invoke"), ("lambda:toy-resolve", "s3", "PutObject"),
        ("lambda:toy-resolve", "sts", "GetCallerIdentity"), ("lambda:toy-resolve", "sts", "GetCallerIdentity")]
    assert {r.caller_role_arn for r in resolve.requests} == {toy.STATES_ROLE, toy.LAMBDA_ROLE}
    # The handler's own boto3 clients signed as the function's role, and saw a Lambda context.
    assert result.output["caller"].startswith("arn:aws:sts::123456789012:assumed-role/toy-lambda/")
    assert result.output["import_time_caller"] == result.output["caller"]
    assert result.output["remaining_ms_positive"] is True
    train = [(r.caller, r.operation) for r in result.state("Train").requests]
    assert train == [("states", "CreateTrainingJob"), ("states", "DescribeTrainingJob"),
                     ("sagemaker:toy-r1", "PutObject"), ("states", "DescribeTrainingJob")]
    model = harness.client("s3").get_object(Bucket=toy.BUCKET, Key="runs/r1/model/toy-r1/output/model.tar.gz")
    assert model["ContentLength"] > 0


def test_endpoint_wait_loop_polls_until_in_service_without_sleeping(harness: Harness, monkeypatch) -> None:
    # moto's Wait state blocks on threading.Event.wait(<the state's seconds>) and its retries on
    # time.sleep: record every blocking call, so that a real 30 s wait is caught without timing
    # anything (threads waiting to be signalled block with huge timeouts, which are not waits).
    blocked: list[float] = []
    event_wait, sleep = threading.Event.wait, time.sleep
    monkeypatch.setattr(threading.Event, "wait", lambda self, timeout=None: (blocked.append(timeout or 0), event_wait(self, timeout))[1])
    monkeypatch.setattr(time, "sleep", lambda seconds: (blocked.append(seconds), sleep(seconds))[1])
    harness.plan_endpoint(toy.ENDPOINT, polls=3)

    result = harness.run_execution(toy.DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert result.status == "SUCCEEDED", result.report()
    assert len(result.runs("DescribeEndpoint")) == 4
    assert [run.paused_seconds for run in result.runs("WaitForEndpoint")] == [30, 30, 30]
    assert 30 not in blocked, "a Wait state really slept"


def test_an_endpoint_that_fails_ends_the_run_at_the_fail_state(harness: Harness) -> None:
    harness.plan_endpoint(toy.ENDPOINT, status="Failed", failure_reason="no capacity", polls=1)

    result = harness.run_execution(toy.DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert (result.status, result.error) == ("FAILED", "EndpointFailed")
    assert harness.client("sagemaker").describe_endpoint(EndpointName=toy.ENDPOINT)["FailureReason"] == "no capacity"
    assert not result.requests_to("sagemaker", "CreateTransformJob")


def test_a_raising_handler_fails_the_task_with_its_error_type() -> None:
    failing = f"arn:aws:lambda:{toy.REGION}:{toy.ACCOUNT}:function:toy-fail"
    policy = json.loads(json.dumps(toy.STATES_POLICY))
    policy["Statement"][0]["Resource"].append(failing)
    definition = toy.variant(toy.DEFINITION, "Resolve", Parameters={"FunctionName": failing, "Payload.$": "$"})
    with Harness() as fresh:
        toy.set_up(fresh, states_policy=policy)
        fresh.add_lambda(LambdaFunction(arn=failing, handler="tests.harness_selftest.toy_handlers.fail",
                                        role_arn=toy.LAMBDA_ROLE))
        result = fresh.run_execution(definition, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert (result.status, result.error) == ("FAILED", "ValueError")
    assert json.loads(result.cause)["errorMessage"] == "bad input: ['run_id']"


def test_an_aws_sdk_get_object_result_carries_the_body_as_text() -> None:
    policy = json.loads(json.dumps(toy.STATES_POLICY))
    policy["Statement"].append({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{toy.BUCKET}/runs/*"})
    definition = {"StartAt": "Get", "States": {"Get": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
        "Parameters": {"Bucket": toy.BUCKET, "Key": "runs/r1/summary.json"},
        "ResultSelector": {"summary.$": "States.StringToJson($.Body)", "modified.$": "$.LastModified"}, "End": True}}}
    with Harness() as harness:
        toy.set_up(harness, states_policy=policy)
        harness.client("s3").put_object(Bucket=toy.BUCKET, Key="runs/r1/summary.json", Body=b'{"topics": 3}')
        result = harness.run_execution(definition, {}, name="r1", role_arn=toy.STATES_ROLE)

    assert result.status == "SUCCEEDED", result.report()
    assert result.output["summary"] == {"topics": 3}
    assert result.output["modified"].endswith("Z")


def test_progress_is_reported_as_the_run_goes() -> None:
    heard = []
    with Harness(on_progress=heard.append) as harness:
        toy.set_up(harness)
        harness.hooks.processing = lambda run: None
        harness.run_execution(toy.PREPARE_DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert [(p.kind, p.state, p.record and p.record.operation) for p in heard] == [
        ("state-entered", "Prepare", None),
        ("request", "Prepare", "CreateProcessingJob"),
        ("request", "Prepare", "ListObjectsV2"),
        ("request", "Prepare", "GetObject"),
        ("request", "Prepare", "GetObject"),
        ("request", "Prepare", "DescribeProcessingJob"),
        ("request", "Prepare", "DescribeProcessingJob"),
        ("state-exited", "Prepare", None)]
    assert heard[-1].seconds > 0


def test_invoke_lambda_runs_a_handler_as_its_role(harness: Harness) -> None:
    output = harness.invoke_lambda("toy-resolve", {"run_id": "direct"})

    assert output["job_name"] == "toy-direct"
    assert [str(record) for record in harness.requests] == [
        "lambda:toy-resolve -> s3:PutObject [ok]", "lambda:toy-resolve -> sts:GetCallerIdentity [ok]",
        "lambda:toy-resolve -> sts:GetCallerIdentity [ok]"]


def test_a_fail_state_may_not_raise_a_reserved_states_error(harness) -> None:
    """The ASL spec reserves "States." names; moto enforces it and the harness keeps that."""
    definition = {"StartAt": "Boom", "States": {
        "Boom": {"Type": "Pass", "Result": {"Error": "States.TaskFailed", "Cause": "x"}, "ResultPath": "$.failure",
                 "Next": "Failed"},
        "Failed": {"Type": "Fail", "ErrorPath": "$.failure.Error", "CausePath": "$.failure.Cause"}}}
    result = harness.run_execution(definition, {}, name="reserved", role_arn=toy.STATES_ROLE)
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
