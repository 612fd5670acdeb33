"""Run notifications: an encrypted SNS topic, an optional e-mail subscription, and one readable
message per finished run (the NotifyRunFinished Lambda on Step Functions status-change events)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ntm_glue.run_notification import FINISHED
from stacks import nag
from stacks.functions import GlueFunctions

CLOUDWATCH = iam.ServicePrincipal("cloudwatch.amazonaws.com")


JOB_KINDS = {"training-job": "DescribeTrainingJob", "processing-job": "DescribeProcessingJob",
             "transform-job": "DescribeTransformJob"}


def grant_describe_jobs(function: lambda_.Function, role_name: str, name_prefix: str) -> None:
    """Describe<Job> on the stack's jobs (named `<prefix>-...` per run): what a run cost."""
    stack = Stack.of(function)
    function.add_to_role_policy(iam.PolicyStatement(
        sid="ReadRunJobCosts", actions=[f"sagemaker:{action}" for action in JOB_KINDS.values()],
        resources=[stack.format_arn(service="sagemaker", resource=kind, resource_name=f"{name_prefix}-*") for kind in JOB_KINDS]))
    policy = function.role.node.find_child("DefaultPolicy")
    for kind in JOB_KINDS:
        nag.accept(policy, f"IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:{kind}/{name_prefix}-*]",
                   f"{role_name}: reads the billed time of the run's {kind}s, named per run under this stack's prefix.")


class RunNotifications(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: GlueFunctions,
                 state_machine: sfn.StateMachine, name_prefix: str, email: str) -> None:
        super().__init__(scope, construct_id)
        # A key of our own, not alias/aws/sns: CloudWatch alarms cannot publish to a topic encrypted
        # with the AWS managed key, whose policy cannot grant them its use.
        self.key = kms.Key(self, "TopicKey", enable_key_rotation=True, pending_window=Duration.days(7),
                           removal_policy=RemovalPolicy.DESTROY,
                           description=f"Encrypts the {name_prefix} pipeline's run notifications topic")
        self.key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsEncryptNotifications",
            principals=[CLOUDWATCH], actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
        ))
        self.topic = sns.Topic(self, "Topic", display_name=f"{name_prefix} topic pipeline runs",
                               master_key=self.key, enforce_ssl=True)
        # The topic policy replaces SNS's default one, so the alarms' publisher is named explicitly.
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsPublish",
            principals=[CLOUDWATCH], actions=["sns:Publish"], resources=[self.topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        ))
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.function = functions.add(
            "NotifyRunFinished", handler="notify_run_finished.handler",
            description="Publishes one readable message per finished pipeline run",
            environment={"TOPIC_ARN": self.topic.topic_arn, "NAME_PREFIX": name_prefix},
        )
        self.topic.grant_publish(self.function)
        executions = Stack.of(self).format_arn(service="states", resource="execution", arn_format=ArnFormat.COLON_RESOURCE_NAME,
                                               resource_name=f"{state_machine.state_machine_name}:*")
        self.function.add_to_role_policy(iam.PolicyStatement(
            sid="ReadFinishedRuns", actions=["states:DescribeExecution", "states:GetExecutionHistory"], resources=[executions]))
        grant_describe_jobs(self.function, "NotifyRunFinishedRole", name_prefix)
        policy = self.function.role.node.find_child("DefaultPolicy")
        nag.accept(policy, "IAM5[Action::kms:GenerateDataKey*]",
                   "NotifyRunFinishedRole: publishing to the encrypted topic needs data keys, on the topic's own key only (Topic.grant_publish).")
        sm_id = Stack.of(state_machine).get_logical_id(state_machine.node.default_child)
        nag.accept(policy, f"IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<{sm_id}.Name>:*]",
                   "NotifyRunFinishedRole: reads the history of any execution of the pipeline's own state machine; executions are named per run.")
        self.rule = events.Rule(
            self, "RunFinishedRule",
            description="A run of the pipeline's state machine succeeded, failed, timed out or was aborted",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": list(FINISHED), "stateMachineArn": [state_machine.state_machine_arn]},
            ),
            targets=[targets.LambdaFunction(self.function, retry_attempts=8, max_event_age=Duration.hours(6))],
        )
