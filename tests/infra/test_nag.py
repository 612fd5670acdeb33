"""cdk-nag's AwsSolutions pack: zero unacknowledged findings, each acknowledgement with a reason.

The app runs the pack on every synth (app.py), so a new finding fails `cdk synth` and this test.
"""

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks


def report(synthesized) -> dict:
    return json.loads((synthesized.outdir / "validation-report.json").read_text())


def test_no_unacknowledged_findings(synthesized):
    violations = [v["ruleName"] for plugin in report(synthesized)["pluginReports"] for v in plugin["violations"]]
    assert violations == []


def test_every_acknowledgement_names_its_resource_and_reason(synthesized):
    suppressed = [v for plugin in report(synthesized)["pluginReports"] for v in plugin["suppressedViolations"]]
    assert suppressed, "expected the documented acknowledgements"
    for finding in suppressed:
        assert len(finding["reason"]) > 30, finding
        assert finding["acknowledgedAt"] != "", finding
        # Acknowledged where it applies, never stack-wide.
        assert "/" in finding["acknowledgedAt"], finding


def test_a_new_finding_fails_synth(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Insecure")
    s3.Bucket(stack, "NoLogsNoTls")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks())
    with pytest.raises(RuntimeError, match="ValidationFailed: ERROR The S3 Bucket has server access logs disabled"):
        app.synth()
