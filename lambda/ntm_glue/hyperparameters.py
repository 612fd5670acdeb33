"""NTM's hyperparameters: which exist, what values they accept, and how they travel.

The limits are SageMaker's documented ones (ntm_hyperparameters). CreateTrainingJob takes every
value as a string, so `to_api_string` is the only way a value leaves this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable


class HyperparameterError(ValueError):
    """A hyperparameter has a value NTM would reject; the message names it and what is allowed."""


@dataclass(frozen=True)
class Rule:
    kind: str  # "int", "float", "bool", "choice", "layers"
    allowed: str  # said back to the user when a value is rejected
    check: Callable[[Any], bool]


def _int_rule(low: int, high: float = math.inf) -> Rule:
    shown = f"an integer from {low} to {high:g}" if high != math.inf else f"an integer >= {low}"
    return Rule("int", shown, lambda v: low <= v <= high)


def _float_rule(low: float, high: float = math.inf, low_open: bool = False) -> Rule:
    lower = f"> {low:g}" if low_open else f">= {low:g}"
    shown = f"a number {lower}" + (f" and <= {high:g}" if high != math.inf else "")
    return Rule("float", shown, lambda v: (v > low if low_open else v >= low) and v <= high)


def _choice_rule(*options: str) -> Rule:
    return Rule("choice", "one of " + ", ".join(options), lambda v: v in options)


_LAYERS = re.compile(r"^(auto|[1-9][0-9]*(,[1-9][0-9]*)*)$")

RULES: dict[str, Rule] = {
    "num_topics": _int_rule(2, 1000),
    "batch_norm": Rule("bool", "true or false", lambda v: True),
    "clip_gradient": _float_rule(1e-3),
    "encoder_layers": Rule(
        "layers", "'auto' or comma-separated positive integers", lambda v: bool(_LAYERS.match(v))
    ),
    "encoder_layers_activation": _choice_rule("sigmoid", "tanh", "relu"),
    "epochs": _int_rule(1, 100),
    "learning_rate": _float_rule(1e-6, 1.0),
    "mini_batch_size": _int_rule(1, 10000),
    "num_patience_epochs": _int_rule(1, 10),
    "optimizer": _choice_rule("adagrad", "adam", "rmsprop", "sgd", "adadelta"),
    "rescale_gradient": _float_rule(1e-3, 1.0),
    "sub_sample": _float_rule(0.0, 1.0, low_open=True),
    "tolerance": _float_rule(1e-6, 0.1),
    "weight_decay": _float_rule(0.0, 1.0),
}

#: Set by the pipeline from the dataset, never by a user.
DERIVED = ("feature_dim",)


def _coerce(name: str, rule: Rule, value: Any) -> Any:
    """Accept a JSON value or its string form, as a console user may type either."""
    if rule.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif rule.kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
            return int(value)
    elif rule.kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return number
    elif isinstance(value, str):
        return value.strip()
    raise HyperparameterError(f"{name}: {value!r} is not {rule.allowed}")


def validate(name: str, value: Any) -> Any:
    """Return the value as a Python value NTM accepts, or raise HyperparameterError."""
    if name in DERIVED:
        raise HyperparameterError(f"{name}: set by the pipeline from the dataset; do not give it")
    rule = RULES.get(name)
    if rule is None:
        raise HyperparameterError(f"{name}: not an NTM hyperparameter (known: {', '.join(sorted(RULES))})")
    coerced = _coerce(name, rule, value)
    if not rule.check(coerced):
        raise HyperparameterError(f"{name}: {value!r} is not {rule.allowed}")
    return coerced


def to_api_string(value: Any) -> str:
    """The string CreateTrainingJob carries for a validated value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def validate_all(values: dict[str, Any]) -> dict[str, Any]:
    return {name: validate(name, value) for name, value in values.items()}
