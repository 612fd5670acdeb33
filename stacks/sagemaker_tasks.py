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


class SageMakerPermissions:
    """Collects the statements the state machine's role needs for the tasks it runs."""

    def __init__(self, scope: Construct, *, name_prefix: str, endpoint_name: str, sagemaker_role: iam.IRole) -> None:
        self._scope = scope
        owned = f"{name_prefix}-*"
        job = lambda kind: _arn(scope, kind, owned)  # noqa: E731
        self.statements = [
            iam.PolicyStatement(
                sid="RunJobs",
                actions=[f"sagemaker:{verb}{kind}" for kind in SYNC_RULES for verb in ("Create", "Describe", "Stop")],
                resources=[job("training-job"), job("processing-job"), job("transform-job")],
            ),
            iam.PolicyStatement(
                sid="CreateModelsAndEndpointConfigs",
                actions=["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig"],
                resources=[job("model"), job("endpoint-config")],
            ),
            iam.PolicyStatement(
                sid="DeployEndpoint",
                actions=["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"],
                resources=[_arn(scope, "endpoint", endpoint_name), job("endpoint-config")],
            ),
            iam.PolicyStatement(
                sid="LearnWhenJobsEnd",
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[Stack.of(scope).format_arn(service="events", resource="rule", resource_name=rule)
                           for rule in SYNC_RULES.values()],
            ),
            iam.PolicyStatement(
                sid="PassSageMakerRole",
                actions=["iam:PassRole"],
                resources=[sagemaker_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]

    def grant(self, role: iam.IRole) -> None:
        for statement in self.statements:
            role.add_to_principal_policy(statement)
