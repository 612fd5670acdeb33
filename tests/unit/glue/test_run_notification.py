"""The message of a finished run, for each outcome, as a person reads it."""

import json

import pytest
from ntm_glue.run_notification import (
    MAX_SUBJECT,
    FailurePoint,
    console_link,
    failure_point,
    readable_cause,
    run_document,
    stopped,
    succeeded,
)

REGION = "eu-west-1"
ARN = "arn:aws:states:eu-west-1:123456789012:execution:PipelineStateMachine:news-3f2a9c0d1e2b4a5f"
LINK = ("https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"
        "#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:PipelineStateMachine:news-3f2a9c0d1e2b4a5f")


def detail(status: str, minutes: float = 42, **extra) -> dict:
    """The `detail` of a `Step Functions Execution Status Change` event."""
    start = 1_700_000_000_000
    return {
        "executionArn": ARN,
        "stateMachineArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:PipelineStateMachine",
        "name": "news-3f2a9c0d1e2b4a5f",
        "status": status,
        "startDate": start,
        "stopDate": start + int(minutes * 60_000),
        "input": json.dumps({"corpus": "s3://data-bucket/incoming/news.jsonl.gz", "num_topics": 20}),
        "inputDetails": {"included": True},
        "output": None,
        "outputDetails": None,
        "error": None,
        "cause": None,
        **extra,
    }


SUMMARY = {
    "run_id": "news-k20-news-3f2a9c0d1e2b4a5f",
    "outputs": {
        "run": "s3://data-bucket/runs/news-k20-news-3f2a9c0d1e2b4a5f/",
        "dataset": "s3://data-bucket/datasets/news-k20-news-3f2a9c0d1e2b4a5f/",
        "model_artifacts": "s3://data-bucket/runs/news-k20-news-3f2a9c0d1e2b4a5f/model/ntm-train-x/output/model.tar.gz",
        "model_name": "ntm-model-news-k20-3b1f",
        "num_topics": 20,
        "comparison": "s3://data-bucket/runs/news-k20-news-3f2a9c0d1e2b4a5f/sweep/comparison.json",
        "transform": "s3://data-bucket/runs/news-k20-news-3f2a9c0d1e2b4a5f/transform/",
        "report": "s3://data-bucket/runs/news-k20-news-3f2a9c0d1e2b4a5f/report/report.html",
    },
    "endpoint": {"enabled": True, "endpoint_name": "ntm-topics", "endpoint_config_name": "ntm-epc-news-k20-3b1f",
                 "instance_type": "ml.m4.xlarge", "instance_count": 1, "max_polls": 90, "poll_seconds": 60},
}


def entered(event_id: int, name: str, kind: str = "Task") -> dict:
    return {"type": f"{kind}StateEntered", "id": event_id, "stateEnteredEventDetails": {"name": name, "input": "{}"}}


def test_console_link():
    assert console_link(REGION, ARN) == LINK


def test_success_says_where_the_outputs_and_the_endpoint_are():
    note = succeeded(detail("SUCCEEDED", 75), SUMMARY, region=REGION, prefix="ntm")
    assert note.subject == "[ntm] Run succeeded: news-k20-news-3f2a9c0d1e2b4a5f"
    assert note.body.startswith("Run news-k20-news-3f2a9c0d1e2b4a5f succeeded after 1 h 15 min.\n")
    for label, value in (("Run folder:", SUMMARY["outputs"]["run"]),
                         ("Model artifacts:", SUMMARY["outputs"]["model_artifacts"]),
                         ("Number of topics:", "20"),
                         ("Topic weights (batch transform):", SUMMARY["outputs"]["transform"]),
                         ("Report:", SUMMARY["outputs"]["report"])):
        assert any(line.strip().startswith(label) and line.endswith(value) for line in note.body.splitlines()), label
    assert "Endpoint:   ntm-topics now serves this run's model (endpoint config ntm-epc-news-k20-3b1f)" in note.body
    assert "Data:       corpus s3://data-bucket/incoming/news.jsonl.gz" in note.body
    assert f"Execution:  {LINK}" in note.body
    assert "{" not in note.body, "a person reads this: no raw JSON"


def test_success_without_an_endpoint_and_with_an_output_it_does_not_know():
    summary = {**SUMMARY, "outputs": {**SUMMARY["outputs"], "topic_report": "s3://data-bucket/runs/x/report/"},
               "endpoint": {**SUMMARY["endpoint"], "enabled": False}}
    note = succeeded(detail("SUCCEEDED"), summary, region=REGION, prefix="ntm")
    assert "Endpoint:   none deployed by this run (deploy_endpoint was false)" in note.body
    assert any(line.strip().startswith("Topic report:") and line.endswith("s3://data-bucket/runs/x/report/")
               for line in note.body.splitlines())


