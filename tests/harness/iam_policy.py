"""Identity-policy evaluation the way AWS does it, on top of moto's statement matcher.

moto's `IAMPolicyStatement` matches Action and Resource patterns and StringEquals conditions, but
it compares actions case-sensitively (AWS does not: CDK writes `sagemaker:createEndpoint`), and it
reports a failed condition as a Deny even on an Allow statement. So actions are lower-cased on
both sides and every statement is asked only "do you apply?"; the Allow/Deny logic lives here.
Condition operators other than StringEquals are not checked by moto (they count as met).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult


class Decision(enum.Enum):
    ALLOWED = "allowed"
    IMPLICIT_DENY = "because no identity-based policy allows the {action} action"
    EXPLICIT_DENY = "with an explicit deny in an identity-based policy"

    def explain(self, action: str) -> str:
        """The end of AWS's AccessDenied message for this decision."""
        return self.value.format(action=action)


class UnsupportedPolicy(ValueError):
    """A policy element the evaluator cannot judge; raised rather than guessing."""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    for element in ("NotResource", "NotPrincipal", "Principal"):
        if element in statement:
            raise UnsupportedPolicy(f"identity policy statement with {element}: {dict(statement)}")
    probe = dict(statement, Effect="Allow")
    for element in ("Action", "NotAction"):
        if element in probe:
            probe[element] = [pattern.lower() for pattern in _as_list(probe[element])]
    verdict = IAMPolicyStatement(probe).is_action_permitted(action.lower(), resource, None, dict(context))
    return verdict == PermissionResult.PERMITTED


def evaluate(documents: Iterable[Mapping[str, Any]], action: str, resource: str,
             context: Mapping[str, str] | None = None) -> Decision:
    """Decides `action` on `resource` for a principal holding these policy documents."""
    allowed = False
    for document in documents:
        for statement in _as_list(document["Statement"]):
            if not _applies(statement, action, resource, context or {}):
                continue
            if statement["Effect"] == "Deny":
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOWED if allowed else Decision.IMPLICIT_DENY
