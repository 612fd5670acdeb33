"""The upload trigger: a corpus uploaded under incoming/ starts one run (docs/starting-runs.md)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ntm_glue.run_input import RunSettings
from ntm_glue.upload_trigger import rule_key_patterns
from stacks import nag
from stacks.functions import GlueFunctions
from stacks.storage import INCOMING_PREFIX


class UploadTrigger(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: GlueFunctions, bucket: s3.IBucket,
                 state_machine: sfn.IStateMachine, run_defaults: RunSettings) -> None:
        super().__init__(scope, construct_id)
        self.function = functions.add(
            "StartFromUpload", handler="start_from_upload.handler",
            description="Starts one pipeline run per corpus uploaded under incoming/",
            environment={
                "RUN_DEFAULTS": run_defaults.serialize(),
                "DATA_BUCKET": bucket.bucket_name,
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
            },
        )
        # HeadObject of the event's version needs GetObjectVersion; the settings file is read as GetObject.
        self.function.add_to_role_policy(iam.PolicyStatement(
            sid="ReadUploads",
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            resources=[bucket.arn_for_objects(f"{INCOMING_PREFIX}*")],
        ))
        state_machine.grant_start_execution(self.function)
        bucket_id = Stack.of(bucket).get_logical_id(bucket.node.default_child)
        nag.accept(self.function.role.node.find_child("DefaultPolicy"), f"IAM5[Resource::<{bucket_id}.Arn>/{INCOMING_PREFIX}*]",
                   f"StartFromUploadRole: reads the uploaded objects and their settings files, whose keys users choose, under {INCOMING_PREFIX} of the data bucket only.")
        self.rule = events.Rule(
            self, "UploadRule",
            description="A corpus file or a folder's _START marker uploaded under incoming/ of the data bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": [{"wildcard": pattern} for pattern in rule_key_patterns()]},
                },
            ),
            # A failed start is retried by Lambda itself; these cover delivery to Lambda.
            targets=[targets.LambdaFunction(self.function, retry_attempts=8, max_event_age=Duration.hours(6))],
        )
