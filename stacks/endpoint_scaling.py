"""The Lambda that keeps the endpoint's variant registered with Application Auto Scaling, and what it may do.

Permissions are SageMaker's documented minimum for auto scaling an endpoint (endpoint-auto-scaling-
prerequisites): Application Auto Scaling's actions, the endpoint's describes and capacity updates,
the service-linked role Application Auto Scaling creates on first use, and the CloudWatch alarms a
target-tracking policy makes (always named TargetTracking-...).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from stacks import nag
from stacks.functions import GlueFunctions

SCALING_ROLE = ("role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
                "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")


class EndpointScalingFunction:
    def __init__(self, glue: GlueFunctions, config) -> None:  # config: stacks.config.PipelineConfig
        stack = Stack.of(glue)
        self.function: lambda_.Function = glue.add(
            "ScaleEndpoint", handler="scale_endpoint.handler",
            description="Registers the endpoint's variant with Application Auto Scaling; deregisters it when an update needs it",
            environment={"SCALING_MIN_INSTANCES": str(config.endpoint_min_instances),
                         "SCALING_MAX_INSTANCES": str(config.endpoint_max_instances),
                         "SCALING_TARGET_INVOCATIONS": str(config.endpoint_target_invocations)})
        sagemaker = lambda kind, name: stack.format_arn(service="sagemaker", resource=kind, resource_name=name)
        statements = [
            iam.PolicyStatement(sid="ScaleTheVariant", actions=[
                "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:DescribeScalableTargets", "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy"], resources=["*"]),
            iam.PolicyStatement(sid="ReadAndResizeTheEndpoint", actions=[
                "sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig",
                "sagemaker:UpdateEndpointWeightsAndCapacities"],
                resources=[sagemaker("endpoint", config.endpoint_name), sagemaker("endpoint-config", f"{config.name_prefix}-*")]),
            iam.PolicyStatement(sid="TargetTrackingAlarms", actions=[
                "cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"],
                resources=[stack.format_arn(service="cloudwatch", resource="alarm", resource_name="TargetTracking*",
                                            arn_format=ArnFormat.COLON_RESOURCE_NAME)]),
            iam.PolicyStatement(sid="ScalingServiceLinkedRole", actions=["iam:CreateServiceLinkedRole"],
                                resources=[stack.format_arn(service="iam", region="", resource=SCALING_ROLE)],
                                conditions={"StringLike": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}}),
        ]
        for statement in statements:
            self.function.add_to_role_policy(statement)
        policy = self.function.role.node.find_child("DefaultPolicy")
        nag.accept(policy, f"IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/{config.name_prefix}-*]",
                   "ScaleEndpointRole: reads the endpoint's current config's instance type; configs are named per run under this stack's prefix.")
        nag.accept(policy, "IAM5[Resource::arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:TargetTracking*]",
                   "ScaleEndpointRole: a target-tracking policy creates and deletes its own alarms, always named TargetTracking-...")
