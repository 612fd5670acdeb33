"""The optimized SageMaker integration (`arn:aws:states:::sagemaker:<api>[.sync]`) for moto's interpreter.

moto forwards request-response SageMaker calls unchecked and cannot run `.sync` ("Unsupported
.sync callback procedure"). This task service sends the request as the state's role through the
gate, and for `.sync` polls Describe<Job> until the job ends: Completed gives the description as
the state's result; Failed or Stopped fails the state with States.TaskFailed and the description
(holding FailureReason) as the cause. API errors fail the state as the Java-SDK-based integration
names them: `SageMaker.<Code>Exception` for errors the service model declares (ResourceInUse,
ResourceLimitExceeded, ResourceNotFound, Conflict), `SageMaker.AmazonSageMakerException` for the
rest (ValidationException, AccessDeniedException, ThrottlingException), with the code in the cause.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, Final

import botocore.session
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import (
    StateCredentials,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
    ResourceRuntimePart,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.utils import camel_to_snake_case

from tests.harness.state_values import epoch_millis, rendered

# The SageMaker APIs Step Functions integrates (request-response), and those it can run as a job.
REQUEST_RESPONSE: Final = frozenset({
    "createEndpoint", "createEndpointConfig", "createHyperParameterTuningJob", "createLabelingJob",
    "createModel", "createProcessingJob", "createTrainingJob", "createTransformJob", "updateEndpoint"})
RUN_JOB: Final = {"createTrainingJob": "TrainingJob", "createProcessingJob": "ProcessingJob",
                  "createTransformJob": "TransformJob"}
_ENDED: Final = frozenset({"Completed", "Failed", "Stopped"})

ClientFor = Callable[[str, str, str], BaseClient]  # (service, region, role ARN) -> client acting as that role


class SageMakerTaskService(StateTaskServiceCallback):
    # Set by the harness while it runs (moto builds task services itself, without arguments).
    client_for: ClientFor | None = None

    def __init__(self) -> None:
        # waitForTaskToken is listed only because the base class assumes it; it is rejected below.
        super().__init__(supported_integration_patterns={ResourceCondition.Sync, ResourceCondition.WaitForTaskToken})

    def _validate_service_integration_is_supported(self) -> None:
        action, condition = self.resource.api_action, self.resource.condition
        if action not in REQUEST_RESPONSE:
            raise ValueError(f"sagemaker:{action} is not an optimized Step Functions integration")
        if condition is not None and (condition != ResourceCondition.Sync or action not in RUN_JOB):
            raise ValueError(f"sagemaker:{action}.{condition} is not supported by Step Functions "
                             "(or, for tuning and labeling jobs, not emulated by the harness)")

    def _client(self, region: str, credentials: StateCredentials) -> BaseClient:
        if SageMakerTaskService.client_for is None:
            raise RuntimeError("the SageMaker integration runs only inside a harness")
        return SageMakerTaskService.client_for("sagemaker", region, credentials.role_arn)

    def _eval_service_task(self, env: Environment, resource_runtime_part: ResourceRuntimePart,
                           normalised_parameters: dict, state_credentials: StateCredentials) -> None:
        client = self._client(resource_runtime_part.region, state_credentials)
        response = getattr(client, camel_to_snake_case(self.resource.api_action))(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append(rendered(response, epoch_millis))

    def _build_sync_resolver(self, env: Environment, resource_runtime_part: ResourceRuntimePart,
                             normalised_parameters: dict, state_credentials: StateCredentials) -> Callable[[], Any]:
        env.stack.pop()  # the Create<Job> response; the result is the job's description
        noun = RUN_JOB[self.resource.api_action]
        name = normalised_parameters[f"{noun}Name"]
        describe = getattr(self._client(resource_runtime_part.region, state_credentials),
                           f"describe_{camel_to_snake_case(noun)}")

        def resolve() -> dict[str, Any] | None:
            description = describe(**{f"{noun}Name": name})
            description.pop("ResponseMetadata", None)
            description = rendered(description, epoch_millis)
            status = description[f"{noun}Status"]
            if status not in _ENDED:
                return None
            if status == "Completed":
                return description
            raise FailureEventException(self._failure(env, StatesErrorNameType.StatesTaskFailed.to_name(),
                                                      json.dumps(description), StatesErrorName(
                                                          typ=StatesErrorNameType.StatesTaskFailed)))
        return resolve

    def _failure(self, env: Environment, error: str, cause: str, name: Any) -> FailureEvent:
        return FailureEvent(
            env=env, error_name=name, event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
                error=error, cause=cause, resource=self._get_sfn_resource(),
                resourceType=self._get_sfn_resource_type())))

    def _from_error(self, env: Environment, ex: Exception) -> FailureEvent:
        if not isinstance(ex, ClientError):
            return super()._from_error(env=env, ex=ex)
        code = ex.response["Error"]["Code"]
        error = (f"SageMaker.{code.removesuffix('Exception')}Exception" if code in _declared_errors()
                 else "SageMaker.AmazonSageMakerException")
        metadata = ex.response["ResponseMetadata"]
        cause = (f"{ex.response['Error']['Message']} (Service: AmazonSageMaker; Status Code: "
                 f"{metadata['HTTPStatusCode']}; Error Code: {code}; Request ID: {metadata['RequestId']}; "
                 "Proxy: null)")
        return self._failure(env, error, cause, CustomErrorName(error))


@functools.cache
def _declared_errors() -> frozenset[str]:
    return frozenset(shape.name for shape in botocore.session.get_session().get_service_model("sagemaker").error_shapes)
