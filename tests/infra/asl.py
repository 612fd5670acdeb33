"""Apply an ASL state's `Parameters` to a state input, as Step Functions does for plain paths.

Only what the pipeline's task parameters use is supported: `key.$` with a reference path
(`$.a.b`, `$$.Execution.Name`), or `States.Format('{}', <path>)` (a number made a string);
anything else raises so that a test never checks a guess.
"""

from __future__ import annotations

import re
from typing import Any

_PATH = re.compile(r"^\$\$?(\.[A-Za-z0-9_]+)*$")
_FORMAT_ONE = re.compile(r"^States\.Format\('\{\}', (\$[^)]*)\)$")


def select(path: str, data: Any, context: dict[str, Any]) -> Any:
    if not _PATH.match(path):
        raise ValueError(f"not a plain reference path: {path}")
    value = context if path.startswith("$$") else data
    for part in path.lstrip("$").split(".")[1:]:
        value = value[part]
    return value


def apply_parameters(template: Any, data: Any, context: dict[str, Any] | None = None) -> Any:
    context = context or {}
    if isinstance(template, list):
        return [apply_parameters(item, data, context) for item in template]
    if not isinstance(template, dict):
        return template
    rendered = {}
    for key, value in template.items():
        if key.endswith(".$"):
            formatted = _FORMAT_ONE.match(value)
            rendered[key[:-2]] = str(select(formatted.group(1), data, context)) if formatted else select(value, data, context)
        else:
            rendered[key] = apply_parameters(value, data, context)
    return rendered
