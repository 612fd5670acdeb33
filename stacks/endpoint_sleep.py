"""The endpoint sleeps when idle: an hourly EventBridge schedule runs the IdleEndpoint Lambda, which
deletes the endpoint after `endpoint_idle_hours` without invocations and tells the topic."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks import nag
from stacks.functions import GlueFunctions


class EndpointSleep(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: GlueFunctions, endpoint_name: str,
                 idle_hours: int, name_prefix: str, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.function = functions.add(
            "IdleEndpoint", handler="idle_endpoint.handler",
            description=f"Deletes the endpoint after {idle_hours} h without invocations (hourly check)",
            environment={"ENDPOINT_NAME": endpoint_name, "IDLE_HOURS": str(idle_hours), "NAME_PREFIX": name_prefix,
                         "TOPIC_ARN": topic.topic_arn})
        topic.grant_publish(self.function)
        for statement in (
            iam.PolicyStatement(sid="DeleteIdleEndpoint", actions=["sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint"],
                                resources=[stack.format_arn(service="sagemaker", resource="endpoint",
                                                            resource_name=endpoint_name)]),
            # A run may ask for its own idle hours: a tag on its endpoint config (ntm:idle-hours).
            iam.PolicyStatement(sid="ReadIdleHoursTag", actions=["sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"],
                                resources=[stack.format_arn(service="sagemaker", resource="endpoint-config",
                                                            resource_name=f"{name_prefix}-*")]),
            # Neither takes a resource ARN: GetMetricStatistics has no resource type; the scalable
            # target is named by ServiceNamespace and ResourceId.
            iam.PolicyStatement(sid="ReadInvocationsAndScaling", actions=[
                "cloudwatch:GetMetricStatistics", "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DeleteScalingPolicy", "application-autoscaling:DeregisterScalableTarget"],
                resources=["*"]),
        ):
            self.function.add_to_role_policy(statement)
        policy = self.function.role.node.find_child("DefaultPolicy")
        nag.accept(policy, f"IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/{name_prefix}-*]",
                   "IdleEndpointRole: reads the idle-hours tag of the endpoint's current config; configs are named per run under this stack's prefix.")
        nag.accept(policy, "IAM5[Action::kms:GenerateDataKey*]",
                   "IdleEndpointRole: publishing to the encrypted topic needs data keys, on the topic's own key only (Topic.grant_publish).")
        self.rule = events.Rule(self, "HourlyCheck", schedule=events.Schedule.rate(Duration.hours(1)),
                                description=f"Checks whether {endpoint_name} sat idle for {idle_hours} h",
                                targets=[targets.LambdaFunction(self.function, retry_attempts=2)])
