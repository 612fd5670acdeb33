"""cfn-lint over every synthesized template: no errors, no warnings.

Ignored rules, each with its reason:
- W3005 (redundant DependsOn): CDK makes each Lambda function and the state machine depend on
  their role *and* its default policy, so the policy exists before the first call; the role half
  is already implied by the GetAtt of its ARN. Harmless, and emitted by CDK itself.
"""

import subprocess
import sys
from pathlib import Path

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")


def test_cfn_lint_is_clean(synthesized):
    result = subprocess.run(
        [CFN_LINT, str(synthesized.template_path), "--format", "parseable", "--ignore-checks", "W3005"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_reports_a_broken_template(synthesized, tmp_path):
    import json

    broken = json.loads(json.dumps(synthesized.template))
    bucket = next(key for key, value in broken["Resources"].items() if value["Type"] == "AWS::S3::Bucket")
    broken["Resources"][bucket]["Properties"]["VersioningConfiguration"] = {"Status": "Sometimes"}
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken))
    result = subprocess.run([CFN_LINT, str(path)], capture_output=True, text=True)
    assert result.returncode != 0 and "Sometimes" in result.stdout
