"""Synthesize the app the way `cdk synth` does (same context from cdk.json) into a temp folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from app import build_app

REPO = Path(__file__).resolve().parents[2]


def cdk_json_context() -> dict[str, Any]:
    return json.loads((REPO / "cdk.json").read_text())["context"]


@dataclass
class Synthesized:
    outdir: Path
    stack_name: str
    template: dict[str, Any]

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack_name}.template.json"

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.template["Resources"].items() if value["Type"] == kind}


def synthesize(outdir: Path, **context: Any) -> Synthesized:
    app = cdk.App(outdir=str(outdir), context={**cdk_json_context(), **context})
    stack = build_app(app)
    app.synth()
    template = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    return Synthesized(outdir, stack.artifact_id, template)
