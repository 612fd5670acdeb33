"""Requests that AWS would refuse fail the run here too: model validation and IAM."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.harness import ExecutionResult, Harness
from tests.harness_selftest import toy


def _run(**policies: dict) -> ExecutionResult:
    with Harness() as harness:
        toy.set_up(harness, **policies)
        return harness.run_execution(toy.DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)


def test_a_number_hyperparameter_fails_training_as_a_validation_error(harness: Harness) -> None:
    definition = toy.variant(toy.DEFINITION, "Resolve", Parameters={
        "FunctionName": toy.RESOLVE_FUNCTION,
        "Payload": {"run_id.$": "$.run_id", "hyperparameters": {"num_topics": 3}}})

    result = harness.run_execution(definition, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    assert result.status == "FAILED"
    assert result.state("NotifyFailure").input["failure"]["Error"] == "SageMaker.AmazonSageMakerException"
    assert "Error Code: ValidationException" in result.cause
    assert "HyperParameters.num_topics, value: 3, type: <class 'int'>" in result.cause
    [create] = result.requests_to("sagemaker", "CreateTrainingJob")
    assert create.error_code == "ValidationException"
    assert not result.requests_to("sagemaker", "CreateModel")
    assert harness.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []


def test_a_missing_permission_fails_the_state_with_access_denied() -> None:
    result = _run(states_policy=toy.without(toy.STATES_POLICY, "Deploy"))

    assert (result.status, result.error) == ("FAILED", "SageMaker.AmazonSageMakerException")
    assert "Error Code: AccessDeniedException" in result.cause
    assert ("assumed-role/toy-states/states is not authorized to perform: sagemaker:CreateModel on resource: "
            "arn:aws:sagemaker:us-east-1:123456789012:model/toy-r1") in result.cause
    assert result.state("Model").error == result.error


def test_a_missing_pass_role_fails_the_training_job_request() -> None:
    result = _run(states_policy=toy.without(toy.STATES_POLICY, "PassRole"))

    assert result.status == "FAILED"
    [create] = result.requests_to("sagemaker", "CreateTrainingJob")
    assert create.error_code == "AccessDeniedException"
    assert f"iam:PassRole on resource: {toy.SAGEMAKER_ROLE}" in create.error_message


def test_pass_role_honours_the_passed_to_service_condition() -> None:
    policy = json.loads(json.dumps(toy.STATES_POLICY))
    pass_role = next(s for s in policy["Statement"] if s["Sid"] == "PassRole")
    pass_role["Condition"]["StringEquals"]["iam:PassedToService"] = "lambda.amazonaws.com"

    result = _run(states_policy=policy)

    assert result.status == "FAILED"
    [create] = result.requests_to("sagemaker", "CreateTrainingJob")
    assert create.error_code == "AccessDeniedException"
    assert f"iam:PassRole on resource: {toy.SAGEMAKER_ROLE}" in create.error_message


def test_a_role_that_may_not_manage_the_sync_rule_cannot_deploy_the_state_machine() -> None:
    with Harness() as harness:
        toy.set_up(harness, states_policy=toy.without(toy.STATES_POLICY, "SyncRules"))
        with pytest.raises(ClientError, match="is not authorized to create managed-rule"):
            harness.deploy_state_machine(toy.DEFINITION, toy.STATES_ROLE, "toy")


def test_the_sagemaker_role_needs_write_access_to_the_model_output() -> None:
    result = _run(sagemaker_policy=toy.without(toy.SAGEMAKER_POLICY, "Write"))

    assert (result.status, result.error) == ("FAILED", "TrainingFailed")
    description = json.loads(result.cause)
    assert description["TrainingJobStatus"] == "Failed"
    assert description["FailureReason"].startswith("ClientError: An error occurred (AccessDenied)")


def test_handler_code_is_checked_against_the_lambda_role() -> None:
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Elsewhere", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::other/*"}]}
    with Harness() as harness:
        toy.set_up(harness)
        harness.client("iam").put_role_policy(RoleName="toy-lambda", PolicyName="mark",
                                              PolicyDocument=json.dumps(policy))
        result = harness.run_execution(toy.DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)

    # botocore raises S3's modeled AccessDenied error class; the Lambda error is its name.
    assert (result.status, result.error) == ("FAILED", "AccessDenied")
    assert "toy-lambda/lambda-toy-resolve is not authorized to perform: s3:PutObject" in json.loads(
        result.cause)["errorMessage"]


def test_a_policy_changed_between_two_runs_decides_the_second() -> None:
    """The gate keeps each role's policies between requests; a change made after a run must still
    decide the next one (the kept documents are read again)."""
    deny_put = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Elsewhere", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::other/*"}]}
    with Harness() as harness:
        toy.set_up(harness)
        first = harness.run_execution(toy.DEFINITION, {"run_id": "r1"}, name="r1", role_arn=toy.STATES_ROLE)
        for policy in harness.client("iam").list_role_policies(RoleName="toy-lambda")["PolicyNames"]:
            harness.client("iam").put_role_policy(RoleName="toy-lambda", PolicyName=policy,
                                                  PolicyDocument=json.dumps(deny_put))
        second = harness.run_execution(toy.DEFINITION, {"run_id": "r2"}, name="r2", role_arn=toy.STATES_ROLE)

    assert first.status == "SUCCEEDED", first.report()
    assert (second.status, second.error) == ("FAILED", "AccessDenied")
