"""Start from upload, called as EventBridge calls it, against moto's S3 and Step Functions."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from ntm_glue.handlers import start_from_upload

from stacks.config import PipelineConfig

BUCKET = "data-bucket"
TRIVIAL_DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


def object_created(key: str, version_id: str | None, size: int, sequencer: str = "00617F08299329D189",
                   bucket: str = BUCKET) -> dict:
    """An `Object Created` event as S3 sends it to EventBridge (S3 user guide, ev-events)."""
    uploaded = {"key": key, "size": size, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": sequencer}
    if version_id:
        uploaded["version-id"] = version_id
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2021-11-12T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": uploaded,
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        },
    }


class Pipeline:
    """A data bucket and a state machine to start, in moto; `upload` puts an object and returns its event."""

    def __init__(self, state_machine_arn: str) -> None:
        self.s3 = boto3.client("s3")
        self.sfn = boto3.client("stepfunctions")
        self.state_machine_arn = state_machine_arn

    def upload(self, key: str, body: bytes | str = b'{"text": "a document"}\n', **event: str) -> dict:
        version = self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
        return object_created(key, version, len(body), **event)

    def executions(self) -> list[dict]:
        listed = self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]
        return [self.sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]


@pytest.fixture
def pipeline(monkeypatch):
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        arn = boto3.client("stepfunctions").create_state_machine(
            name="pipeline", definition=TRIVIAL_DEFINITION, roleArn="arn:aws:iam::123456789012:role/pipeline")["stateMachineArn"]
        monkeypatch.setenv("RUN_DEFAULTS", PipelineConfig().run_defaults().serialize())
        monkeypatch.setenv("DATA_BUCKET", BUCKET)
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        yield Pipeline(arn)


def test_an_upload_starts_one_run_on_its_corpus(pipeline, context):
    event = pipeline.upload("incoming/news.jsonl.gz")
    outcome = start_from_upload.handler(event, context)
    (execution,) = pipeline.executions()
    assert outcome["status"] == "started" and outcome["execution_arn"] == execution["executionArn"]
    assert execution["name"] == outcome["execution_name"] and execution["name"].startswith("news-")
    version = event["detail"]["object"]["version-id"]
    assert json.loads(execution["input"]) == {
        "corpus": f"s3://{BUCKET}/incoming/news.jsonl.gz",
        "source": {"bucket": BUCKET, "key": "incoming/news.jsonl.gz", "version_id": version,
                   "sequencer": "00617F08299329D189"},
    }


def test_a_repeated_event_starts_nothing_new(pipeline, context):
    event = pipeline.upload("incoming/news.csv", b"text\nhello world\n")
    first = start_from_upload.handler(event, context)
    # While the run goes on, Step Functions answers the same name and input with the same execution.
    again = start_from_upload.handler(event, context)
    assert again["execution_arn"] == first["execution_arn"]
    pipeline.sfn.stop_execution(executionArn=first["execution_arn"])
    # Once it ended, the name is taken: ExecutionAlreadyExists, which is no error here.
    late = start_from_upload.handler(event, context)
    assert late["status"] == "already started" and late["execution_name"] == first["execution_name"]
    assert len(pipeline.executions()) == 1


def test_a_new_version_of_the_same_key_is_a_new_run(pipeline, context):
    first = start_from_upload.handler(pipeline.upload("incoming/news.jsonl"), context)
    second = start_from_upload.handler(pipeline.upload("incoming/news.jsonl", sequencer="00617F0829932A0000"), context)
    assert second["status"] == "started" and second["execution_name"] != first["execution_name"]
    assert len(pipeline.executions()) == 2


def test_settings_file_overrides_travel_into_the_input(pipeline, context):
    pipeline.s3.put_object(Bucket=BUCKET, Key="incoming/news.run.json",
                           Body=json.dumps({"num_topics": 12, "run_name": "news-k12", "deploy_endpoint": False}))
    start_from_upload.handler(pipeline.upload("incoming/news.jsonl.gz"), context)
    (execution,) = pipeline.executions()
    given = json.loads(execution["input"])
    assert (given["num_topics"], given["run_name"], given["deploy_endpoint"]) == (12, "news-k12", False)


def test_a_folder_corpus_starts_with_its_empty_marker(pipeline, context):
    pipeline.s3.put_object(Bucket=BUCKET, Key="incoming/20news/alt.atheism/49960", Body=b"some text")
    outcome = start_from_upload.handler(pipeline.upload("incoming/20news/_START", b""), context)
    assert outcome["status"] == "started"
    (execution,) = pipeline.executions()
    assert json.loads(execution["input"])["corpus"] == f"s3://{BUCKET}/incoming/20news/"


def test_an_url_encoded_key_is_decoded(pipeline, context):
    event = pipeline.upload("incoming/my news.jsonl")
    event["detail"]["object"]["key"] = "incoming/my+news.jsonl"
    assert start_from_upload.handler(event, context)["status"] == "started"
    (execution,) = pipeline.executions()
    assert json.loads(execution["input"])["corpus"] == f"s3://{BUCKET}/incoming/my news.jsonl"


def ignored(pipeline, context, caplog, event: dict, why: str) -> None:
    outcome = start_from_upload.handler(event, context)
    assert outcome["status"] == "ignored" and why in outcome["message"], outcome
    assert pipeline.executions() == []
    logged = [(record.getMessage(), getattr(record, "status", None)) for record in caplog.records]
    assert any(why in message and status == "ignored" for message, status in logged), logged


def test_a_file_that_is_not_a_corpus_is_ignored_with_a_reason(pipeline, context, caplog):
    ignored(pipeline, context, caplog, pipeline.upload("incoming/readme.md", b"# notes"),
            "neither a corpus file (.jsonl, .jsonl.gz, .ndjson, .ndjson.gz, .csv, .csv.gz) nor a _START marker")


def test_a_part_of_a_folder_corpus_is_ignored_with_a_reason(pipeline, context, caplog):
    ignored(pipeline, context, caplog, pipeline.upload("incoming/20news/part-0001.jsonl"),
            "a folder corpus starts with its marker, incoming/20news/_START")


def test_an_empty_corpus_file_is_ignored(pipeline, context, caplog):
    ignored(pipeline, context, caplog, pipeline.upload("incoming/news.jsonl", b""), "it is empty")


def test_a_settings_file_upload_is_ignored(pipeline, context, caplog):
    ignored(pipeline, context, caplog, pipeline.upload("incoming/news.run.json", b"{}"), "run settings file")


def test_another_bucket_is_ignored(pipeline, context, caplog):
    pipeline.s3.create_bucket(Bucket="elsewhere")
    pipeline.s3.put_object(Bucket="elsewhere", Key="incoming/news.jsonl", Body=b"x")
    ignored(pipeline, context, caplog, object_created("incoming/news.jsonl", None, 1, bucket="elsewhere"),
            "not in the pipeline's data bucket data-bucket")


@pytest.mark.parametrize("settings, why", [
    (b"{num_topics: 12}", "incoming/news.run.json is not valid JSON"),
    (b"[12]", "must hold a JSON object"),
    (json.dumps({"num_topics": 1}).encode(), "is invalid: num_topics"),
    (json.dumps({"training": {"instance_count": 99}}).encode(), "is invalid: training.instance_count: 99 is outside 1..20"),
    (json.dumps({"colour": "blue"}).encode(), "is invalid: input.colour: unknown field"),
    (json.dumps({"corpus": f"s3://{BUCKET}/incoming/other.jsonl"}).encode(), "sets corpus"),
    (json.dumps({"dataset": f"s3://{BUCKET}/datasets/x/"}).encode(), "sets dataset"),
    (b" " * (64 * 1024 + 1), "larger than 64 KiB"),
])
def test_a_bad_settings_file_starts_nothing_and_says_why(pipeline, context, caplog, settings, why):
    pipeline.s3.put_object(Bucket=BUCKET, Key="incoming/news.run.json", Body=settings)
    ignored(pipeline, context, caplog, pipeline.upload("incoming/news.jsonl"), why)


def test_start_execution_failing_otherwise_raises_so_lambda_retries(pipeline, context, monkeypatch):
    monkeypatch.setenv("STATE_MACHINE_ARN", pipeline.state_machine_arn.replace(":pipeline", ":deleted"))
    with pytest.raises(ClientError, match="StateMachineDoesNotExist"):
        start_from_upload.handler(pipeline.upload("incoming/news.jsonl"), context)
