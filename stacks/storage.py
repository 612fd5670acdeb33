"""The data bucket (corpora, datasets, models, run outputs) and the bucket of its access logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks import nag

INCOMING_PREFIX = "incoming/"
DATASETS_PREFIX = "datasets/"
RUNS_PREFIX = "runs/"


class PipelineStorage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain_data: bool, noncurrent_version_days: int) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY
        secure = dict(
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            removal_policy=removal,
            # Without retention the stack empties the buckets on deletion, so that it can remove them.
            auto_delete_objects=not retain_data,
        )
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365),
                                 noncurrent_version_expiration=Duration.days(30)),
            ],
            **secure,
        )
        nag.accept(self.access_logs, "S1", "AccessLogs is itself the target of the data bucket's server access logs; logging it into itself would loop.")
        self.data = s3.Bucket(
            self,
            "Data",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="data/",
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(7)),
                s3.LifecycleRule(id="expire-replaced-versions",
                                 noncurrent_version_expiration=Duration.days(noncurrent_version_days)),
                # Prepared datasets can be rebuilt from their corpus: after a month they move to a cheaper class.
                s3.LifecycleRule(id="datasets-to-infrequent-access", prefix=DATASETS_PREFIX,
                                 transitions=[s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                                                            transition_after=Duration.days(30))]),
            ],
            **secure,
        )
        # Upload events go to EventBridge (they start runs). Set on the resource itself: the
        # Bucket property would add a custom-resource Lambda just to switch this on.
        self.data.node.default_child.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)
