"""One stack: storage, roles, glue functions and the pipeline, wired from the typed config."""

from __future__ import annotations

import json

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import nag
from stacks.config import PipelineConfig
from stacks.functions import GlueFunctions
from stacks.images import ImageRegistry
from stacks.pipeline import PipelineFunctions, PipelineSettings, TopicPipeline
from stacks.roles import SageMakerExecutionRole
from stacks.storage import DATASETS_PREFIX, INCOMING_PREFIX, PipelineStorage


class NtmPipelineStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        retention = logs.RetentionDays(_retention_name(config.log_retention_days))
        storage = PipelineStorage(self, "Storage", retain_data=config.retain_data,
                                  noncurrent_version_days=config.noncurrent_version_days)
        images = ImageRegistry(self, "Images")
        sagemaker = SageMakerExecutionRole(self, "SageMakerExecution", data=storage.data, images=images)
        functions = self._functions(config, storage, retention)
        self.pipeline = TopicPipeline(
            self, "Pipeline",
            settings=PipelineSettings(
                name_prefix=config.name_prefix,
                endpoint_name=config.endpoint_name,
                processing_instance_type=config.processing_instance_type,
                execution_timeout=Duration.hours(config.execution_timeout_hours),
                log_retention=retention,
                retain_logs=config.retain_data,
            ),
            images=images,
            sagemaker_role=sagemaker.role,
            functions=functions,
        )
        CfnOutput(self, "DataBucketName", value=storage.data.bucket_name,
                  description="Upload corpora under incoming/; runs write under runs/")
        CfnOutput(self, "StateMachineArn", value=self.pipeline.state_machine.state_machine_arn)
        CfnOutput(self, "SageMakerRoleArn", value=sagemaker.role.role_arn)

    def _functions(self, config: PipelineConfig, storage: PipelineStorage,
                   retention: logs.RetentionDays) -> PipelineFunctions:
        glue = GlueFunctions(self, "Functions", log_retention=retention, retain_logs=config.retain_data)
        resolve = glue.add(
            "ResolveRun", handler="resolve_run.handler",
            description="Validates an execution's input and names the run's jobs",
            environment={
                "RUN_DEFAULTS": json.dumps(config.run_defaults().to_json(), separators=(",", ":")),
                "NAME_PREFIX": config.name_prefix,
                "DATA_BUCKET": storage.data.bucket_name,
                "ENDPOINT_NAME": config.endpoint_name,
                "ENDPOINT_MAX_POLLS": str(config.endpoint_max_polls),
                "ENDPOINT_POLL_SECONDS": str(config.endpoint_poll_seconds),
            },
        )
        load_dataset = glue.add("LoadDataset", handler="load_dataset.handler",
                                description="Reads a prepared dataset's manifest for training", environment={})
        storage.data.grant_read(load_dataset, f"{DATASETS_PREFIX}*")
        storage.data.grant_read(load_dataset, f"{INCOMING_PREFIX}*")
        nag.accept_prefix_grants(load_dataset.role.node.find_child("DefaultPolicy"), "LoadDatasetRole", storage.data,
                                 [DATASETS_PREFIX, INCOMING_PREFIX])
        endpoint_status = glue.add("EndpointStatus", handler="endpoint_status.handler",
                                   description="Tells whether the pipeline's endpoint exists and its status",
                                   environment={})
        endpoint_status.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:DescribeEndpoint"],
            resources=[self.format_arn(service="sagemaker", resource="endpoint", resource_name=config.endpoint_name)],
        ))
        return PipelineFunctions(resolve_run=resolve, load_dataset=load_dataset, endpoint_status=endpoint_status)


def _retention_name(days: int) -> str:
    names = {1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
             60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
             365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS",
             1096: "THREE_YEARS", 1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS",
             2922: "EIGHT_YEARS", 3288: "NINE_YEARS", 3653: "TEN_YEARS"}
    return names[days]