def test_failure_names_the_state_the_error_and_the_readable_cause():
    lambda_cause = json.dumps({"errorMessage": "training.instance_count: 99 is outside 1..20",
                               "errorType": "RunInputError", "stackTrace": ["  File handler.py ..."]})
    history = [  # newest first, as the console lists it
        {"type": "ExecutionFailed", "id": 9, "executionFailedEventDetails": {"error": "RunInputError", "cause": lambda_cause}},
        entered(8, "Run failed", "Fail"),
        entered(7, "Reserved error name?", "Choice"),
        {"type": "TaskStateExited", "id": 6, "stateExitedEventDetails": {"name": "Resolve run"}},
        {"type": "TaskFailed", "id": 5, "taskFailedEventDetails": {"error": "RunInputError", "cause": lambda_cause}},
        entered(2, "Resolve run"),
        {"type": "ExecutionStarted", "id": 1, "executionStartedEventDetails": {}},
    ]
    failure = failure_point(history)
    assert failure == FailurePoint("Resolve run", "RunInputError", lambda_cause)
    assert failure_point(reversed(history)) == failure, "the order the API pages arrive in does not matter"
    note = stopped(detail("FAILED", 0.2, error="RunInputError", cause=lambda_cause), failure, region=REGION, prefix="ntm")
    assert note.subject == "[ntm] Run failed: news-3f2a9c0d1e2b4a5f"
    assert note.body.startswith('Run news-3f2a9c0d1e2b4a5f failed in state "Resolve run" after less than a minute.\n')
    assert "Error:      RunInputError" in note.body
    assert "Cause:      RunInputError: training.instance_count: 99 is outside 1..20" in note.body
    assert f"Execution:  {LINK}" in note.body


def test_the_failed_state_is_the_last_one_entered_not_an_earlier_retried_one():
    history = [
        {"type": "ExecutionFailed", "id": 30, "executionFailedEventDetails": {"error": "EndpointFailed",
                                                                             "cause": "Endpoint ntm-topics became Failed: capacity"}},
        entered(29, "Run failed", "Fail"),
        entered(27, "Endpoint failed", "Pass"),
        entered(25, "Endpoint ready?", "Choice"),
        entered(20, "Check endpoint"),
        {"type": "TaskFailed", "id": 12, "taskFailedEventDetails": {"error": "SageMaker.AmazonSageMakerException", "cause": "throttled"}},
        entered(10, "Train topic model"),
    ]
    assert failure_point(history) == FailurePoint("Endpoint failed", "EndpointFailed",
                                                  "Endpoint ntm-topics became Failed: capacity")


def test_a_stage_failure_keeps_the_job_reason_behind_the_reserved_error_name():
    description = json.dumps({"TransformJobStatus": "Failed", "FailureReason": "ClientError: no such model"})
    reason, details = readable_cause(f"States.TaskFailed: {description}")
    assert reason == "ClientError: no such model" and details is not None


def test_sagemaker_failure_reason_is_pulled_out_of_the_json_cause():
    cause = json.dumps({"TrainingJobName": "ntm-train-x", "TrainingJobStatus": "Failed",
                        "FailureReason": "ClientError: No data in the train channel"})
    reason, details = readable_cause(cause)
    assert reason == "ClientError: No data in the train channel" and details == cause


def test_a_huge_cause_is_cut():
    reason, details = readable_cause("x" * 10_000)
    assert details is None and len(reason) < 3100 and reason.endswith("(7000 more characters)")


def test_timeout_says_where_the_run_was():
    history = [
        {"type": "ExecutionTimedOut", "id": 40, "executionTimedOutEventDetails": {"error": "States.Timeout"}},
        {"type": "WaitStateExited", "id": 39, "stateExitedEventDetails": {"name": "Wait for endpoint"}},
        entered(38, "Wait for endpoint", "Wait"),
    ]
    note = stopped(detail("TIMED_OUT", 72 * 60), failure_point(history), region=REGION, prefix="ntm")
    assert note.subject == "[ntm] Run timed out: news-3f2a9c0d1e2b4a5f"
    assert note.body.startswith('Run news-3f2a9c0d1e2b4a5f timed out after 72 h 0 min, while in state "Wait for endpoint": '
                                "it ran longer than the execution timeout.\n")
    assert "Error:      States.Timeout" in note.body and "Cause:      no cause was recorded" in note.body


def test_abort_says_someone_stopped_it_and_where():
    history = [
        {"type": "ExecutionAborted", "id": 15, "executionAbortedEventDetails": {}},
        {"type": "TaskSubmitted", "id": 14, "taskSubmittedEventDetails": {"resource": "createTrainingJob.sync"}},
        entered(12, "Train topic model"),
    ]
    note = stopped(detail("ABORTED", 9), failure_point(history), region=REGION, prefix="ntm")
    assert note.subject == "[ntm] Run was aborted: news-3f2a9c0d1e2b4a5f"
    assert note.body.startswith('Run news-3f2a9c0d1e2b4a5f was aborted after 9 min, while in state "Train topic model": '
                                "someone stopped the execution.\n")
    assert "Error:      none recorded" in note.body


@pytest.mark.parametrize("name", ["x" * 200, "répétition-ünïcode-" * 6, "line\nbreak"])
def test_subject_fits_sns(name):
    note = stopped(detail("FAILED", name=name), FailurePoint(None, None, None), region=REGION, prefix="ntm")
    assert len(note.subject) <= MAX_SUBJECT
    assert note.subject.isascii() and note.subject.isprintable()


def test_the_run_document_comes_from_keep_runs_output_and_costs_close_the_message():
    history = [
        {"id": 1, "type": "ExecutionStarted", "executionStartedEventDetails": {"input": "{}"}},
        {"id": 5, "type": "PassStateExited",
         "stateExitedEventDetails": {"name": "Keep run", "output": json.dumps({"run": {"run_id": "r1"}})}},
    ]
    assert run_document(history) == {"run_id": "r1"}
    assert run_document(history[:1]) is None
    detail = {"executionArn": "arn:aws:states:us-east-1:1:execution:sm:r1", "name": "r1", "status": "FAILED",
              "startDate": 0, "stopDate": 60_000}
    note = stopped(detail, FailurePoint("Train", "E", "c"), region="us-east-1",
                                    prefix="ntm", costs=["What it cost (...)", "  train ..."])
    assert "\n\nWhat it cost (...)\n  train ...\n\nExecution:" in note.body
