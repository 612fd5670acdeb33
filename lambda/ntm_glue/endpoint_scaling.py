"""Application Auto Scaling on the endpoint's one variant, kept valid across runs' updates.

SageMaker's guide (endpoint-scaling-update): an update that changes the instance type of a variant
registered for auto scaling fails, so its scaling policy is deleted and the variant deregistered
first; an update that only changes the model is allowed as is. After the update, the variant is
registered again and its target-tracking policy put back (both calls replace what exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

VARIANT = "AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
POLICY_NAME = "invocations-per-instance"


@dataclass(frozen=True)
class Scaling:
    min_instances: int
    max_instances: int
    target_invocations: int  # SageMakerVariantInvocationsPerInstance: per instance per minute

    @property
    def enabled(self) -> bool:
        return self.max_instances > self.min_instances


def resource_id(endpoint_name: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{VARIANT}"


def register(autoscaling: Any, endpoint_name: str, scaling: Scaling, instance_count: int) -> dict[str, Any]:
    """Register the variant (min..max, never below the count this run deployed) and its policy."""
    if not scaling.enabled:
        return {"registered": False}
    target = {"ServiceNamespace": "sagemaker", "ResourceId": resource_id(endpoint_name), "ScalableDimension": DIMENSION}
    high = max(scaling.max_instances, instance_count)
    autoscaling.register_scalable_target(**target, MinCapacity=scaling.min_instances, MaxCapacity=high)
    autoscaling.put_scaling_policy(
        **target, PolicyName=POLICY_NAME, PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": float(scaling.target_invocations),
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            # Scale out within minutes, scale in slowly: a topic model is loaded in a few minutes.
            "ScaleOutCooldown": 300, "ScaleInCooldown": 600,
        })
    return {"registered": True, "min": scaling.min_instances, "max": high}


def deregister(autoscaling: Any, endpoint_name: str) -> bool:
    """Delete the policy and deregister the variant; False when it was not registered."""
    target = {"ServiceNamespace": "sagemaker", "ResourceId": resource_id(endpoint_name), "ScalableDimension": DIMENSION}
    found = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[target["ResourceId"]],
                                                  ScalableDimension=DIMENSION)["ScalableTargets"]
    if not found:
        return False
    try:
        autoscaling.delete_scaling_policy(**target, PolicyName=POLICY_NAME)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ObjectNotFoundException":
            raise
    autoscaling.deregister_scalable_target(**target)
    return True


def prepare_update(sagemaker: Any, autoscaling: Any, endpoint_name: str, current_config: str,
                   instance_type: str) -> dict[str, Any]:
    """Before UpdateEndpoint: deregister only when the update changes the variant's instance type."""
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=current_config)["ProductionVariants"]
    current = next((v.get("InstanceType") for v in variants if v["VariantName"] == VARIANT), None)
    if current == instance_type:
        return {"deregistered": False, "reason": "same instance type: SageMaker allows the update as is"}
    return {"deregistered": deregister(autoscaling, endpoint_name),
            "reason": f"instance type changes from {current} to {instance_type}"}
