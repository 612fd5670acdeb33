"""The checkpoint every AWS request of a run passes before it reaches moto.

For a request sent by a principal (the state machine, a Lambda function, a SageMaker job) the gate
1. validates the parameters against the botocore service model (moto's own clients skip this),
2. checks the caller's identity policies for every permission the request needs (iam_resources),
   including iam:PassRole for a role handed to the service,
3. logs it (service, operation, parameters, caller, execution and state), and
4. lets an emulation answer it (in-process Lambda, SageMaker lifecycles, UpdateEndpoint).
A failed check is answered the way the service would answer, as a botocore error response.

The gate hooks botocore's event system through `BUILTIN_HANDLERS` (as moto itself does), so it
also sees clients created inside Lambda handler code; it is inert unless a harness activated it.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore import handlers
from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel
from botocore.validate import ParamValidator

from tests.harness import iam_policy, iam_resources
from tests.harness.principals import SERVICE, Identities, Principal

_local = threading.local()
_active: RequestGate | None = None

# How each service says "access denied" (code, HTTP status); JSON services use the default.
_ACCESS_DENIED = {"s3": ("AccessDenied", 403), "sns": ("AuthorizationError", 403), "iam": ("AccessDenied", 403),
                  "sts": ("AccessDenied", 403)}
_DEFAULT_ACCESS_DENIED = ("AccessDeniedException", 400)


class ServiceError(Exception):
    """Raised by an emulation to answer a request with an AWS error."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


@dataclass
class RequestRecord:
    service: str  # botocore service name, e.g. "sagemaker", "stepfunctions"
    operation: str  # API operation, e.g. "CreateTrainingJob"
    params: dict[str, Any]
    caller: str  # principal label: "states", "lambda:<name>", "sagemaker:<job name>"
    caller_role_arn: str
    execution_arn: str | None
    state: str | None
    at: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.error_code}: {self.error_message}"
        return f"{self.caller} -> {self.service}:{self.operation} [{outcome}]"


@dataclass(frozen=True)
class Progress:
    """Something an execution just did, for printing a run as it goes."""

    kind: str  # "state-entered", "state-exited" or "request"
    execution_arn: str | None
    state: str | None
    seconds: float | None = None  # how long the state took (state-exited)
    record: RequestRecord | None = None  # the request and its outcome (request)


ProgressListener = Callable[[Progress], None]
Interceptor = Callable[[Principal, dict[str, Any]], dict[str, Any] | None]
Observer = Callable[[Principal, dict[str, Any], dict[str, Any]], None]


@contextlib.contextmanager
def acting_as(principal: Principal | None) -> Iterator[None]:
    """Attributes requests of unbound clients on this thread (Lambda handler code) to `principal`."""
    previous = getattr(_local, "principal", None)
    _local.principal = principal
    try:
        yield
    finally:
        _local.principal = previous


@contextlib.contextmanager
def at_state(execution_arn: str, state: str) -> Iterator[None]:
    """Marks requests sent on this thread as made while `state` of that execution runs."""
    previous = getattr(_local, "position", None)
    _local.position = (execution_arn, state)
    try:
        yield
    finally:
        _local.position = previous


def position() -> tuple[str | None, str | None]:
    """(execution ARN, state name) of the state running on this thread, or Nones."""
    return getattr(_local, "position", None) or (None, None)


