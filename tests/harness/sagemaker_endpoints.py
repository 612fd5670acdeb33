"""Models, endpoint configurations and endpoints as SageMaker treats them, on top of moto's records.

What moto lacks and is added here, for requests sent by a principal:
- creating a model, endpoint configuration or endpoint whose name exists fails (moto overwrites);
- a model's ExecutionRoleArn must exist and trust SageMaker; a config's models must exist;
- an endpoint is Creating (or Updating) until described `polls` times, then takes the outcome the
  scenario planned (default InService), so a DescribeEndpoint/Wait/Choice loop really loops;
- UpdateEndpoint (not implemented by moto) is a blue/green deployment: the endpoint is Updating and
  still names its old configuration (as SageMaker's "Endpoint Deployment State Change" event shows:
  the new one is only pending) until the update ends; then, with a DeploymentConfig whose
  AutoRollbackConfiguration names alarms, the baking period is over and SageMaker reads them as
  the new model's execution role (deployment-guardrails-configuration: that role needs
  cloudwatch:DescribeAlarms): one in ALARM rolls the update back (RollingBack for one describe,
  then InService on the old configuration with a FailureReason), none switches it to the new one;
- sagemaker-runtime InvokeEndpoint runs the endpoint's model container by container (a serial
  inference pipeline: each container's answer, with its content type, is the next one's request;
  the caller's Accept goes to the last), each through the scenario's `serve` hook, which reads the
  container's ModelDataUrl as the model's execution role.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from tests.harness.gate import RequestGate, ServiceError, read_payload
from tests.harness.principals import Identities, Principal
from tests.harness.sagemaker_jobs import SAGEMAKER_PRINCIPAL

_IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")


# The harness's wording: AWS does not document the FailureReason of an alarm rollback (and the
# pipeline never parses it: it compares the endpoint's configuration with the one it asked for).
ROLLBACK_REASON = "Deployment rolled back: alarm {alarms} went into ALARM during the baking period"


@dataclass
class PendingUpdate:
    """An UpdateEndpoint in progress: what the endpoint becomes, or returns to."""

    old_config: str
    new_config: str
    variants: list[dict[str, Any]]
    alarms: list[str]
    execution_role_arn: str
    rolling_back: str = ""  # the alarms that went off, once the rollback started


@dataclass(frozen=True)
class EndpointPlan:
    status: str = "InService"
    failure_reason: str | None = None
    polls: int | None = None  # describes that still see Creating/Updating; None: the harness default


class ContainerError(Exception):
    """Raised by a `serve` hook: the container answered this HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class ContainerRequest:
    container: dict[str, Any]  # the model's container definition (Image, ModelDataUrl, Environment)
    body: bytes
    content_type: str | None
    accept: str | None  # the caller's Accept for the last container, None for the others
    s3: BaseClient  # acts as the model's execution role


# A container's answer: (body, content type).
ServeHook = Callable[[ContainerRequest], tuple[bytes, str]]


