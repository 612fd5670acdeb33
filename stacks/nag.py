"""cdk-nag acknowledgements: every one names the finding it accepts, on one construct, with why."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

PACK = "AwsSolutions"

# The wildcard actions that Bucket.grant_read / grant_put write, and why each is acceptable.
_GRANT_ACTIONS = {
    "s3:GetObject*": "the object reads grant_read writes (GetObject, GetObjectVersion, ...)",
    "s3:GetBucket*": "the bucket-level reads grant_read writes",
    "s3:List*": "listing, which reading a prefix needs",
    "s3:Abort*": "aborting its own multipart uploads",
}


def accept(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (`IAM5[Resource::...]` style ids included) on a construct."""
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))


def accept_prefix_grants(policy: IConstruct, who: str, bucket: s3.IBucket, prefixes: list[str],
                         actions: tuple[str, ...] = ("s3:GetObject*", "s3:GetBucket*", "s3:List*")) -> None:
    """Acknowledge what `bucket.grant_*(role, prefix + '*')` leaves: wildcards scoped to one bucket's prefixes."""
    bucket_id = Stack.of(bucket).get_logical_id(bucket.node.default_child)
    for action in actions:
        accept(policy, f"IAM5[Action::{action}]", f"{who}: {_GRANT_ACTIONS[action]}, on the data bucket only.")
    for prefix in prefixes:
        accept(policy, f"IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
               f"{who}: objects under {prefix} of the data bucket, whose keys are named per run.")
