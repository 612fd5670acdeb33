"""The idle check against moto: an endpoint left without invocations for the idle hours is deleted
(its config and model kept, its auto scaling deregistered) and the topic told; a used, young or
busy endpoint stays."""

import datetime

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends
from ntm_glue import endpoint_idle
from ntm_glue.endpoint_scaling import Scaling, register

ENDPOINT = "ntm-topics"
NOW = datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture
def clients():
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                               PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/ntm:1"})
        sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m4.xlarge", "InitialInstanceCount": 1}])
        sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="c")
        endpoint = sagemaker_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].endpoints[ENDPOINT]
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = NOW - datetime.timedelta(hours=30)
        autoscaling = boto3.client("application-autoscaling", region_name="us-east-1")
        register(autoscaling, ENDPOINT, Scaling(1, 2, 1000), 1)
        yield sagemaker, boto3.client("cloudwatch", region_name="us-east-1"), autoscaling, endpoint


def test_an_endpoint_idle_for_the_idle_hours_is_deleted_and_its_config_kept(clients):
    sagemaker, cloudwatch, autoscaling, _ = clients
    result = endpoint_idle.check(sagemaker, cloudwatch, autoscaling, ENDPOINT, 24, NOW)
    assert result == {"deleted": True, "reason": "no invocations in 24 h", "endpoint_config_name": "c"}
    assert ENDPOINT not in [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]
    assert sagemaker.describe_endpoint_config(EndpointConfigName="c") and sagemaker.describe_model(ModelName="m")
    assert autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    subject, body = endpoint_idle.message(ENDPOINT, result, "ntm")
    assert subject == "[ntm] Endpoint ntm-topics deleted after no invocations in 24 h" and "creates the endpoint again" in body


def test_an_endpoint_that_was_called_or_changed_recently_or_is_busy_stays(clients):
    sagemaker, cloudwatch, autoscaling, endpoint = clients
    cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{
        "MetricName": "Invocations", "Value": 3, "Timestamp": NOW - datetime.timedelta(hours=2),
        "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]}])
    assert endpoint_idle.check(sagemaker, cloudwatch, autoscaling, ENDPOINT, 24, NOW) == {
        "deleted": False, "reason": "3 invocations in the last 24 h"}
    endpoint.last_modified_time = NOW - datetime.timedelta(hours=5)
    assert endpoint_idle.check(sagemaker, cloudwatch, autoscaling, ENDPOINT, 24, NOW)["reason"] == "changed 5.0 h ago"
    endpoint.endpoint_status = "Updating"
    assert endpoint_idle.check(sagemaker, cloudwatch, autoscaling, ENDPOINT, 1, NOW)["deleted"] is False
    assert sagemaker.describe_endpoint(EndpointName=ENDPOINT)


def tag_config(sagemaker, idle_hours: str) -> None:
    arn = sagemaker.describe_endpoint_config(EndpointConfigName="c")["EndpointConfigArn"]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["ntm:idle-hours"])  # moto's AddTags appends a key twice
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "ntm:idle-hours", "Value": idle_hours}])


def test_the_run_that_made_the_config_chooses_its_own_idle_hours(clients):
    sagemaker, cloudwatch, autoscaling, _ = clients  # 30 h without a change or a call
    tag_config(sagemaker, "48")  # the run asked for two days: the deployment's 24 h do not apply
    assert endpoint_idle.check(sagemaker, cloudwatch, autoscaling, ENDPOINT, 24, NOW) == {
        "deleted": False, "reason": "changed 30.0 h ago"}
    tag_config(sagemaker, "0")  # never for idleness
    assert endpoint_idle.check(sagemaker, cloudwatch, autoscaling, ENDPOINT, 1, NOW)["deleted"] is False
    tag_config(sagemaker, "12")  # sooner than the deployment's rule
    assert endpoint_idle.check(sagemaker, cloudwatch, autoscaling, ENDPOINT, 48, NOW)["reason"] == "no invocations in 12 h"


def test_an_untagged_or_garbled_config_keeps_the_deployments_idle_hours(clients):
    sagemaker = clients[0]
    assert endpoint_idle.idle_hours_of(sagemaker, "c", 24) == 24
    tag_config(sagemaker, "two days")
    assert endpoint_idle.idle_hours_of(sagemaker, "c", 24) == 24
    assert endpoint_idle.idle_hours_of(sagemaker, "gone", 24) == 24
