"""The harness: a moto account where a state machine definition runs as it would in AWS.

    with Harness() as harness:
        harness.create_role(ROLE, trusted_service="states.amazonaws.com", policies={"run": policy})
        harness.add_lambda(LambdaFunction(arn=..., handler="pkg.module.handler", role_arn=...))
        result = harness.run_execution(definition, {"key": "value"}, name="run-1", role_arn=ROLE)
        assert result.status == "SUCCEEDED", result.report()

Setup requests (`harness.client(...)`) are made by the harness itself: not checked, not logged.
Requests of the execution (its task states, the Lambda handlers it runs, the SageMaker jobs it
starts) go through the gate as their roles.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from unittest import mock

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import Loader
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from tests.harness import iam_policy, moto_patches, result
from tests.harness.clock import VirtualClock
from tests.harness.gate import ProgressListener, RequestGate, RequestRecord
from tests.harness.iam_resources import Scope
from tests.harness.lambda_runtime import LambdaFunction, LambdaRuntime
from tests.harness.principals import SERVICE, Identities, bind
from tests.harness.sagemaker_endpoints import EndpointPlan, SageMakerEndpoints
from tests.harness.sagemaker_jobs import JobHooks, SageMakerJobs
from tests.infra.cfn import all_states

# `.sync` integrations and the managed EventBridge rule Step Functions needs to learn a job ended.
_SYNC_RULES = {
    "sagemaker:createTrainingJob": "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
    "sagemaker:createProcessingJob": "StepFunctionsGetEventsForSageMakerProcessingJobsRule",
    "sagemaker:createTransformJob": "StepFunctionsGetEventsForSageMakerTransformJobsRule",
    "states:startExecution": "StepFunctionsGetEventsForStepFunctionsExecutionRule",
}
_RULE_ACTIONS = ("events:PutTargets", "events:PutRule", "events:DescribeRule")


class _PathsOnce(list):
    """boto3 appends its own data folder to the loader of every session it makes."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@functools.lru_cache(maxsize=None)
def _shared_loader(search_path_string: str | None = None) -> Loader:
    """One botocore data loader for every session made while a harness runs (each harness, each
    Lambda cold start, each role's clients makes a session): the service models are read from disk
    and parsed once per process instead of once per session. They are the same files either way;
    within a session botocore already hands every client the same loaded objects."""
    paths = [os.path.expanduser(path) for path in (search_path_string or "").split(os.pathsep) if path]
    return Loader(extra_search_paths=_PathsOnce(paths))


