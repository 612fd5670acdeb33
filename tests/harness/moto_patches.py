"""The narrow patches of moto's Step Functions interpreter the harness applies while it runs.

moto 5.2.5 offers no extension point for task integrations, so each patch replaces one module
global or method, and is undone when the harness exits:
1. `state_task_factory.state_task_service_for`: SageMaker resources get SageMakerTaskService
   (request-response through the gate, `.sync` jobs) instead of the "unsupported" forwarder.
2. `boto_client_for` in every interpreter module that calls AWS: clients act as the state's role
   (assumed in moto STS) and go through the gate, instead of anonymous clients with validation off.
   aws-sdk results get ISO timestamps (moto leaves datetimes, which break describe_execution).
3. `WaitFunction._wait_interval` and the `time` module seen by `retrier_decl`: Wait states and
   Retry intervals are recorded on the virtual clock instead of slept.
4. `_DELAY_SECONDS_SYNC_CONDITION_CHECK` (0.5 s between `.sync` polls) becomes 0: the harness's
   jobs end after a number of describes, not of seconds.
5. `_SERVICE_ERROR_NAMES` of the aws-sdk integration learns SageMaker and S3, so errors read
   `SageMaker.ValidationException`-style instead of `sagemaker.sagemakerException`.
6. `CommonStateField._eval_body` is wrapped to note which execution and state run on the thread,
   and `execute_state.Thread` (the thread a task body runs on, to time it out) carries that note
   over, so each request is logged with the state that sent it.
7. `AmazonStateLanguageParser.parse` keeps the ANTLR parse tree of each definition it has parsed
   and builds a fresh program from it with moto's Preprocessor, as the original does after parsing.
   moto parses the whole definition again at CreateStateMachine and at every execution's start, in
   pure Python (a sixth of the pipeline tests' time); the tree is only read afterwards, so it is
   shared, while the program (which executions evaluate) is never shared.
(moto's Fail state keeps refusing an ErrorPath that yields a `States.` name: the ASL spec reserves
that prefix, and a definition that relies on it must fail here as it would in AWS.)
PINS fingerprints every moto object these patches replace or rely on; the self-test
tests/harness_selftest/test_moto_pins.py fails as soon as one of them changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import moto
from botocore.client import BaseClient

from tests.harness import gate
from tests.harness.clock import VirtualClock
from tests.harness.sagemaker_task import ClientFor, SageMakerTaskService
from tests.harness.state_values import iso_millis, rendered

MOTO_VERSION = "5.2.5"

_ASL = "moto.stepfunctions.parser.asl"
_TASK = f"{_ASL}.component.state.exec.state_task"
_FACTORY = f"{_TASK}.state_task_factory"
_CALLBACK = f"{_TASK}.service.state_task_service_callback"
_AWS_SDK = f"{_TASK}.service.state_task_service_aws_sdk"
_RETRIER = f"{_ASL}.component.common.retry.retrier_decl"
_WAIT = f"{_ASL}.component.state.wait.wait_function.wait_function"
_STATE = f"{_ASL}.component.state.state"
_EXECUTE_STATE = f"{_ASL}.component.state.exec.execute_state"
_PARSER = f"{_ASL}.parse.asl_parser"

# Every module of moto's interpreter that calls `boto_client_for`.
BOTO_CLIENT_USERS = (
    f"{_TASK}.lambda_eval_utils",
    *(f"{_TASK}.service.state_task_service_{name}" for name in (
        "aws_sdk", "batch", "dynamodb", "ecs", "events", "glue", "sfn", "sns", "sqs", "unsupported")),
    f"{_ASL}.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    f"{_ASL}.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)


@dataclass(frozen=True)
class Pin:
    target: str  # "module:qualified.name" or "module" for a whole module
    sha256: str  # first 16 hex digits of the source's SHA-256
    reason: str


def resolve(target: str) -> Any:
    module_name, _, qualified = target.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in filter(None, qualified.split(".")):
        value = getattr(value, part)
    return value


def fingerprint(target: str) -> str:
    return hashlib.sha256(inspect.getsource(resolve(target)).encode()).hexdigest()[:16]


PINS = (
    Pin(f"{_FACTORY}", "291408d03d337085",
        "patch 1 replaces its global state_task_service_for"),
    Pin(f"{_TASK}.service.state_task_service_factory:state_task_service_for", "a21a16afc5f63679",
        "patch 1 delegates to it"),
    Pin(f"{_ASL}.utils.boto_client:boto_client_for", "1f44dc2ac8aa2179",
        "patch 2 replaces it (same signature)"),
    Pin(f"{_CALLBACK}", "01b0a4f739385bd9",
        "SageMakerTaskService subclasses its class; patch 4 (poll delay)"),
    Pin(f"{_TASK}.service.state_task_service:StateTaskService", "a473d45cf232fb29",
        "the task evaluation flow relied on"),
    Pin(f"{_AWS_SDK}", "20f0858933a999f2",
        "patch 5 extends its _SERVICE_ERROR_NAMES table"),
    Pin(f"{_WAIT}:WaitFunction", "8a50f2fa081e588b",
        "patch 3 replaces _wait_interval"),
    Pin(f"{_RETRIER}:RetrierDecl", "09b03c34b4178845",
        "patch 3 replaces the time module it sleeps with"),
    Pin(f"{_STATE}:CommonStateField._eval_body", "035f80caae1290dc",
        "patch 6 wraps it"),
    Pin(f"{_EXECUTE_STATE}:ExecutionState._evaluate_with_timeout", "c56deda08a42e98d",
        "patch 6 replaces the Thread it uses"),
    Pin("moto.iam.access_control:IAMPolicyStatement", "6af535338510cc7a",
        "iam_policy evaluates statements with it"),
    Pin("moto.sagemaker.models:FakeEndpoint", "0212c33efc88164f",
        "sagemaker_endpoints sets status, config, variants"),
    Pin("moto.sagemaker.models:FakeTrainingJob", "6502c73e1ea12e6c",
        "sagemaker_jobs sets status, failure reason, times and billed seconds (response_object lists every attribute)"),
    Pin("moto.sagemaker.models:FakeProcessingJob", "5dec3a4f56b3ade4",
        "sagemaker_jobs sets status, failure reason, times and ProcessingResources (which moto drops)"),
    Pin("moto.sagemaker.models:FakeTransformJob", "40472a3bef7f16dc",
        "sagemaker_jobs sets status, failure reason and times"),
    Pin("moto.sagemaker.models:SageMakerModelBackend.__init__", "927eb2dfe87a79f7",
        "job and endpoint dictionaries"),
    Pin(f"{_PARSER}:AmazonStateLanguageParser.parse", "a59a7d18760fb22e",
        "patch 7 keeps the tree it builds and repeats its last step (Preprocessor().visit(tree))"),
    Pin(f"{_ASL}.parse.preprocessor:Preprocessor", "b7d4a1ac4cd41934",
        "patch 7 relies on it building a new program from a tree it only reads"),
    Pin("moto.stepfunctions.parser.models:StepFunctionsParserBackend.start_execution", "0f8d9dd57baf0c28",
        "executions run on a thread the harness waits for"),
)


class _RenderedClient:
    """A client whose results carry timestamps as Step Functions renders them."""

    def __init__(self, client: BaseClient, render: Callable[[Any], Any]) -> None:
        self._client, self._render = client, render

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute
        return lambda *args, **kwargs: rendered(attribute(*args, **kwargs), self._render)


def _boto_client_for(client_for: ClientFor, render: Callable[[Any], Any] | None) -> Callable[..., Any]:
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if state_credentials is None:
            raise RuntimeError(f"moto asked for a {service} client without the state's credentials")
        client = client_for(service, region, state_credentials.role_arn)
        return _RenderedClient(client, render) if render else client
    return boto_client_for


def _sagemaker_aware(original: Callable[[str], Any]) -> Callable[[str], Any]:
    def state_task_service_for(service_name: str) -> Any:
        return SageMakerTaskService() if service_name == "sagemaker" else original(service_name)
    return state_task_service_for


def _positioned(original: Callable[..., None]) -> Callable[..., None]:
    def _eval_body(self: Any, env: Any) -> None:
        execution_arn = env.states.context_object.context_object_data["Execution"]["Id"]
        gate.tell(gate.Progress("state-entered", execution_arn, self.name))
        started = time.perf_counter()
        try:
            with gate.at_state(execution_arn, self.name):
                original(self, env)
        finally:
            gate.tell(gate.Progress("state-exited", execution_arn, self.name, time.perf_counter() - started))
    return _eval_body


class _PositionedThread(threading.Thread):
    """A thread that runs in the execution and state of the thread that created it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._position = gate.position()

    def run(self) -> None:
        execution_arn, state = self._position
        if execution_arn is None:
            super().run()
            return
        with gate.at_state(execution_arn, state):
            super().run()


