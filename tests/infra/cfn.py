"""Resolve a synthesized template's intrinsic functions to what one deployment would produce.

Physical names are derived from logical ids, so a rendered value is stable and readable:
a bucket `StorageData6BB23F4E` becomes `storagedata6bb23f4e`, a function's ARN ends in its id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class Deployment:
    template: dict[str, Any]
    account: str = ACCOUNT
    region: str = REGION
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    stack_name: str = "NtmTopicPipeline"

    def pseudo(self, name: str) -> str:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::NoValue": "",
        }[name]

    def ref(self, logical_id: str) -> str:
        if logical_id.startswith("AWS::"):
            return self.pseudo(logical_id)
        kind = self.template["Resources"][logical_id]["Type"]
        if kind in ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"):
            return self.arn(logical_id)
        return logical_id.lower() if kind == "AWS::S3::Bucket" else logical_id

    def arn(self, logical_id: str) -> str:
        kind = self.template["Resources"][logical_id]["Type"]
        a, r, p = self.account, self.region, self.partition
        return {
            "AWS::IAM::Role": f"arn:{p}:iam::{a}:role/{logical_id}",
            "AWS::Lambda::Function": f"arn:{p}:lambda:{r}:{a}:function:{logical_id}",
            "AWS::S3::Bucket": f"arn:{p}:s3:::{logical_id.lower()}",
            "AWS::StepFunctions::StateMachine": f"arn:{p}:states:{r}:{a}:stateMachine:{logical_id}",
            "AWS::SNS::Topic": f"arn:{p}:sns:{r}:{a}:{logical_id}",
            "AWS::Logs::LogGroup": f"arn:{p}:logs:{r}:{a}:log-group:{logical_id}:*",
            "AWS::Events::Rule": f"arn:{p}:events:{r}:{a}:rule/{logical_id}",
            "AWS::KMS::Key": f"arn:{p}:kms:{r}:{a}:key/{logical_id}",
            "AWS::CloudWatch::Alarm": f"arn:{p}:cloudwatch:{r}:{a}:alarm:{logical_id}",
        }[kind]

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("Name", "TopicName"):
            # Physical names are the logical ids (lower-cased for buckets), whatever Ref returns.
            kind = self.template["Resources"][logical_id]["Type"]
            return logical_id.lower() if kind == "AWS::S3::Bucket" else logical_id
        raise KeyError(f"GetAtt {logical_id}.{attribute} is not rendered")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                return self.get_att(*argument)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(part)) for part in parts)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::FindInMap":
                name, top, second = (self.resolve(part) for part in argument)
                return self.template["Mappings"][name][top][second]
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(index)]
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def state_machine_definition(template: dict[str, Any], **deployment: Any) -> dict[str, Any]:
    """The one state machine's definition, rendered to plain ASL."""
    import json

    machines = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    (machine,) = machines
    rendered = Deployment(template, **deployment).resolve(machine["Properties"]["DefinitionString"])
    return json.loads(rendered)


def all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state by name, those inside Map and Parallel states included."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for inner in [state.get("ItemProcessor") or state.get("Iterator"), *state.get("Branches", [])]:
            if inner:
                found.update(all_states(inner))
    return found
