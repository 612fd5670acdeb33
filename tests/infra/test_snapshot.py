"""The whole template, compared with the committed snapshot.

Asset hashes are replaced by a placeholder: they change with any edit of the Lambda or training
code, and with the machine's file metadata, while the template's meaning does not.
Update after an intended change with `make update-snapshots`, and review the diff.
"""

import json
import os
import re
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "snapshots"
_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def normalized(template: dict) -> str:
    return _ASSET_HASH.sub("<asset-hash>", json.dumps(template, indent=1, sort_keys=True)) + "\n"


def test_template_matches_snapshot(synthesized):
    path = SNAPSHOTS / f"{synthesized.stack_name}.template.json"
    current = normalized(synthesized.template)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(current)
    assert path.exists(), f"no snapshot yet: run `make update-snapshots` and commit {path}"
    assert current == path.read_text(), "the template changed: review it, then `make update-snapshots`"


def test_normalization_hides_only_asset_hashes():
    template = {"Code": {"S3Key": "a" * 64 + ".zip"}, "Name": "ntm-train"}
    assert json.loads(normalized(template)) == {"Code": {"S3Key": "<asset-hash>.zip"}, "Name": "ntm-train"}
