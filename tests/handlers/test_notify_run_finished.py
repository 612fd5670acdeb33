"""Notify run finished, against executions moto really runs, publishing to moto's SNS (read back via SQS)."""

import json
import time

import boto3
import pytest
from moto import mock_aws
from ntm_glue.handlers import notify_run_finished

ROLE = "arn:aws:iam::123456789012:role/pipeline"
SUMMARY = {"run_id": "news-e1", "outputs": {"run": "s3://data-bucket/runs/news-e1/",
                                            "transform": "s3://data-bucket/runs/news-e1/transform/"},
           "endpoint": {"enabled": False, "endpoint_name": "ntm-topics"}}
# Shaped like the pipeline: a stage whose error is caught into $.failure, then the one Fail state.
# (moto refuses a `States.` error name in a Fail state, so the caught error is a SageMaker one.)
FAILING = {"StartAt": "Resolve run", "States": {
    "Resolve run": {"Type": "Pass", "Next": "Train topic model"},
    "Train topic model": {"Type": "Pass", "ResultPath": "$.failure", "Next": "Run failed", "Parameters": {
        "Error": "SageMaker.AmazonSageMakerException",
        "Cause": json.dumps({"FailureReason": "ClientError: No data in the train channel"})}},
    "Run failed": {"Type": "Fail", "ErrorPath": "$.failure.Error", "CausePath": "$.failure.Cause"},
}}
SUCCEEDING = {"StartAt": "Summarize run", "States": {
    "Summarize run": {"Type": "Pass", "Result": SUMMARY, "Next": "Run succeeded"},
    "Run succeeded": {"Type": "Succeed"},
}}


class Notifications:
    def __init__(self) -> None:
        self.sfn = boto3.client("stepfunctions")
        sqs = boto3.client("sqs")
        self.queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        self.sqs = sqs
        topic = boto3.client("sns").create_topic(Name="runs")["TopicArn"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        self.topic = topic

    def finished_event(self, definition: dict, *, include_output: bool = True) -> dict:
        """Run an execution to its end and return the status-change event EventBridge would deliver."""
        machine = self.sfn.create_state_machine(name=f"sm{time.monotonic_ns()}", definition=json.dumps(definition),
                                                roleArn=ROLE)["stateMachineArn"]
        arn = self.sfn.start_execution(stateMachineArn=machine, name="news-e1", input=json.dumps(
            {"corpus": "s3://data-bucket/incoming/news.jsonl"}))["executionArn"]
        execution = self.sfn.describe_execution(executionArn=arn)
        for _ in range(200):
            if execution["status"] != "RUNNING":
                break
            time.sleep(0.02)
            execution = self.sfn.describe_execution(executionArn=arn)
        detail = {"executionArn": arn, "stateMachineArn": machine, "name": execution["name"],
                  "status": execution["status"], "startDate": 1_700_000_000_000, "stopDate": 1_700_000_600_000,
                  "input": execution["input"], "inputDetails": {"included": True},
                  "output": execution.get("output") if include_output else None,
                  "outputDetails": {"included": include_output},
                  "error": execution.get("error"), "cause": execution.get("cause")}
        return {"version": "0", "id": "315c1398-40ff-a850-213b-158f73e60175",
                "detail-type": "Step Functions Execution Status Change", "source": "aws.states",
                "account": "123456789012", "time": "2023-11-14T22:23:20Z", "region": "us-east-1",
                "resources": [arn], "detail": detail}

    def received(self) -> list[dict]:
        messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def notifications(monkeypatch):
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        inbox = Notifications()
        monkeypatch.setenv("TOPIC_ARN", inbox.topic)
        monkeypatch.setenv("NAME_PREFIX", "ntm")
        yield inbox


def test_a_failed_run_publishes_the_failed_state_error_and_cause(notifications, context):
    event = notifications.finished_event(FAILING)
    assert event["detail"]["status"] == "FAILED"
    notify_run_finished.handler(event, context)
    (message,) = notifications.received()
    assert message["Subject"] == "[ntm] Run failed: news-e1"
    body = message["Message"]
    assert body.startswith('Run news-e1 failed in state "Train topic model" after 10 min.')
    assert "Error:      SageMaker.AmazonSageMakerException" in body
    assert "Cause:      ClientError: No data in the train channel" in body
    assert f"#/v2/executions/details/{event['detail']['executionArn']}" in body


@pytest.mark.parametrize("include_output", [True, False], ids=["output in event", "output too large for the event"])
def test_a_succeeded_run_publishes_where_its_outputs_are(notifications, context, include_output):
    notify_run_finished.handler(notifications.finished_event(SUCCEEDING, include_output=include_output), context)
    (message,) = notifications.received()
    assert message["Subject"] == "[ntm] Run succeeded: news-e1"
    assert "s3://data-bucket/runs/news-e1/transform/" in message["Message"]
    assert "Endpoint:   none deployed by this run" in message["Message"]


def test_a_run_still_going_publishes_nothing(notifications, context):
    event = notifications.finished_event(SUCCEEDING)
    event["detail"]["status"] = "RUNNING"
    assert notify_run_finished.handler(event, context)["published"] == ""
    assert notifications.received() == []
