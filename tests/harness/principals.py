"""Roles in moto IAM, their credentials from moto STS, and clients that act as them.

A `Principal` is a role assumed by someone (the state machine, a Lambda function, a SageMaker
job). Clients made here carry the principal on every request (see `gate`), so the gate knows who
is asking without trusting whatever credentials a client happens to hold.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import moto
from botocore.client import BaseClient
from botocore.config import Config
from moto.iam.aws_managed_policies import aws_managed_policies_data

# Marks the harness's own clients: setup and bookkeeping requests are neither checked nor logged.
SERVICE = "harness"

_NO_RETRIES = Config(parameter_validation=False, retries={"total_max_attempts": 1})


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str


@dataclass(frozen=True)
class Principal:
    role_arn: str
    label: str  # who acts as the role: "states", "lambda:<name>", "sagemaker:<job name>"
    session_arn: str
    credentials: Credentials


@functools.cache
def _aws_managed_documents() -> dict[str, Any]:
    return json.loads(aws_managed_policies_data)


def _aws_managed_document(name: str) -> dict[str, Any]:
    documents = _aws_managed_documents()
    if name not in documents:
        raise ValueError(f"moto {moto.__version__} does not know the AWS managed policy {name}")
    return documents[name]["Document"]


def bind(client: BaseClient, principal: Principal | str) -> BaseClient:
    """Tags every request of `client` with who sends it (read back by the gate)."""
    def tag(context: dict[str, Any], **_: Any) -> None:
        context["harness_principal"] = principal
    client.meta.events.register("before-parameter-build", tag)
    return client


class Identities:
    """Creates roles, assumes them and hands out clients acting as them."""

    def __init__(self, region: str, account: str, session: boto3.session.Session,
                 client_factory: Callable[..., BaseClient]) -> None:
        self.region = region
        self.account = account
        self._session = session  # one session for all clients: service models load once
        self._service_client = client_factory
        # Every request of a run is authorized against its role's policies: they are read once and
        # read again after any change to IAM made through this session's clients (setup, tests).
        self._policy_documents: dict[str, list[Mapping[str, Any]]] = {}
        self._iam_changes = 0  # a read that overlapped a change is not kept (executions run on threads)
        self._policy_lock = threading.Lock()
        session.events.register("after-call.iam", self._forget_policies_on_change)
        self._iam = client_factory("iam")
        self._principals: dict[tuple[str, str], Principal] = {}
        self._clients: dict[tuple[str, str, str, str], BaseClient] = {}

    def create_role(self, role_arn: str, *, trusted_service: str, policies: Mapping[str, Mapping[str, Any]],
                    managed_policy_arns: Iterable[str] = ()) -> None:
        match = re.fullmatch(r"arn:aws[\w-]*:iam::(\d{12}):role(/(?:[^/]+/)*)([^/]+)", role_arn)
        if not match or match[1] != self.account:
            raise ValueError(f"role ARN {role_arn!r} is not a role of account {self.account}")
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": trusted_service}, "Action": "sts:AssumeRole"}]}
        self._iam.create_role(RoleName=match[3], Path=match[2], AssumeRolePolicyDocument=json.dumps(trust))
        for name, document in policies.items():
            self._iam.put_role_policy(RoleName=match[3], PolicyName=name, PolicyDocument=json.dumps(document))
        for policy_arn in managed_policy_arns:
            aws_managed = re.fullmatch(r"arn:aws[\w-]*:iam::aws:policy/(?:[^/]+/)*([^/]+)", policy_arn)
            if aws_managed:
                # An inline copy: loading all AWS managed policies into moto costs 0.7 s per harness.
                self._iam.put_role_policy(RoleName=match[3], PolicyName=f"aws-managed-{aws_managed[1]}",
                                          PolicyDocument=json.dumps(_aws_managed_document(aws_managed[1])))
            else:
                self._iam.attach_role_policy(RoleName=match[3], PolicyArn=policy_arn)

    @staticmethod
    def role_name(role_arn: str) -> str:
        return role_arn.rsplit("/", 1)[-1]

    def _role(self, role_arn: str) -> dict[str, Any] | None:
        try:
            role = self._iam.get_role(RoleName=self.role_name(role_arn))["Role"]
        except self._iam.exceptions.NoSuchEntityException:
            return None
        return role if role["Arn"] == role_arn else None

    def role_exists(self, role_arn: str) -> bool:
        return self._role(role_arn) is not None

    def trusts(self, role_arn: str, service_principal: str) -> bool:
        """Whether the role exists and its trust policy lets `service_principal` assume it."""
        role = self._role(role_arn)
        if role is None:
            return False
        document = role["AssumeRolePolicyDocument"]
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        for statement in statements:
            services = statement.get("Principal", {}).get("Service", [])
            services = services if isinstance(services, list) else [services]
            if statement["Effect"] == "Allow" and service_principal in services:
                return True
        return False

    def _forget_policies_on_change(self, model: Any, **_: Any) -> None:
        if not model.name.startswith(("Get", "List")):
            with self._policy_lock:
                self._iam_changes += 1
                self._policy_documents.clear()

    def policy_documents(self, role_arn: str) -> list[Mapping[str, Any]]:
        name = self.role_name(role_arn)
        with self._policy_lock:
            kept, changes = self._policy_documents.get(name), self._iam_changes
        if kept is not None:
            return kept
        documents = self._read_policy_documents(name)
        with self._policy_lock:
            if changes == self._iam_changes:
                self._policy_documents[name] = documents
        return documents

    def _read_policy_documents(self, name: str) -> list[Mapping[str, Any]]:
        documents = [self._iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                     for policy in self._iam.list_role_policies(RoleName=name)["PolicyNames"]]
        for attached in self._iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            version = self._iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
            documents.append(self._iam.get_policy_version(
                PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"])
        return documents

    def assume(self, role_arn: str, label: str) -> Principal:
        key = (role_arn, label)
        if key not in self._principals:
            session_name = re.sub(r"[^\w+=,.@-]", "-", label)[:64]
            response = self._service_client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)
            raw = response["Credentials"]
            self._principals[key] = Principal(
                role_arn=role_arn, label=label, session_arn=response["AssumedRoleUser"]["Arn"],
                credentials=Credentials(raw["AccessKeyId"], raw["SecretAccessKey"], raw["SessionToken"]))
        return self._principals[key]

    def client(self, service: str, principal: Principal, region: str | None = None) -> BaseClient:
        """A client signing with the principal's credentials, without client-side validation
        (the gate validates against the service model and answers as the service would)."""
        region = region or self.region
        key = (service, region, principal.role_arn, principal.label)
        if key not in self._clients:
            credentials = principal.credentials
            client = self._session.client(
                service, region_name=region, config=_NO_RETRIES, aws_access_key_id=credentials.access_key_id,
                aws_secret_access_key=credentials.secret_access_key, aws_session_token=credentials.session_token)
            self._clients[key] = bind(client, principal)
        return self._clients[key]
