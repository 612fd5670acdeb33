"""The template's promises for starting runs, notifications and monitoring (issue: starting runs)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from ntm_glue.run_notification import FINISHED
from ntm_glue.upload_trigger import rule_key_patterns

from stacks.config import ConfigError, PipelineConfig, load_config
from tests.infra.cfn import Deployment
from tests.infra.synth import Synthesized, synthesize

DEFAULTS = PipelineConfig()


class Rendered(Deployment):
    """The shared renderer, plus what this part's resources refer to: alarm and key ARNs, machine names."""

    def arn(self, logical_id: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        if kind == "AWS::CloudWatch::Alarm":
            return f"arn:{self.partition}:cloudwatch:{self.region}:{self.account}:alarm:{logical_id}"
        if kind == "AWS::KMS::Key":
            return f"arn:{self.partition}:kms:{self.region}:{self.account}:key/{logical_id}"
        return super().arn(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Name" and self.template["Resources"][logical_id]["Type"] == "AWS::StepFunctions::StateMachine":
            return logical_id
        return super().get_att(logical_id, attribute)


def one(synthesized: Synthesized, kind: str, prefix: str) -> tuple[str, dict]:
    (found,) = [(key, value) for key, value in synthesized.resources(kind).items() if key.startswith(prefix)]
    return found


def logical_id(synthesized: Synthesized, kind: str, prefix: str) -> str:
    return one(synthesized, kind, prefix)[0]


def own_statements(synthesized: Synthesized, role: str) -> list[dict]:
    """A function role's statements, without the log and X-Ray ones every glue function has."""
    _, policy = one(synthesized, "AWS::IAM::Policy", f"Functions{role}RoleDefaultPolicy")
    return [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if not str(s["Action"]).startswith(("['logs:", "['xray:"))]


@pytest.fixture(scope="module")
def email_no_endpoint(tmp_path_factory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"), notification_email="ops@example.com", deploy_endpoint=False)


def test_upload_rule_delivers_created_corpus_objects_of_the_data_bucket(synthesized):
    _, rule = one(synthesized, "AWS::Events::Rule", "TriggersUploadRule")
    data = logical_id(synthesized, "AWS::S3::Bucket", "StorageData")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [{"Ref": data}]},
                   "object": {"key": [{"wildcard": pattern} for pattern in rule_key_patterns()]}},
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(synthesized, "AWS::Lambda::Function", "FunctionsStartFromUpload"), "Arn"]}


def s3_event(bucket: str, key: str, detail_type: str = "Object Created") -> dict:
    return {"Source": "aws.s3", "DetailType": detail_type,
            "Detail": json.dumps({"bucket": {"name": bucket}, "object": {"key": key, "size": 5}})}


