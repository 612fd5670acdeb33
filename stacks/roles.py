"""The role SageMaker jobs, models and endpoints run as: exactly the prefixes and images they need."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks import nag
from stacks.images import ImageRegistry
from stacks.storage import DATASETS_PREFIX, INCOMING_PREFIX, RUNS_PREFIX


class SageMakerExecutionRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, data: s3.IBucket, images: ImageRegistry) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Runs the NTM pipeline's SageMaker jobs, models and endpoints",
        )
        # Read: corpora (preparation), datasets (training, transform), runs (models, transform output).
        data.grant_read(self.role, f"{INCOMING_PREFIX}*")
        data.grant_read(self.role, f"{DATASETS_PREFIX}*")
        data.grant_read(self.role, f"{RUNS_PREFIX}*")
        # Write: prepared datasets and everything a run produces; nothing under incoming/.
        data.grant_put(self.role, f"{DATASETS_PREFIX}*")
        data.grant_put(self.role, f"{RUNS_PREFIX}*")
        stack = Stack.of(self)
        self.role.add_to_policy(iam.PolicyStatement(
            sid="PullBuiltInImages",
            actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resources=images.repository_arns(),
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="JobLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[stack.format_arn(service="logs", resource="log-group", resource_name="/aws/sagemaker/*",
                                        arn_format=ArnFormat.COLON_RESOURCE_NAME)],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="JobMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}},
        ))
        policy = self.role.node.find_child("DefaultPolicy")
        nag.accept_prefix_grants(policy, "SageMakerExecutionRole", data,
                                 [INCOMING_PREFIX, DATASETS_PREFIX, RUNS_PREFIX],
                                 ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:Abort*"))
        nag.accept(policy, "IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
                   "SageMakerExecutionRole: reads the training code zip CDK uploaded to its bootstrap asset bucket (Asset.grant_read).")
        nag.accept(policy, "IAM5[Resource::*]", "SageMakerExecutionRole: ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource type (the latter is limited by namespace).")
        nag.accept(policy, "IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*]",
                   "SageMakerExecutionRole: SageMaker names its log groups /aws/sagemaker/<JobType>; the role writes only there.")