@dataclass
class SageMakerEndpoints:
    identities: Identities
    backend: Callable[[], Any]  # moto's SageMakerModelBackend of the harness's account and region
    service_client: Callable[[str], BaseClient]
    polls: int
    plans: dict[str, EndpointPlan] = field(default_factory=dict)
    serve: ServeHook | None = None
    _pending: dict[str, int] = field(default_factory=dict, init=False)
    _updates: dict[str, PendingUpdate] = field(default_factory=dict, init=False)

    def register(self, gate: RequestGate) -> None:
        gate.intercept("sagemaker", "CreateModel", self._check_model)
        gate.intercept("sagemaker", "CreateEndpointConfig", self._check_endpoint_config)
        gate.intercept("sagemaker", "CreateEndpoint", self._check_endpoint)
        gate.observe("sagemaker", "CreateEndpoint", self._transition("Creating"))
        gate.intercept("sagemaker", "UpdateEndpoint", self._update_endpoint)
        gate.intercept("sagemaker", "DescribeEndpoint", self._described)
        gate.intercept("sagemaker-runtime", "InvokeEndpoint", self._invoke_endpoint)

    def _exists(self, operation: str, **params: str) -> dict[str, Any] | None:
        try:
            return getattr(self.service_client("sagemaker"), operation)(**params)
        except ClientError:
            return None

    def _arn(self, kind: str, name: str) -> str:
        scope = self.identities
        return f"arn:aws:sagemaker:{scope.region}:{scope.account}:{kind}/{name}"

    def _check_model(self, _: Principal, params: dict[str, Any]) -> None:
        if self._exists("describe_model", ModelName=params["ModelName"]):
            raise ServiceError("ValidationException",
                               f'Cannot create already existing model "{self._arn("model", params["ModelName"])}".')
        role_arn = params.get("ExecutionRoleArn")
        if role_arn and not self.identities.trusts(role_arn, SAGEMAKER_PRINCIPAL):
            raise ServiceError("ValidationException", f"Could not assume role {role_arn}. Please ensure that the "
                               f"role exists and allows principal '{SAGEMAKER_PRINCIPAL}' to assume the role.")

    def _check_endpoint_config(self, _: Principal, params: dict[str, Any]) -> None:
        name = params["EndpointConfigName"]
        if self._exists("describe_endpoint_config", EndpointConfigName=name):
            raise ServiceError("ValidationException", "Cannot create already existing endpoint configuration "
                               f'"{self._arn("endpoint-config", name)}".')
        for variant in params.get("ProductionVariants", []):
            if not self._exists("describe_model", ModelName=variant["ModelName"]):
                raise ServiceError("ValidationException",
                                   f'Could not find model "{self._arn("model", variant["ModelName"])}".')

    def _check_endpoint(self, _: Principal, params: dict[str, Any]) -> None:
        name = params["EndpointName"]
        if self._exists("describe_endpoint", EndpointName=name):
            raise ServiceError("ValidationException",
                               f'Cannot create already existing endpoint "{self._arn("endpoint", name)}".')

    def _transition(self, status: str) -> Callable[[Principal, dict[str, Any], dict[str, Any]], None]:
        def start(_: Principal, params: dict[str, Any], __: dict[str, Any]) -> None:
            self._enter(params["EndpointName"], status)
        return start

    def _enter(self, name: str, status: str) -> None:
        endpoint = self.backend().endpoints[name]
        endpoint.endpoint_status = status
        endpoint.failure_reason = None
        endpoint.last_modified_time = datetime.datetime.now(datetime.timezone.utc)
        plan = self.plans.get(name, EndpointPlan())
        self._pending[name] = self.polls if plan.polls is None else plan.polls

    def hold(self, name: str, status: str, polls: int) -> None:
        """The endpoint is `status` (e.g. Updating, by another run) for the next `polls` describes,
        then takes its plan's outcome."""
        self.backend().endpoints[name].endpoint_status = status
        self._pending[name] = polls

    def _described(self, _: Principal, params: dict[str, Any]) -> None:
        name = params["EndpointName"]
        if name not in self._pending:
            return
        if self._pending[name] > 0:
            self._pending[name] -= 1
            return
        del self._pending[name]
        plan = self.plans.get(name, EndpointPlan())
        endpoint = self.backend().endpoints[name]
        update = self._updates.pop(name, None)
        if update is not None and not update.rolling_back:
            gone_off = self._alarms_in_alarm(update)
            if gone_off:  # the rollback itself takes a while: one more describe sees RollingBack
                update.rolling_back = ", ".join(gone_off)
                self._updates[name] = update
                endpoint.endpoint_status = "RollingBack"
                self._pending[name] = 1
                return
            endpoint.endpoint_config_name = update.new_config
            endpoint.production_variants = update.variants
        if update is not None and update.rolling_back:
            endpoint.endpoint_status = "InService"
            endpoint.failure_reason = ROLLBACK_REASON.format(alarms=update.rolling_back)
            return
        endpoint.endpoint_status = plan.status
        endpoint.failure_reason = plan.failure_reason

    def _alarms_in_alarm(self, update: PendingUpdate) -> list[str]:
        """The rollback alarms in ALARM at the end of the baking period, read as SageMaker reads them."""
        if not update.alarms:
            return []
        role = self.identities.assume(update.execution_role_arn, "sagemaker:deployment-guardrails")
        answer = self.identities.client("cloudwatch", role).describe_alarms(AlarmNames=update.alarms)
        found = {alarm["AlarmName"]: alarm["StateValue"] for alarm in answer.get("MetricAlarms", [])}
        missing = sorted(set(update.alarms) - set(found))
        assert not missing, f"UpdateEndpoint named rollback alarms that do not exist: {missing}"
        return [name for name in update.alarms if found[name] == "ALARM"]

    def _update_endpoint(self, _: Principal, params: dict[str, Any]) -> dict[str, Any]:
        name, config_name = params["EndpointName"], params["EndpointConfigName"]
        endpoint = self.backend().endpoints.get(name)
        if endpoint is None:
            raise ServiceError("ValidationException", f'Could not find endpoint "{self._arn("endpoint", name)}".')
        config = self._exists("describe_endpoint_config", EndpointConfigName=config_name)
        if config is None:
            raise ServiceError("ValidationException", "Could not find endpoint configuration "
                               f'"{self._arn("endpoint-config", config_name)}".')
        if endpoint.endpoint_status in _IN_PROGRESS:
            raise ServiceError("ValidationException", f'Cannot update in-progress endpoint "{endpoint.arn}".')
        old = self._exists("describe_endpoint_config", EndpointConfigName=endpoint.endpoint_config_name) or {}
        old_variants = sorted(v["VariantName"] for v in old.get("ProductionVariants", []))
        new_variants = sorted(v["VariantName"] for v in config["ProductionVariants"])
        if old_variants and old_variants != new_variants:
            # deployment-guardrails-exclusions: the new configuration keeps the variant names.
            raise ServiceError("ValidationException", f"The variant names of {config_name} ({new_variants}) differ "
                               f"from the endpoint's ({old_variants}); a blue/green update keeps them.")
        rollback = params.get("DeploymentConfig", {}).get("AutoRollbackConfiguration", {})
        model = self.service_client("sagemaker").describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
        self._updates[name] = PendingUpdate(
            old_config=endpoint.endpoint_config_name, new_config=config_name,
            variants=endpoint._process_production_variants(config["ProductionVariants"]),
            alarms=[alarm["AlarmName"] for alarm in rollback.get("Alarms", [])],
            execution_role_arn=model["ExecutionRoleArn"])
        self._enter(name, "Updating")
        return {"EndpointArn": endpoint.arn}

    def _invoke_endpoint(self, _: Principal, params: dict[str, Any]) -> dict[str, Any]:
        name = params["EndpointName"]
        endpoint = self.backend().endpoints.get(name)
        if endpoint is None:
            raise ServiceError("ValidationError", f"Endpoint {name} of account {self.identities.account} not found.")
        if endpoint.endpoint_status != "InService":
            raise ServiceError("ValidationError", f"Endpoint {name} is {endpoint.endpoint_status}, not InService.")
        sagemaker = self.service_client("sagemaker")
        variant = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint.endpoint_config_name)["ProductionVariants"][0]
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        containers = model.get("Containers") or [model["PrimaryContainer"]]
        if self.serve is None:
            raise ServiceError("ModelError", "the harness has no serve hook to run the model's containers", 424)
        s3 = self.identities.client("s3", self.identities.assume(model["ExecutionRoleArn"], f"sagemaker:{name}"))
        body, content_type = read_payload(params.get("Body")), params.get("ContentType")
        for number, container in enumerate(containers, start=1):
            last = number == len(containers)
            try:
                body, content_type = self.serve(ContainerRequest(container, body, content_type,
                                                                 params.get("Accept") if last else None, s3))
            except ContainerError as error:
                raise ServiceError("ModelError", f"Received client error ({error.status}) from container-{number} "
                                   f"with message \"{error.message}\".", 424) from error
        return {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": content_type,
                "InvokedProductionVariant": variant["VariantName"]}
