"""Auto scaling of the endpoint's variant against moto's Application Auto Scaling: registered with its
policy, deregistered before an update only when the instance type changes (SageMaker's rule)."""

import boto3
from moto import mock_aws
from ntm_glue.endpoint_scaling import Scaling, prepare_update, register, resource_id

ENDPOINT = "ntm-topics"


def _endpoint_with_config(sagemaker, instance_type="ml.m4.xlarge"):
    sagemaker.create_model(ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
                           PrimaryContainer={"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/ntm:1"})
    sagemaker.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": "m", "InstanceType": instance_type, "InitialInstanceCount": 1}])


@mock_aws
def test_register_puts_the_target_and_its_target_tracking_policy():
    autoscaling = boto3.client("application-autoscaling", region_name="us-east-1")
    assert register(autoscaling, ENDPOINT, Scaling(1, 3, 500), instance_count=1) == {"registered": True, "min": 1, "max": 3}
    (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (resource_id(ENDPOINT), 1, 3)
    (policy,) = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 500.0
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"
    # A run that deployed more instances than the maximum is not scaled in below them.
    assert register(autoscaling, ENDPOINT, Scaling(1, 3, 500), instance_count=5)["max"] == 5
    assert register(autoscaling, ENDPOINT, Scaling(1, 1, 500), instance_count=1) == {"registered": False}


@mock_aws
def test_an_update_deregisters_only_when_the_instance_type_changes():
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    autoscaling = boto3.client("application-autoscaling", region_name="us-east-1")
    _endpoint_with_config(sagemaker)
    register(autoscaling, ENDPOINT, Scaling(1, 2, 1000), instance_count=1)
    same = prepare_update(sagemaker, autoscaling, ENDPOINT, "c", "ml.m4.xlarge")
    assert same["deregistered"] is False
    assert autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    changed = prepare_update(sagemaker, autoscaling, ENDPOINT, "c", "ml.c5.xlarge")
    assert changed["deregistered"] is True and "ml.m4.xlarge to ml.c5.xlarge" in changed["reason"]
    assert autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"] == []
    assert autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []
