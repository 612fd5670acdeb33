"""The processing jobs' code: the asset CDK uploads holds the `training` package at its root, so
`PYTHONPATH=<the zip>` makes `python -m training.<module>` work inside the container, with no Docker build."""

import json
import subprocess
import sys
import zipfile

import pytest


def training_asset_dir(synthesized):
    assets = json.loads((synthesized.outdir / f"{synthesized.stack_name}.assets.json").read_text())["files"]
    (entry,) = [a for a in assets.values() if a.get("displayName", "").endswith("TrainingCode")]
    return synthesized.outdir / entry["source"]["path"]


def test_asset_holds_only_the_training_package(synthesized):
    staged = training_asset_dir(synthesized)
    assert sorted(p.name for p in staged.iterdir()) == ["training"]
    assert not list(staged.rglob("__pycache__"))


@pytest.mark.parametrize("module", ["training.prepare", "training.report", "training.compare"])
def test_modules_run_from_the_zipped_asset(synthesized, tmp_path, module):
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in training_asset_dir(synthesized).rglob("*"):
            zipped.write(path, path.relative_to(training_asset_dir(synthesized)))
    result = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True,
                            env={"PYTHONPATH": str(archive), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--output" in result.stdout


def test_no_job_installs_anything_at_run_time():
    from stacks.pipeline import COMPARE_ENTRYPOINT, REPORT_ENTRYPOINT

    for entrypoint in (COMPARE_ENTRYPOINT, REPORT_ENTRYPOINT):
        assert entrypoint[:2] == ["python3", "-m"] and not any("pip" in part for part in entrypoint)


def test_the_report_page_script_and_styles_load_from_the_zipped_asset(synthesized, tmp_path):
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in training_asset_dir(synthesized).rglob("*"):
            zipped.write(path, path.relative_to(training_asset_dir(synthesized)))
    program = "from training.reporting import render; print(len(render._asset('report.js')), len(render._asset('report.css')))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            env={"PYTHONPATH": str(archive), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert all(int(size) > 1000 for size in result.stdout.split())
