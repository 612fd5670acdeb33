"""Offline execution harness: real state machine definitions run in moto's Step Functions
interpreter, with SageMaker `.sync` jobs, in-process Lambda handlers, botocore model validation
and IAM checks of every request (see harness.py for the entry point)."""

from tests.harness.gate import Progress, RequestRecord
from tests.harness.harness import Harness, LambdaFailed
from tests.harness.lambda_runtime import LambdaFunction
from tests.harness.result import ExecutionResult, StateRun
from tests.harness.sagemaker_endpoints import ContainerError, ContainerRequest
from tests.harness.sagemaker_jobs import (
    JobFailed,
    ProcessingJobRun,
    TrainingJobRun,
    TransformJobRun,
)

__all__ = [
    "ContainerError", "ContainerRequest", "ExecutionResult", "Harness", "JobFailed", "LambdaFailed", "LambdaFunction", "ProcessingJobRun", "Progress",
    "RequestRecord", "StateRun", "TrainingJobRun", "TransformJobRun",
]
