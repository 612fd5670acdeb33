"""The pipeline's glue Lambdas: one role and one log group each, Powertools from its public layer."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import nag

LAMBDA_DIR = Path(__file__).resolve().parent.parent / "lambda"
RUNTIME = lambda_.Runtime.PYTHON_3_13
# Powertools ships as a public layer, so the functions need no bundling (and no Docker) at synth.
POWERTOOLS_LAYER = "arn:${AWS::Partition}:lambda:${AWS::Region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"


class GlueFunctions(Construct):
    """A factory for the project's Lambdas; they share one code asset (lambda/)."""

    def __init__(self, scope: Construct, construct_id: str, *, log_retention: logs.RetentionDays, retain_logs: bool) -> None:
        super().__init__(scope, construct_id)
        self._code = lambda_.Code.from_asset(str(LAMBDA_DIR), exclude=["**/__pycache__", "**/*.pyc"])
        self._layer = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", Fn.sub(POWERTOOLS_LAYER))
        self._log_retention = log_retention
        self._removal = RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY

    def add(self, name: str, *, handler: str, description: str, environment: dict[str, str],
            timeout: Duration = Duration.seconds(30)) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{name}Logs", retention=self._log_retention, removal_policy=self._removal)
        role = iam.Role(self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"Runs the {name} Lambda")
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            name,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"ntm_glue.handlers.{handler}",
            code=self._code,
            layers=[self._layer],
            role=role,
            log_group=log_group,
            timeout=timeout,
            memory_size=256,
            tracing=lambda_.Tracing.ACTIVE,
            description=description,
            environment={"POWERTOOLS_SERVICE_NAME": "ntm-pipeline", **environment},
        )
        nag.accept(role.node.find_child("DefaultPolicy"), "IAM5[Resource::*]",
                   f"{name}Role: X-Ray's PutTraceSegments and PutTelemetryRecords have no resource type.")
        nag.accept(function, "L1", f"{name}: python3.13 is the newest runtime the Powertools public layer this function uses is confirmed for.")
        return function