class _VirtualTime:
    """Stands in for the `time` module inside retrier_decl, which only sleeps with it."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    def sleep(self, seconds: float) -> None:
        self._clock.pause(seconds, "retry")


def _virtual_wait(clock: VirtualClock) -> Callable[..., None]:
    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        clock.pause(wait_seconds, "wait")
    return _wait_interval


def _parse_tree_kept(original: Callable[[str], tuple[Any, Any]]) -> Callable[[str], tuple[Any, Any]]:
    preprocessor = importlib.import_module(f"{_ASL}.parse.preprocessor").Preprocessor
    trees: dict[str, Any] = {}
    lock = threading.Lock()  # executions of the racing scenario start on two threads

    def parse(definition: str) -> tuple[Any, Any]:
        with lock:
            tree = trees.get(definition)
        if tree is None:
            program, tree = original(definition)  # raises on a syntax error, as before
            with lock:
                if len(trees) >= _KEPT_TREES:
                    trees.pop(next(iter(trees)))
                trees[definition] = tree
            return program, tree
        return preprocessor().visit(tree), tree
    return parse


_KEPT_TREES = 16  # a test module deploys a handful of definitions (mutations included)
_PARSE = _parse_tree_kept(resolve(f"{_PARSER}:AmazonStateLanguageParser.parse"))  # one memory per process


@contextlib.contextmanager
def patched(client_for: ClientFor, clock: VirtualClock) -> Iterator[None]:
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"the harness patches moto {MOTO_VERSION}; found {moto.__version__}")
    factory = importlib.import_module(_FACTORY)
    with contextlib.ExitStack() as stack:
        patch = stack.enter_context
        patch(mock.patch.object(factory, "state_task_service_for", _sagemaker_aware(factory.state_task_service_for)))
        for module_name in BOTO_CLIENT_USERS:
            render = iso_millis if module_name == _AWS_SDK else None
            patch(mock.patch.object(importlib.import_module(module_name), "boto_client_for",
                            _boto_client_for(client_for, render)))
        patch(mock.patch.object(SageMakerTaskService, "client_for", staticmethod(client_for)))
        patch(mock.patch.object(resolve(f"{_WAIT}:WaitFunction"), "_wait_interval", _virtual_wait(clock)))
        patch(mock.patch.object(importlib.import_module(_RETRIER), "time", _VirtualTime(clock)))
        patch(mock.patch.object(importlib.import_module(_CALLBACK), "_DELAY_SECONDS_SYNC_CONDITION_CHECK", 0))
        error_names = importlib.import_module(_AWS_SDK)._SERVICE_ERROR_NAMES
        patch(mock.patch.dict(error_names, {"sagemaker": "SageMaker", "s3": "S3"}))
        state_class = resolve(f"{_STATE}:CommonStateField")
        patch(mock.patch.object(state_class, "_eval_body", _positioned(state_class._eval_body)))
        patch(mock.patch.object(importlib.import_module(_EXECUTE_STATE), "Thread", _PositionedThread))
        patch(mock.patch.object(resolve(f"{_PARSER}:AmazonStateLanguageParser"), "parse", staticmethod(_PARSE)))
        yield