def test_upload_rule_matches_corpora_and_markers_only(synthesized):
    _, rule = one(synthesized, "AWS::Events::Rule", "TriggersUploadRule")
    pattern = Deployment(synthesized.template).resolve(rule["Properties"]["EventPattern"])
    bucket = pattern["detail"]["bucket"]["name"][0]
    wanted = [(bucket, "incoming/news.jsonl.gz"), (bucket, "incoming/reviews.csv"), (bucket, "incoming/20news/_START")]
    unwanted = [(bucket, "incoming/news.run.json"), (bucket, "incoming/readme.md"), (bucket, "datasets/x/part.jsonl"),
                (bucket, "runs/x/transform/part-00000.pbr.out"), ("another-bucket", "incoming/news.jsonl")]
    with mock_aws():
        events, sqs = boto3.client("events"), boto3.client("sqs")
        queue = sqs.create_queue(QueueName="delivered")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="upload", EventPattern=json.dumps(pattern))
        events.put_targets(Rule="upload", Targets=[{"Id": "queue", "Arn": queue_arn}])
        events.put_events(Entries=[s3_event(b, k) for b, k in wanted + unwanted])
        events.put_events(Entries=[s3_event(bucket, "incoming/news.csv", "Object Deleted")])
        delivered = [json.loads(m["Body"])["detail"] for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert sorted((d["bucket"]["name"], d["object"]["key"]) for d in delivered) == sorted(wanted)


def test_start_from_upload_reads_incoming_and_starts_this_pipeline_only(synthesized):
    data = logical_id(synthesized, "AWS::S3::Bucket", "StorageData")
    machine = logical_id(synthesized, "AWS::StepFunctions::StateMachine", "Pipeline")
    assert own_statements(synthesized, "StartFromUpload") == [
        {"Sid": "ReadUploads", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
         "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [data, "Arn"]}, "/incoming/*"]]}},
        {"Effect": "Allow", "Action": "states:StartExecution", "Resource": {"Ref": machine}},
    ]
    function = logical_id(synthesized, "AWS::Lambda::Function", "FunctionsStartFromUpload")
    permissions = [p["Properties"] for p in synthesized.resources("AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]}]
    rule = logical_id(synthesized, "AWS::Events::Rule", "TriggersUploadRule")
    assert [(p["Principal"], p["SourceArn"]) for p in permissions] == [("events.amazonaws.com", {"Fn::GetAtt": [rule, "Arn"]})]


def test_start_from_upload_checks_input_against_the_deployed_defaults(synthesized):
    _, trigger = one(synthesized, "AWS::Lambda::Function", "FunctionsStartFromUpload")
    _, resolve = one(synthesized, "AWS::Lambda::Function", "FunctionsResolveRun")
    env = trigger["Properties"]["Environment"]["Variables"]
    assert env["RUN_DEFAULTS"] == resolve["Properties"]["Environment"]["Variables"]["RUN_DEFAULTS"]
    assert env["DATA_BUCKET"] == {"Ref": logical_id(synthesized, "AWS::S3::Bucket", "StorageData")}
    assert env["STATE_MACHINE_ARN"] == {"Ref": logical_id(synthesized, "AWS::StepFunctions::StateMachine", "Pipeline")}
    assert trigger["Properties"]["Handler"] == "ntm_glue.handlers.start_from_upload.handler"


def test_every_ending_of_this_state_machine_notifies(synthesized):
    _, rule = one(synthesized, "AWS::Events::Rule", "NotificationsRunFinishedRule")
    machine = logical_id(synthesized, "AWS::StepFunctions::StateMachine", "Pipeline")
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"], "stateMachineArn": [{"Ref": machine}]},
    }
    assert set(FINISHED) == {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(synthesized, "AWS::Lambda::Function", "FunctionsNotifyRunFinished"), "Arn"]}


def test_notify_run_finished_reads_this_pipelines_executions_and_publishes_to_the_topic(synthesized):
    rendered = Rendered(synthesized.template).resolve(own_statements(synthesized, "NotifyRunFinished"))
    actions = {action: statement["Resource"] for statement in rendered
               for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])}
    topic = logical_id(synthesized, "AWS::SNS::Topic", "NotificationsTopic")
    machine = logical_id(synthesized, "AWS::StepFunctions::StateMachine", "Pipeline")
    assert set(actions) == {"sns:Publish", "kms:Decrypt", "kms:GenerateDataKey*",
                            "states:DescribeExecution", "states:GetExecutionHistory", "sagemaker:DescribeTrainingJob",
                            "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTransformJob"}
    # What a run cost: the jobs of this stack only (named under its prefix).
    assert all(f":{kind}/ntm-*" in str(actions["sagemaker:DescribeTrainingJob"])
               for kind in ("training-job", "processing-job", "transform-job"))
    key = logical_id(synthesized, "AWS::KMS::Key", "NotificationsTopicKey")
    assert actions["sns:Publish"] == f"arn:aws:sns:us-east-1:123456789012:{topic}"
    assert actions["kms:GenerateDataKey*"] == f"arn:aws:kms:us-east-1:123456789012:key/{key}"
    # Any execution of this state machine (executions are named per run), and nothing else.
    assert actions["states:GetExecutionHistory"] == actions["states:DescribeExecution"] == (
        f"arn:aws:states:us-east-1:123456789012:execution:{machine}:*")
    _, function = one(synthesized, "AWS::Lambda::Function", "FunctionsNotifyRunFinished")
    assert function["Properties"]["Environment"]["Variables"]["TOPIC_ARN"] == {"Ref": topic}


def test_topic_is_encrypted_tls_only_and_open_to_alarms_of_this_account(synthesized):
    _, topic = one(synthesized, "AWS::SNS::Topic", "NotificationsTopic")
    key_id, key = one(synthesized, "AWS::KMS::Key", "NotificationsTopicKey")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and set(s["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
               for s in key["Properties"]["KeyPolicy"]["Statement"])
    _, policy = one(synthesized, "AWS::SNS::TopicPolicy", "NotificationsTopicPolicy")
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["AllowPublishThroughSSLOnly"]["Effect"] == "Deny"
    assert statements["AllowPublishThroughSSLOnly"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statements["CloudWatchAlarmsPublish"]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_email_subscription_only_when_configured(synthesized, email_no_endpoint):
    assert synthesized.resources("AWS::SNS::Subscription") == {}
    (subscription,) = email_no_endpoint.resources("AWS::SNS::Subscription").values()
    assert (subscription["Properties"]["Protocol"], subscription["Properties"]["Endpoint"]) == ("email", "ops@example.com")


def alarms(synthesized: Synthesized) -> dict[str, dict]:
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synthesized.resources("AWS::CloudWatch::Alarm").values()}


def test_alarms_watch_runs_glue_and_endpoint_and_notify_the_topic(synthesized):
    found = alarms(synthesized)
    machine = {"Name": "StateMachineArn", "Value": {"Ref": logical_id(synthesized, "AWS::StepFunctions::StateMachine", "Pipeline")}}
    endpoint = [{"Name": "EndpointName", "Value": DEFAULTS.endpoint_name}, {"Name": "VariantName", "Value": "AllTraffic"}]
    similar = [{"Name": "EndpointName", "Value": "ntm-similar"}, {"Name": "VariantName", "Value": "AllTraffic"}]
    expected = {
        "ntm-runs-failed": ("AWS/States", "ExecutionsFailed", [machine], 1),
        "ntm-runs-timed-out": ("AWS/States", "ExecutionsTimedOut", [machine], 1),
        "ntm-runs-throttled": ("AWS/States", "ExecutionThrottled", [machine], 1),
        "ntm-start-from-upload-errors": ("AWS/Lambda", "Errors", None, 1),
        "ntm-notify-run-finished-errors": ("AWS/Lambda", "Errors", None, 1),
        "ntm-endpoint-server-errors": ("AWS/SageMaker", "Invocation5XXErrors", endpoint, DEFAULTS.endpoint_5xx_alarm_count),
        # ModelLatency is reported in microseconds.
        "ntm-endpoint-latency": ("AWS/SageMaker", "ModelLatency", endpoint, DEFAULTS.endpoint_latency_alarm_ms * 1000),
        # The similar-documents endpoint's pair (a run may deploy it): they roll its updates back.
        "ntm-similar-server-errors": ("AWS/SageMaker", "Invocation5XXErrors", similar, DEFAULTS.endpoint_5xx_alarm_count),
        "ntm-similar-latency": ("AWS/SageMaker", "ModelLatency", similar, DEFAULTS.endpoint_latency_alarm_ms * 1000),
    }
    assert set(found) == set(expected)
    topic = {"Ref": logical_id(synthesized, "AWS::SNS::Topic", "NotificationsTopic")}
    for name, (namespace, metric, dimensions, threshold) in expected.items():
        alarm = found[name]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Threshold"]) == (namespace, metric, threshold), name
        if dimensions:
            assert alarm["Dimensions"] == dimensions, name
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name
    assert found["ntm-endpoint-latency"]["ExtendedStatistic"] == "p90"


def test_no_endpoint_alarms_without_an_endpoint(email_no_endpoint):
    assert not [name for name in alarms(email_no_endpoint) if "endpoint" in name]


def dashboard_metrics(synthesized: Synthesized) -> tuple[set[tuple[str, ...]], list[str]]:
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(Rendered(synthesized.template).resolve(dashboard["Properties"]["DashboardBody"]))
    metrics, alarm_arns = set(), []
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            if isinstance(line[0], str):  # a metric, not a math expression
                metrics.add(tuple(part for part in line if isinstance(part, str)))
        alarm_arns += widget["properties"].get("alarms", [])
    return metrics, alarm_arns


def test_dashboard_shows_runs_stage_durations_job_outcomes_endpoint_and_alarms(synthesized):
    metrics, alarm_arns = dashboard_metrics(synthesized)
    names = {(m[0], m[1]) for m in metrics}
    for outcome in ("Started", "Succeeded", "Failed", "TimedOut", "Aborted"):
        assert ("AWS/States", f"Executions{outcome}") in names
    assert ("AWS/States", "ExecutionTime") in names
    for job in ("createProcessingJob", "createTrainingJob", "createTransformJob"):
        dimension = f"arn:aws:states:::sagemaker:{job}.sync"
        for metric in ("ServiceIntegrationRunTime", "ServiceIntegrationsSucceeded", "ServiceIntegrationsFailed",
                       "ServiceIntegrationsTimedOut"):
            assert ("AWS/States", metric, "ServiceIntegrationResourceArn", dimension) in metrics, (metric, job)
    for metric in ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency"):
        assert ("AWS/SageMaker", metric, "EndpointName", DEFAULTS.endpoint_name, "VariantName", "AllTraffic") in metrics
    assert len(alarm_arns) == len(alarms(synthesized))


def test_dashboard_leaves_out_the_endpoint_without_one(email_no_endpoint):
    metrics, _ = dashboard_metrics(email_no_endpoint)
    assert not [m for m in metrics if m[0] == "AWS/SageMaker"]


def test_outputs_give_the_console_link_and_the_upload_location(synthesized):
    deployment = Deployment(synthesized.template)
    outputs = {name: deployment.resolve(output["Value"]) for name, output in synthesized.template["Outputs"].items()}
    machine = deployment.ref(logical_id(synthesized, "AWS::StepFunctions::StateMachine", "Pipeline"))
    bucket = deployment.ref(logical_id(synthesized, "AWS::S3::Bucket", "StorageData"))
    assert outputs["StateMachineConsoleUrl"] == (
        f"https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/statemachines/view/{machine}")
    assert outputs["UploadLocation"] == f"s3://{bucket}/incoming/"
    assert outputs["NotificationTopicArn"].startswith("arn:aws:sns:us-east-1:123456789012:")


@pytest.mark.parametrize("key, value", [("endpoint_latency_alarm_ms", 0), ("endpoint_5xx_alarm_count", "many")])
def test_alarm_thresholds_are_checked_config(key, value):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        load_config({key: value}.get)
