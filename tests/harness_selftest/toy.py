"""A toy pipeline in the resource styles of the app: its definition, roles, policies and functions.

Each policy statement has a Sid, so a test can drop one and see the harness catch it.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.harness import Harness, LambdaFunction

REGION, ACCOUNT = "us-east-1", "123456789012"
BUCKET = "toy-data"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:toy-notifications"
STATES_ROLE = f"arn:aws:iam::{ACCOUNT}:role/toy-states"
SAGEMAKER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/toy-sagemaker"
LAMBDA_ROLE = f"arn:aws:iam::{ACCOUNT}:role/toy-lambda"
RESOLVE_FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:toy-resolve"
IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/ntm:1"
ENDPOINT = "toy-endpoint"


def _sagemaker_arn(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name}"


STATES_POLICY: dict[str, Any] = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Invoke", "Effect": "Allow", "Action": "lambda:InvokeFunction",
     "Resource": [RESOLVE_FUNCTION, f"{RESOLVE_FUNCTION}:*"]},
    {"Sid": "Train", "Effect": "Allow",
     "Action": [f"sagemaker:{verb}{kind}" for verb in ("Create", "Describe", "Stop")
                for kind in ("TrainingJob", "ProcessingJob", "TransformJob")],
     "Resource": [_sagemaker_arn(kind, "toy-*") for kind in ("training-job", "processing-job", "transform-job")]},
    {"Sid": "Deploy", "Effect": "Allow", "Action": ["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig"],
     "Resource": [_sagemaker_arn("model", "toy-*"), _sagemaker_arn("endpoint-config", "toy-*")]},
    # Lower camel case, as CDK's SageMaker task grants write it.
    {"Sid": "Endpoint", "Effect": "Allow", "Action": ["sagemaker:createEndpoint", "sagemaker:updateEndpoint"],
     "Resource": [_sagemaker_arn("endpoint", ENDPOINT), _sagemaker_arn("endpoint-config", "toy-*")]},
    {"Sid": "WatchEndpoint", "Effect": "Allow", "Action": "sagemaker:describeEndpoint", "Resource": "*"},
    {"Sid": "SyncRules", "Effect": "Allow", "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
     "Resource": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForSageMaker{kind}sRule"
                  for kind in ("TrainingJob", "ProcessingJob", "TransformJob")]},
    {"Sid": "PassRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": SAGEMAKER_ROLE,
     "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
    {"Sid": "Notify", "Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC},
]}

SAGEMAKER_POLICY: dict[str, Any] = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
     "Resource": [f"arn:aws:s3:::{BUCKET}", *(f"arn:aws:s3:::{BUCKET}/{prefix}/*"
                                              for prefix in ("incoming", "datasets", "runs"))]},
    {"Sid": "Write", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject*"],
     "Resource": [f"arn:aws:s3:::{BUCKET}/datasets/*", f"arn:aws:s3:::{BUCKET}/runs/*"]},
]}

LAMBDA_POLICY: dict[str, Any] = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Mark", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/runs/*"},
]}


def _task(resource: str, parameters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": f"arn:aws:states:::{resource}", "Parameters": parameters, **fields}


DEFINITION: dict[str, Any] = {"StartAt": "Resolve", "States": {
    "Resolve": _task("lambda:invoke", {"FunctionName": RESOLVE_FUNCTION, "Payload.$": "$"},
                     ResultSelector={"run.$": "$.Payload"}, OutputPath="$.run", Next="Train"),
    "Train": _task("sagemaker:createTrainingJob.sync", {
        "TrainingJobName.$": "$.job_name",
        "RoleArn": SAGEMAKER_ROLE,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "HyperParameters.$": "$.hyperparameters",
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3DataDistributionType": "ShardedByS3Key",
            "S3Uri": f"https://s3.{REGION}.amazonaws.com/{BUCKET}/datasets/toy/train/"}}}],
        "OutputDataConfig": {"S3OutputPath.$": f"States.Format('s3://{BUCKET}/runs/{{}}/model', $.run_id)"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }, ResultSelector={"model.$": "$.ModelArtifacts.S3ModelArtifacts", "status.$": "$.TrainingJobStatus"},
        ResultPath="$.training", Next="Model",
        Catch=[{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failure", "Next": "NotifyFailure"}]),
    "Model": _task("sagemaker:createModel", {
        "ModelName.$": "$.job_name", "ExecutionRoleArn": SAGEMAKER_ROLE,
        "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl.$": "$.training.model"}},
        ResultPath=None, Next="EndpointConfig"),
    "EndpointConfig": _task("sagemaker:createEndpointConfig", {
        "EndpointConfigName.$": "$.job_name",
        "ProductionVariants": [{"VariantName": "all", "ModelName.$": "$.job_name",
                                "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]},
        ResultPath=None, Next="CreateEndpoint"),
    "CreateEndpoint": _task("sagemaker:createEndpoint",
                            {"EndpointName": ENDPOINT, "EndpointConfigName.$": "$.job_name"},
                            ResultPath=None, Next="DescribeEndpoint"),
    "DescribeEndpoint": _task("aws-sdk:sagemaker:describeEndpoint", {"EndpointName": ENDPOINT},
                              ResultSelector={"status.$": "$.EndpointStatus"}, ResultPath="$.endpoint",
                              Next="EndpointReady"),
    "EndpointReady": {"Type": "Choice", "Choices": [
        {"Variable": "$.endpoint.status", "StringEquals": "InService", "Next": "Transform"},
        {"Variable": "$.endpoint.status", "StringEquals": "Failed", "Next": "EndpointFailed"}],
        "Default": "WaitForEndpoint"},
    "WaitForEndpoint": {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "DescribeEndpoint"},
    "EndpointFailed": {"Type": "Fail", "Error": "EndpointFailed", "Cause": "the endpoint did not come up"},
    "Transform": _task("sagemaker:createTransformJob.sync", {
        "TransformJobName.$": "$.job_name", "ModelName.$": "$.job_name",
        "TransformInput": {"ContentType": "application/x-recordio-protobuf", "SplitType": "RecordIO",
                           "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                           "S3Uri": f"s3://{BUCKET}/datasets/toy/transform/"}}},
        "TransformOutput": {"S3OutputPath.$": f"States.Format('s3://{BUCKET}/runs/{{}}/transform', $.run_id)",
                            "Accept": "application/jsonlines", "AssembleWith": "Line"},
        "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.large"}},
        ResultSelector={"status.$": "$.TransformJobStatus"}, ResultPath="$.transform", Next="Notify"),
    "Notify": _task("sns:publish", {"TopicArn": TOPIC, "Message.$": "States.Format('run {} done', $.run_id)"},
                    ResultPath=None, End=True),
    "NotifyFailure": _task("sns:publish", {"TopicArn": TOPIC, "Message.$": "$.failure.Cause"},
                           ResultPath=None, Next="Failed"),
    # "States." names are reserved: a Fail state may not re-raise the caught States.TaskFailed.
    "Failed": {"Type": "Fail", "Error": "TrainingFailed", "CausePath": "$.failure.Cause"},
}}


PREPARE_DEFINITION: dict[str, Any] = {"StartAt": "Prepare", "States": {
    "Prepare": _task("sagemaker:createProcessingJob.sync", {
        "ProcessingJobName.$": "States.Format('toy-prepare-{}', $.run_id)",
        "RoleArn": SAGEMAKER_ROLE,
        "AppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": ["python3", "-m", "prepare"],
                             "ContainerArguments": ["--min-count", "2"]},
        "Environment": {"RUN_ID.$": "$.run_id"},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 10}},
        "ProcessingInputs": [{"InputName": "corpus", "S3Input": {
            "S3Uri": f"s3://{BUCKET}/incoming/corpus/", "LocalPath": "/opt/ml/processing/input/corpus",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "dataset", "S3Output": {
            "S3Uri.$": f"States.Format('s3://{BUCKET}/datasets/{{}}', $.run_id)",
            "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }, ResultSelector={"status.$": "$.ProcessingJobStatus"}, End=True),
}}


def variant(definition: dict[str, Any], state: str, **changes: Any) -> dict[str, Any]:
    """A copy of the definition with some fields of one state replaced (None removes a field)."""
    changed = copy.deepcopy(definition)
    for key, value in changes.items():
        if value is None:
            changed["States"][state].pop(key, None)
        else:
            changed["States"][state][key] = value
    return changed


def without(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    """The policy with one statement removed."""
    trimmed = copy.deepcopy(policy)
    trimmed["Statement"] = [statement for statement in trimmed["Statement"] if statement["Sid"] != sid]
    return trimmed


def set_up(harness: Harness, *, states_policy: dict[str, Any] = STATES_POLICY,
           sagemaker_policy: dict[str, Any] = SAGEMAKER_POLICY) -> None:
    """Account state a deployment of the toy stack would leave, plus a prepared dataset."""
    harness.create_role(STATES_ROLE, trusted_service="states.amazonaws.com", policies={"run": states_policy})
    harness.create_role(SAGEMAKER_ROLE, trusted_service="sagemaker.amazonaws.com", policies={"data": sagemaker_policy})
    harness.create_role(LAMBDA_ROLE, trusted_service="lambda.amazonaws.com", policies={"mark": LAMBDA_POLICY},
                        managed_policy_arns=("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",))
    harness.add_lambda(LambdaFunction(arn=RESOLVE_FUNCTION, handler="tests.harness_selftest.toy_handlers.resolve_run",
                                      role_arn=LAMBDA_ROLE, environment={"DATA_BUCKET": BUCKET}))
    s3 = harness.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key in ("datasets/toy/train/part-00000.pbr", "datasets/toy/transform/part-00000.pbr"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"records")
    for name, text in (("a.txt", "topic model topic"), ("nested/b.txt", "model words")):
        s3.put_object(Bucket=BUCKET, Key=f"incoming/corpus/{name}", Body=text.encode())
    harness.client("sns").create_topic(Name=TOPIC.rsplit(":", 1)[-1])
