"""The pieces the gate decides with: policy evaluation, required permissions, S3 URIs, timestamps."""

import datetime

import pytest

from tests.harness import iam_policy, iam_resources
from tests.harness.s3_uri import S3Location
from tests.harness.state_values import epoch_millis, iso_millis, rendered

SCOPE = iam_resources.Scope("aws", "eu-west-1", "123456789012")
ENDPOINT = "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/ep"


def _policy(*statements: dict) -> list[dict]:
    return [{"Version": "2012-10-17", "Statement": list(statements)}]


def test_actions_match_case_insensitively_as_in_aws() -> None:
    documents = _policy({"Effect": "Allow", "Action": "sagemaker:createEndpoint", "Resource": ENDPOINT})

    assert iam_policy.evaluate(documents, "sagemaker:CreateEndpoint", ENDPOINT) == iam_policy.Decision.ALLOWED
    assert iam_policy.evaluate(documents, "sagemaker:CreateEndpoint", ENDPOINT + "2") == \
        iam_policy.Decision.IMPLICIT_DENY


def test_an_explicit_deny_wins_and_a_failed_condition_only_skips_the_statement() -> None:
    allow = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
    scoped = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
              "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}
    deny = {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}
    context = {"iam:PassedToService": "sagemaker.amazonaws.com"}

    assert iam_policy.evaluate(_policy(scoped, allow), "iam:PassRole", "r", context) == iam_policy.Decision.ALLOWED
    assert iam_policy.evaluate(_policy(scoped), "iam:PassRole", "r", context) == iam_policy.Decision.IMPLICIT_DENY
    assert iam_policy.evaluate(_policy(allow, deny), "iam:PassRole", "r", context) == iam_policy.Decision.EXPLICIT_DENY


def test_not_resource_is_refused_rather_than_guessed() -> None:
    with pytest.raises(iam_policy.UnsupportedPolicy):
        iam_policy.evaluate(_policy({"Effect": "Allow", "Action": "s3:*", "NotResource": "x"}), "s3:GetObject", "y")


def test_endpoint_creation_needs_the_endpoint_and_its_config_and_pass_role_for_models() -> None:
    assert iam_resources.required("sagemaker", "CreateEndpoint", {"EndpointName": "ep", "EndpointConfigName": "c"},
                                  SCOPE) == [
        iam_resources.Authorization("sagemaker:CreateEndpoint", ENDPOINT),
        iam_resources.Authorization("sagemaker:CreateEndpoint",
                                    "arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/c")]
    needed = iam_resources.required("sagemaker", "CreateModel", {"ModelName": "m", "ExecutionRoleArn": "arn:role",
                                                                 "Tags": [{"Key": "k", "Value": "v"}]}, SCOPE)
    assert [(a.action, a.resource, dict(a.context)) for a in needed] == [
        ("sagemaker:CreateModel", "arn:aws:sagemaker:eu-west-1:123456789012:model/m", {}),
        ("sagemaker:AddTags", "arn:aws:sagemaker:eu-west-1:123456789012:model/m", {}),
        ("iam:PassRole", "arn:role", {"iam:PassedToService": "sagemaker.amazonaws.com"})]


def test_s3_operations_map_to_their_iam_actions() -> None:
    assert iam_resources.required("s3", "HeadObject", {"Bucket": "b", "Key": "k/x"}, SCOPE) == [
        iam_resources.Authorization("s3:GetObject", "arn:aws:s3:::b/k/x")]
    assert iam_resources.required("s3", "ListObjectsV2", {"Bucket": "b"}, SCOPE) == [
        iam_resources.Authorization("s3:ListBucket", "arn:aws:s3:::b")]


def test_an_unknown_operation_is_reported_not_guessed() -> None:
    with pytest.raises(iam_resources.UnknownAuthorization):
        iam_resources.required("kms", "Decrypt", {}, SCOPE)


def test_s3_locations_parse_both_uri_forms_sagemaker_accepts() -> None:
    assert S3Location.parse("s3://bucket/a/b/") == S3Location("bucket", "a/b/")
    assert S3Location.parse("https://s3.eu-west-1.amazonaws.com/bucket/a/b") == S3Location("bucket", "a/b")
    assert S3Location("bucket", "a/").join("job", "output").uri == "s3://bucket/a/job/output"


def test_timestamps_render_as_step_functions_renders_them() -> None:
    moment = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)

    assert rendered({"a": [moment]}, epoch_millis) == {"a": [1714564800123]}
    assert rendered({"a": moment}, iso_millis) == {"a": "2024-05-01T12:00:00.123Z"}
