"""A Lambda that starts the state machine, invoked by the test as S3 would invoke it."""

import pytest

from tests.harness import Harness, LambdaFailed, LambdaFunction
from tests.harness_selftest import toy

TRIGGER = f"arn:aws:lambda:{toy.REGION}:{toy.ACCOUNT}:function:toy-trigger"
TRIGGER_ROLE = f"arn:aws:iam::{toy.ACCOUNT}:role/toy-trigger"
EVENT = {"Records": [{"s3": {"bucket": {"name": toy.BUCKET}, "object": {"key": "incoming/u1"}}}]}


def _trigger(harness: Harness, allowed_state_machine: str) -> str:
    state_machine = harness.deploy_state_machine(toy.DEFINITION, toy.STATES_ROLE, "toy")
    harness.create_role(TRIGGER_ROLE, trusted_service="lambda.amazonaws.com", policies={"start": {
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "states:StartExecution", "Resource": allowed_state_machine}]}})
    harness.add_lambda(LambdaFunction(arn=TRIGGER, handler="tests.harness_selftest.toy_handlers.start_run",
                                      role_arn=TRIGGER_ROLE, environment={"STATE_MACHINE_ARN": state_machine}))
    return state_machine


def test_an_execution_started_by_a_lambda_runs_through_the_harness(harness: Harness) -> None:
    state_machine = _trigger(harness, f"arn:aws:states:{toy.REGION}:{toy.ACCOUNT}:stateMachine:toy")

    execution_arn = harness.invoke_lambda("toy-trigger", EVENT)
    result = harness.wait_for(execution_arn)

    assert execution_arn == f"{state_machine.replace(':stateMachine:', ':execution:')}:incoming-u1"
    assert result.status == "SUCCEEDED", result.report()
    assert str(harness.requests[0]) == "lambda:toy-trigger -> stepfunctions:StartExecution [ok]"
    assert harness.requests[0].execution_arn is None
    assert result.requests[0].state == "Resolve"


def test_a_trigger_without_permission_to_start_the_run_fails(harness: Harness) -> None:
    _trigger(harness, f"arn:aws:states:{toy.REGION}:{toy.ACCOUNT}:stateMachine:other")

    with pytest.raises(LambdaFailed, match="AccessDeniedException.*states:StartExecution"):
        harness.invoke_lambda("toy-trigger", EVENT)
