"""Which IAM permissions a request needs: action names and resource ARNs per operation.

Covers the services the pipeline talks to. An operation it does not know raises
`UnknownAuthorization` instead of guessing "*", which would make a scoped policy look wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Request parameters that hand a role to the called service (checked as iam:PassRole).
_ROLE_PARAMETERS = ("RoleArn", "ExecutionRoleArn")

_S3_OBJECT_ACTIONS = {
    "GetObject": "GetObject", "HeadObject": "GetObject", "PutObject": "PutObject",
    "DeleteObject": "DeleteObject", "GetObjectTagging": "GetObjectTagging",
    "PutObjectTagging": "PutObjectTagging", "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject", "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
}
_S3_BUCKET_ACTIONS = {
    "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket", "HeadBucket": "ListBucket",
    "GetBucketLocation": "GetBucketLocation", "ListObjectVersions": "ListBucketVersions",
}
# Operations whose resource is not `<kind>/<Name parameter>` derived from the operation name.
_SAGEMAKER_EXTRA_RESOURCES = {
    "CreateEndpoint": ("endpoint-config", "EndpointConfigName"),
    "UpdateEndpoint": ("endpoint-config", "EndpointConfigName"),
}
_ALWAYS_ALLOWED = {("sts", "GetCallerIdentity")}
# Services whose signing name is not their IAM action prefix.
_IAM_PREFIX = {"monitoring": "cloudwatch"}


class UnknownAuthorization(LookupError):
    """The harness does not know the permissions this operation needs."""


@dataclass(frozen=True)
class Authorization:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    partition: str
    region: str
    account: str

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region, account = (self.region, self.account) if regional else ("", "")
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _sagemaker(operation: str, params: Mapping[str, Any], scope: Scope) -> list[Authorization]:
    action = f"sagemaker:{operation}"
    if operation in ("AddTags", "ListTags", "DeleteTags"):
        return [Authorization(action, params["ResourceArn"])]
    if operation.startswith("List"):
        return [Authorization(action, "*")]
    noun = re.sub(r"^(Create|Describe|Stop|Delete|Update|Invoke)", "", operation)
    name_parameter = f"{noun}Name"
    if name_parameter not in params:
        raise UnknownAuthorization(f"sagemaker:{operation} (no {name_parameter} parameter)")
    resources = [scope.arn("sagemaker", f"{_kebab(noun)}/{params[name_parameter]}")]
    if operation in _SAGEMAKER_EXTRA_RESOURCES:
        kind, parameter = _SAGEMAKER_EXTRA_RESOURCES[operation]
        resources.append(scope.arn("sagemaker", f"{kind}/{params[parameter]}"))
    needed = [Authorization(action, resource) for resource in resources]
    if operation.startswith("Create") and params.get("Tags"):
        needed.append(Authorization("sagemaker:AddTags", resources[0]))
    return needed


def _s3(operation: str, params: Mapping[str, Any], scope: Scope) -> list[Authorization]:
    bucket = scope.arn("s3", params.get("Bucket", ""), regional=False)
    if operation in _S3_OBJECT_ACTIONS:
        return [Authorization(f"s3:{_S3_OBJECT_ACTIONS[operation]}", f"{bucket}/{params['Key']}")]
    if operation in _S3_BUCKET_ACTIONS:
        return [Authorization(f"s3:{_S3_BUCKET_ACTIONS[operation]}", bucket)]
    if operation == "CopyObject":
        source = params["CopySource"]
        source_path = f"{source['Bucket']}/{source['Key']}" if isinstance(source, dict) else source.lstrip("/")
        return [Authorization("s3:PutObject", f"{bucket}/{params['Key']}"),
                Authorization("s3:GetObject", scope.arn("s3", source_path.split("?")[0], regional=False))]
    if operation == "DeleteObjects":
        return [Authorization("s3:DeleteObject", f"{bucket}/{item['Key']}")
                for item in params["Delete"]["Objects"]]
    raise UnknownAuthorization(f"s3:{operation}")


def _function_arn(name: str, scope: Scope) -> str:
    return name if name.startswith("arn:") else scope.arn("lambda", f"function:{name}")


def _single_resource(service: str, operation: str, params: Mapping[str, Any], scope: Scope) -> str:
    if service == "lambda":
        return _function_arn(params["FunctionName"], scope)
    if service == "sns":
        return params.get("TopicArn") or params["TargetArn"]
    if service == "events":
        if operation == "PutEvents":
            return scope.arn("events", "event-bus/default")
        return scope.arn("events", f"rule/{params.get('Name') or params['Rule']}")
    if service == "states":
        return params.get("stateMachineArn") or params["executionArn"]
    if service == "dynamodb":
        return scope.arn("dynamodb", f"table/{params['TableName']}")
    if service in ("cloudwatch", "application-autoscaling"):
        # GetMetricStatistics has no resource type; scalable targets take no resource ARN here.
        return "*"
    raise UnknownAuthorization(f"{service}:{operation}")


def required(service: str, operation: str, params: Mapping[str, Any], scope: Scope) -> list[Authorization]:
    """Every permission the caller needs for one request. `service` is the signing name (the IAM
    prefix for all but CloudWatch, which signs as "monitoring")."""
    service = _IAM_PREFIX.get(service, service)
    if (service, operation) in _ALWAYS_ALLOWED:
        return []
    if service == "sagemaker":
        needed = _sagemaker(operation, params, scope)
    elif service == "s3":
        needed = _s3(operation, params, scope)
    elif (service, operation) == ("cloudwatch", "DescribeAlarms") and params.get("AlarmNames"):
        # Per alarm, as the Service Authorization Reference lists the alarm resource type for it.
        needed = [Authorization("cloudwatch:DescribeAlarms", scope.arn("cloudwatch", f"alarm:{name}"))
                  for name in params["AlarmNames"]]
    else:
        action = "lambda:InvokeFunction" if (service, operation) == ("lambda", "Invoke") else f"{service}:{operation}"
        needed = [Authorization(action, _single_resource(service, operation, params, scope))]
    passed_to = {"iam:PassedToService": f"{service}.amazonaws.com"}
    needed += [Authorization("iam:PassRole", params[key], passed_to) for key in _ROLE_PARAMETERS if key in params]
    return needed
