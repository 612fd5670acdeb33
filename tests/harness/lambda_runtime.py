"""Lambda functions run in-process: the project's real handler, a Lambda-like context and environment.

An Invoke request for a registered function (from a Task state or from other handler code) is
answered here instead of by moto, whose Lambda needs Docker to run code. While the handler runs,
os.environ holds the function's environment and its role's credentials, boto3's default session
is the function's own (so clients made in the handler sign as the role), and unbound clients on
this thread are attributed to the function's role by the gate. The first invocation of a function
in a harness is a cold start: its handler module is (re)imported inside that environment, so
module-level clients are made there too, even if a unit test imported the module before, and it
gets a fresh default session. Later invocations are warm, as in Lambda: the module and the default
session stay (which also spares reading botocore's service models again for every invocation).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
from botocore.response import StreamingBody

from tests.harness import gate
from tests.harness.principals import Identities, Principal

# Test-process settings that a deployed function would not see.
_HIDDEN_PREFIXES = ("AWS_", "POWERTOOLS_", "_X_AMZN")


@dataclass(frozen=True)
class LambdaFunction:
    arn: str
    handler: str  # dotted path to the handler function, e.g. "ntm_glue.handlers.resolve_run.handler"
    role_arn: str
    environment: Mapping[str, str] = field(default_factory=dict)
    memory_mb: int = 128
    timeout_seconds: int = 60

    @property
    def name(self) -> str:
        return self.arn.split(":")[6]


@dataclass
class LambdaContext:
    """The attributes and method of the context object the Python runtime passes to a handler."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class LambdaRuntime:
    def __init__(self, identities: Identities, region: str) -> None:
        self._identities = identities
        self._region = region
        self._functions: dict[str, LambdaFunction] = {}
        self._warm: set[str] = set()
        self._sessions: dict[str, boto3.session.Session] = {}  # each function's default session
        # os.environ and boto3's default session belong to the process: two executions' handlers
        # (the racing scenario) take turns. Re-entrant: a handler may invoke another function.
        self._one_at_a_time = threading.RLock()

    def add(self, function: LambdaFunction) -> None:
        self._functions[function.arn] = function

    def find(self, name: str) -> LambdaFunction | None:
        """Resolves a FunctionName as Lambda does: a name, an ARN, or either with a qualifier."""
        for function in self._functions.values():
            unqualified = name.removesuffix(":$LATEST")
            if unqualified in (function.arn, function.name) or unqualified.endswith(f":function:{function.name}"):
                return function
        return None

    def handle_invoke(self, _caller: Principal, params: dict[str, Any]) -> dict[str, Any] | None:
        """Gate interceptor for lambda:Invoke; functions the harness does not know go on to moto."""
        function = self.find(params["FunctionName"])
        if function is None:
            return None
        payload, function_error = self.invoke(function, gate.read_payload(params.get("Payload")))
        if params.get("InvocationType") == "Event":
            return {"StatusCode": 202, "Payload": StreamingBody(io.BytesIO(b""), 0)}
        response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST",
                                    "Payload": StreamingBody(io.BytesIO(payload), len(payload))}
        if function_error:
            response["FunctionError"] = function_error
        return response

    def invoke(self, function: LambdaFunction, payload: bytes) -> tuple[bytes, str | None]:
        """Runs the handler; returns the response payload and "Unhandled" if it raised."""
        principal = self._identities.assume(function.role_arn, f"lambda:{function.name}")
        request_id = str(uuid.uuid4())
        event = json.loads(payload or b"{}")
        context = LambdaContext(
            function_name=function.name, invoked_function_arn=function.arn,
            memory_limit_in_mb=function.memory_mb, aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{function.name}", log_stream_name=f"harness/[$LATEST]{request_id}",
            deadline=time.monotonic() + function.timeout_seconds)
        error_type = None
        with self._one_at_a_time, self._lambda_process(function, principal):
            try:
                body = json.dumps(self._handler(function)(event, context)).encode()
            except Exception as error:  # noqa: BLE001 - every handler failure becomes a Lambda error
                error_type = type(error).__name__
                body = json.dumps({
                    "errorMessage": str(error), "errorType": error_type, "requestId": request_id,
                    "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
                }).encode()
        return body, ("Unhandled" if error_type else None)

    def _handler(self, function: LambdaFunction) -> Callable[[Any, LambdaContext], Any]:
        module_name, handler_name = function.handler.rsplit(".", 1)
        module = importlib.import_module(module_name)
        if function.arn not in self._warm:
            self._warm.add(function.arn)
            module = importlib.reload(module)
        return getattr(module, handler_name)

    def _environment(self, function: LambdaFunction, principal: Principal) -> dict[str, str]:
        environment = {key: value for key, value in os.environ.items() if not key.startswith(_HIDDEN_PREFIXES)}
        credentials = principal.credentials
        environment.update({
            "AWS_REGION": self._region, "AWS_DEFAULT_REGION": self._region,
            "AWS_ACCESS_KEY_ID": credentials.access_key_id, "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
            "AWS_SESSION_TOKEN": credentials.session_token, "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_LAMBDA_FUNCTION_NAME": function.name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}", "_HANDLER": function.handler,
        })
        environment.update(function.environment)
        return environment

    @contextlib.contextmanager
    def _lambda_process(self, function: LambdaFunction, principal: Principal) -> Iterator[None]:
        default_session = boto3.DEFAULT_SESSION
        with mock.patch.dict(os.environ, self._environment(function, principal), clear=True), \
                gate.acting_as(principal):
            boto3.DEFAULT_SESSION = self._sessions.get(function.arn)
            try:
                if boto3.DEFAULT_SESSION is None:  # cold: clients resolve the role's credentials from here
                    self._sessions[function.arn] = boto3.session.Session()
                    boto3.DEFAULT_SESSION = self._sessions[function.arn]
                yield
            finally:
                boto3.DEFAULT_SESSION = default_session