class LambdaFailed(Exception):
    def __init__(self, payload: Mapping[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


class Harness:
    def __init__(self, *, region: str = "us-east-1", job_polls: int = 1, endpoint_polls: int = 1,
                 timeout_seconds: float = 60.0,
                 on_progress: ProgressListener | None = None) -> None:
        """`job_polls`/`endpoint_polls`: describes that see a job InProgress / an endpoint Creating
        before it ends. `timeout_seconds`: wall-clock limit for one execution. `on_progress` hears
        each state entered and exited and each request, as they happen (for printing a run live)."""
        self._on_progress = on_progress
        self.region, self.account = region, DEFAULT_ACCOUNT_ID
        self.timeout_seconds = timeout_seconds
        self._config = {"stepfunctions": {"execute_state_machine": True}}
        self._polls = (job_polls, endpoint_polls)
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._stack = contextlib.ExitStack()

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Harness:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self) -> None:
        self._stack.enter_context(mock.patch.object(botocore.session, "create_loader", _shared_loader))
        self._stack.enter_context(mock_aws(config=self._config))
        self._session = boto3.session.Session(region_name=self.region)
        self.identities = Identities(self.region, self.account, self._session, self.client)
        self.gate = RequestGate(self.identities, Scope("aws", self.region, self.account))
        self.gate.listener = self._on_progress
        self.clock = VirtualClock()
        self.lambdas = LambdaRuntime(self.identities, self.region)
        self.jobs = SageMakerJobs(self.identities, self._sagemaker_backend, self.client, self._polls[0])
        self.endpoints = SageMakerEndpoints(self.identities, self._sagemaker_backend, self.client, self._polls[1])
        self.gate.intercept("lambda", "Invoke", self.lambdas.handle_invoke)
        self.jobs.register(self.gate)
        self.endpoints.register(self.gate)
        self._stack.enter_context(moto_patches.patched(self._client_for_role, self.clock))
        self.gate.activate()
        self._stack.callback(self.gate.deactivate)
        self._stack.callback(self._stop_running_executions)  # closed first: before the gate goes

    def _stop_running_executions(self) -> None:
        """An execution a test started and left running (a trigger test need not wait for the run)
        is stopped, so that it does not go on sending requests into the next test's account."""
        stepfunctions = self.client("stepfunctions")
        for machine in stepfunctions.list_state_machines()["stateMachines"]:
            for execution in stepfunctions.list_executions(stateMachineArn=machine["stateMachineArn"],
                                                           statusFilter="RUNNING")["executions"]:
                self._stop(stepfunctions, execution["executionArn"])

    @staticmethod
    def _stop(stepfunctions: BaseClient, execution_arn: str) -> None:
        # moto cannot stop an execution whose thread has not begun evaluating it yet (its worker has
        # no environment): a moment later it can.
        for _ in range(100):
            try:
                stepfunctions.stop_execution(executionArn=execution_arn, error="Harness.Closed")
                return
            except AttributeError:
                time.sleep(0.01)
        stepfunctions.stop_execution(executionArn=execution_arn, error="Harness.Closed")  # fails loudly now

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stack.close()

    # --- setup -------------------------------------------------------------------------------

    def client(self, service: str, region: str | None = None) -> BaseClient:
        """A client for setting up and inspecting the account; its requests are not checked or logged."""
        key = (service, region or self.region)
        if key not in self._clients:
            client = self._session.client(service, region_name=key[1], aws_access_key_id="harness",
                                          aws_secret_access_key="harness",
                                          config=Config(retries={"total_max_attempts": 1}))
            self._clients[key] = bind(client, SERVICE)
        return self._clients[key]

    def create_role(self, role_arn: str, *, trusted_service: str, policies: Mapping[str, Mapping[str, Any]],
                    managed_policy_arns: tuple[str, ...] = ()) -> None:
        """Creates the role with these inline policy documents (e.g. from the synthesized template).
        AWS managed policies (`arn:aws:iam::aws:policy/...`) are added as inline copies."""
        self.identities.create_role(role_arn, trusted_service=trusted_service, policies=policies,
                                    managed_policy_arns=managed_policy_arns)

    def add_lambda(self, function: LambdaFunction) -> None:
        self.lambdas.add(function)

    @property
    def hooks(self) -> JobHooks:
        """What SageMaker jobs run: set `hooks.processing`, `hooks.training`, `hooks.transform`."""
        return self.jobs.hooks

    def plan_endpoint(self, name: str, status: str = "InService", failure_reason: str | None = None,
                      polls: int | None = None) -> None:
        """How the endpoint `name` ends each time it is created or updated."""
        self.endpoints.plans[name] = EndpointPlan(status, failure_reason, polls)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request a principal sent since the harness started, in order."""
        return list(self.gate.records)

    # --- running -----------------------------------------------------------------------------

    def deploy_state_machine(self, definition: str | Mapping[str, Any], role_arn: str, name: str) -> str:
        """Creates (or updates) the state machine; fails as CreateStateMachine would if the role may
        not manage the EventBridge rules its `.sync` tasks need."""
        body = definition if isinstance(definition, str) else json.dumps(definition)
        if not self.identities.role_exists(role_arn):
            raise ValueError(f"create the state machine's role first: {role_arn}")
        self._check_managed_rules(json.loads(body), role_arn)
        stepfunctions = self.client("stepfunctions")
        for machine in stepfunctions.list_state_machines()["stateMachines"]:
            if machine["name"] == name:
                stepfunctions.update_state_machine(stateMachineArn=machine["stateMachineArn"], definition=body,
                                                   roleArn=role_arn)
                return machine["stateMachineArn"]
        return stepfunctions.create_state_machine(name=name, definition=body, roleArn=role_arn)["stateMachineArn"]

    def start_execution(self, state_machine_arn: str, input: Mapping[str, Any], name: str) -> str:
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(input))
        return response["executionArn"]

    def wait_for(self, execution_arn: str) -> result.ExecutionResult:
        """Blocks until the execution ends (Wait states do not sleep) and reads what it did."""
        stepfunctions = self.client("stepfunctions")
        deadline = time.monotonic() + self.timeout_seconds
        while (description := stepfunctions.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                stepfunctions.stop_execution(executionArn=execution_arn, error="Harness.Timeout")
                raise TimeoutError(f"{execution_arn} still running after {self.timeout_seconds} s")
            time.sleep(0.01)
        events = []
        for page in stepfunctions.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            events.extend(page["events"])
        return result.build(description, events, self.gate.records, self.clock.pauses)

    def run_execution(self, definition: str | Mapping[str, Any], input: Mapping[str, Any], name: str,
                      role_arn: str, *, state_machine_name: str = "harness") -> result.ExecutionResult:
        """Deploys the definition, starts one execution and returns what it did once it ends."""
        state_machine_arn = self.deploy_state_machine(definition, role_arn, state_machine_name)
        return self.wait_for(self.start_execution(state_machine_arn, input, name))

    def invoke_lambda(self, function: str, event: Any) -> Any:
        """Runs a registered function as Lambda would (its role, environment, context); returns its
        result or raises LambdaFailed with the error payload."""
        spec = self.lambdas.find(function)
        if spec is None:
            raise KeyError(f"no Lambda function {function!r} was added")
        payload, function_error = self.lambdas.invoke(spec, json.dumps(event).encode())
        if function_error:
            raise LambdaFailed(json.loads(payload))
        return json.loads(payload)

    # --- internals ---------------------------------------------------------------------------

    def _client_for_role(self, service: str, region: str, role_arn: str) -> BaseClient:
        return self.identities.client(service, self.identities.assume(role_arn, "states"), region)

    def _sagemaker_backend(self) -> Any:
        return sagemaker_backends[self.account][self.region]

    def _check_managed_rules(self, definition: dict[str, Any], role_arn: str) -> None:
        documents = self.identities.policy_documents(role_arn)
        tasks = [state for state in all_states(definition).values() if state["Type"] == "Task"]
        for task in tasks:
            match = re.fullmatch(r"arn:[\w-]+:states:::([\w-]+:\w+)\.sync", task["Resource"])
            rule = _SYNC_RULES.get(match[1]) if match else None
            if rule is None:
                continue
            rule_arn = f"arn:aws:events:{self.region}:{self.account}:rule/{rule}"
            for action in _RULE_ACTIONS:
                if iam_policy.evaluate(documents, action, rule_arn) != iam_policy.Decision.ALLOWED:
                    raise ClientError({"Error": {"Code": "AccessDeniedException",
                                                 "Message": f"'{role_arn}' is not authorized to create managed-rule."}},
                                      "CreateStateMachine")
