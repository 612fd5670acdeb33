"""SageMaker task states with exactly the request each sends and the permissions each needs.

The states are written as plain ASL (CustomState) rather than through the typed task classes:
per-run instance types and hyperparameter maps come from the run document, which those classes
cannot take from a path, and their grants spell some actions in lower camel case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks import nag

# The managed EventBridge rules Step Functions uses to learn that a `.sync` job ended.
SYNC_RULES = {
    "TrainingJob": "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
    "ProcessingJob": "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
    "TransformJob": "StepFunctionsGetEventsForSageMakerTransformJobsRule",
}

# API errors worth another try: SageMaker reports throttling and transient faults under this name,
# but validation errors too, so the retries are few and short (10 + 20 + 40 s).
TRANSIENT_ERRORS = ["SageMaker.AmazonSageMakerException", "ThrottlingException", "SageMaker.ThrottlingException"]


@dataclass(frozen=True)
class SageMakerCall:
    """One SageMaker operation as a state: `action` is the API name, e.g. CreateTrainingJob."""

    action: str
    run_job: bool = False

    @property
    def resource(self) -> str:
        operation = self.action[0].lower() + self.action[1:]
        return f"arn:{Aws.PARTITION}:states:::sagemaker:{operation}" + (".sync" if self.run_job else "")


def task(scope: Construct, state_id: str, call: SageMakerCall, parameters: dict[str, Any], *,
         result_selector: dict[str, str], result_path: str, comment: str) -> sfn.CustomState:
    """A SageMaker task whose (selected) result lands under its own key, never over the run document.

    Both are required: a CustomState cannot say `"ResultPath": null` (the value is dropped on the
    way to JSON), and without a ResultPath the API's answer would replace the whole state.
    """
    state: dict[str, Any] = {
        "Type": "Task",
        "Comment": comment,
        "Resource": call.resource,
        "Parameters": parameters,
        "ResultSelector": result_selector,
        "ResultPath": result_path,
    }
    custom = sfn.CustomState(scope, state_id, state_json=state)
    custom.add_retry(errors=TRANSIENT_ERRORS, interval=Duration.seconds(10), max_attempts=3, backoff_rate=2.0)
    return custom


def _arn(scope: Construct, resource: str, name: str) -> str:
    return Stack.of(scope).format_arn(service="sagemaker", resource=resource, resource_name=name)


# What each owned SageMaker resource kind is called in a reason, and the state machine names it.
_OWNED_KINDS = {"training-job": "training jobs", "processing-job": "processing jobs", "transform-job": "transform jobs",
                "model": "models", "endpoint-config": "endpoint configs"}


def grant_sagemaker_tasks(role: iam.Role, *, name_prefix: str, endpoint_name: str, sagemaker_role: iam.IRole) -> None:
    """Give the state machine's role exactly what its SageMaker tasks need, and acknowledge the
    name-prefix wildcards that naming per run makes necessary."""
    owned = {kind: _arn(role, kind, f"{name_prefix}-*") for kind in _OWNED_KINDS}
    statements = [
        iam.PolicyStatement(
            sid="RunJobs",
            actions=[f"sagemaker:{verb}{kind}" for kind in SYNC_RULES for verb in ("Create", "Describe", "Stop")],
            resources=[owned["training-job"], owned["processing-job"], owned["transform-job"]],
        ),
        iam.PolicyStatement(
            sid="CreateModelsAndEndpointConfigs",
            actions=["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig"],
            resources=[owned["model"], owned["endpoint-config"]],
        ),
        iam.PolicyStatement(
            sid="TagEndpointConfigs",  # with the start time of the run that made each
            actions=["sagemaker:AddTags"],
            resources=[owned["endpoint-config"]],
        ),
        iam.PolicyStatement(
            sid="DeployEndpoint",
            actions=["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint"],
            resources=[_arn(role, "endpoint", endpoint_name), owned["endpoint-config"]],
        ),
        iam.PolicyStatement(
            sid="LearnWhenJobsEnd",
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[Stack.of(role).format_arn(service="events", resource="rule", resource_name=rule)
                       for rule in SYNC_RULES.values()],
        ),
        iam.PolicyStatement(
            sid="PassSageMakerRole",
            actions=["iam:PassRole"],
            resources=[sagemaker_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
    ]
    for statement in statements:
        role.add_to_principal_policy(statement)
    policy = role.node.find_child("DefaultPolicy")
    for kind, words in _OWNED_KINDS.items():
        nag.accept(policy, f"IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{kind}/{name_prefix}-*]",
                   f"StateMachine role: {words} are named per run; only this stack's name prefix.")