def _sanitised(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _sanitised(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitised(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if hasattr(value, "read"):
        return "<stream>"
    return value


def _response(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    metadata = {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4()), "HTTPHeaders": {}, "RetryAttempts": 0}
    raw = type("Raw", (), {"stream": staticmethod(lambda: iter([b""]))})()
    return AWSResponse("https://harness.invalid", status, {}, raw), dict(body, ResponseMetadata=metadata)


def _error(code: str, message: str, status: int) -> tuple[AWSResponse, dict[str, Any]]:
    return _response(status, {"Error": {"Code": code, "Message": message}})


class RequestGate:
    def __init__(self, identities: Identities, scope: iam_resources.Scope) -> None:
        self.identities = identities
        self.scope = scope
        self.records: list[RequestRecord] = []
        self._interceptors: dict[tuple[str, str], list[Interceptor]] = defaultdict(list)
        self._observers: dict[tuple[str, str], list[Observer]] = defaultdict(list)
        self._validator = ParamValidator()
        self._lock = threading.Lock()
        self.listener: ProgressListener | None = None

    def tell(self, progress: Progress) -> None:
        if self.listener is not None:
            self.listener(progress)

    def intercept(self, service: str, operation: str, interceptor: Interceptor, *, first: bool = False) -> None:
        """`interceptor` may answer the request (return a response or raise ServiceError) or pass (None);
        `first` puts it before those already there (a test injecting a fault)."""
        interceptors = self._interceptors[(service, operation)]
        interceptors.insert(0, interceptor) if first else interceptors.append(interceptor)

    def observe(self, service: str, operation: str, observer: Observer) -> None:
        """`observer` sees the parameters and response of every successful request."""
        self._observers[(service, operation)].append(observer)

    def activate(self) -> None:
        global _active
        if _active is not None:
            raise RuntimeError("another harness is active")
        _active = self

    def deactivate(self) -> None:
        global _active
        _active = None

    # --- botocore event handlers -------------------------------------------------------------

    def before_call(self, model: OperationModel, context: dict[str, Any]) -> tuple[AWSResponse, dict] | None:
        principal = context.get("harness_principal") or getattr(_local, "principal", None)
        if principal is None or principal is SERVICE:
            return None
        params = context.get("harness_params", {})
        service, operation = model.service_model.service_name, model.name
        execution_arn, state = position()
        record = RequestRecord(service, operation, _sanitised(params), principal.label, principal.role_arn,
                               execution_arn, state)
        with self._lock:
            self.records.append(record)
        context["harness_record"] = record
        try:
            self._validate(model, params)
            self._authorize(principal, model, params)
            for interceptor in self._interceptors.get((service, operation), []):
                answer = interceptor(principal, params)
                if answer is not None:
                    return _response(200, answer)
        except ServiceError as error:
            return _error(error.code, error.message, error.status)
        return None

    def after_call(self, http_response: AWSResponse, parsed: dict[str, Any], model: OperationModel,
                   context: dict[str, Any]) -> None:
        record: RequestRecord | None = context.get("harness_record")
        if record is None:
            return
        if http_response.status_code >= 300:
            record.error_code = parsed.get("Error", {}).get("Code", str(http_response.status_code))
            record.error_message = parsed.get("Error", {}).get("Message", "")
        self.tell(Progress("request", record.execution_arn, record.state, record=record))
        if not record.ok:
            return
        principal = context.get("harness_principal") or getattr(_local, "principal", None)
        for observer in self._observers.get((model.service_model.service_name, model.name), []):
            observer(principal, context.get("harness_params", {}), parsed)

    # --- checks ------------------------------------------------------------------------------

    def _validate(self, model: OperationModel, params: dict[str, Any]) -> None:
        if model.input_shape is None:
            return
        report = self._validator.validate(params, model.input_shape)
        if report.has_errors():
            raise ServiceError("ValidationException", report.generate_report())

    def _authorize(self, principal: Principal, model: OperationModel, params: dict[str, Any]) -> None:
        prefix = model.service_model.signing_name
        needed = iam_resources.required(prefix, model.name, params, self.scope)
        if not needed:
            return
        documents = self.identities.policy_documents(principal.role_arn)
        for authorization in needed:
            decision = iam_policy.evaluate(documents, authorization.action, authorization.resource,
                                           authorization.context)
            if decision != iam_policy.Decision.ALLOWED:
                code, status = _ACCESS_DENIED.get(prefix, _DEFAULT_ACCESS_DENIED)
                raise ServiceError(code, (
                    f"User: {principal.session_arn} is not authorized to perform: {authorization.action} "
                    f"on resource: {authorization.resource} {decision.explain(authorization.action)}"), status)


def tell(progress: Progress) -> None:
    """Passes progress to the active harness's listener, if any."""
    if _active is not None:
        _active.tell(progress)


def _stash_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if _active is not None:
        context["harness_params"] = params


def _before_call(model: OperationModel, context: dict[str, Any], **_: Any) -> Any:
    return _active.before_call(model, context) if _active is not None else None


def _after_call(http_response: AWSResponse, parsed: dict[str, Any], model: OperationModel,
                context: dict[str, Any], **_: Any) -> None:
    if _active is not None:
        _active.after_call(http_response, parsed, model, context)


def _install() -> None:
    installed = {handler for _, handler, *_ in handlers.BUILTIN_HANDLERS}
    for event, handler in (("before-parameter-build", _stash_params), ("before-call", _before_call),
                           ("after-call", _after_call)):
        if handler not in installed:
            # Last, so botocore's own parameter handlers (e.g. idempotency tokens) have run.
            handlers.BUILTIN_HANDLERS.append((event, handler, handlers.REGISTER_LAST))


_install()


def read_payload(body: Any) -> bytes:
    """The bytes of a blob parameter, whatever form the caller gave it in."""
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return body.read()
