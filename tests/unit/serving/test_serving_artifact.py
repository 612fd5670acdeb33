"""The serving artifact packs the code that prepared the dataset, whether that code was imported
from a folder (a clone) or from a zip file (the processing job's code asset)."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from training.preparation import serving_artifact

REPO = Path(__file__).resolve().parents[3]


def test_from_a_folder_the_packed_sources_are_the_repository_files():
    sources = serving_artifact.training_sources()
    assert "training/serving/handler.py" in sources and "training/__init__.py" in sources
    assert not any(name.startswith(("training/reporting/", "training/evaluation/")) for name in sources)
    assert not any(name.startswith("training/") and name.count("/") == 1 and name != "training/__init__.py" for name in sources)
    for name, data in sources.items():
        assert data == (REPO / name).read_bytes(), name


def test_from_a_zip_file_the_same_sources_are_packed(tmp_path):
    code = tmp_path / "code.zip"
    with zipfile.ZipFile(code, "w") as archive:
        for path in sorted((REPO / "training").rglob("*.py")):
            archive.write(path, path.relative_to(REPO).as_posix())
    script = ("import json, sys; from training.preparation import serving_artifact as a; import training; "
              "print(json.dumps({'file': training.__file__, 'names': sorted(a.training_sources())}))")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                               env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    answer = json.loads(completed.stdout)
    assert answer["file"].startswith(str(code))
    assert answer["names"] == sorted(serving_artifact.training_sources())


def test_the_artifact_holds_vocabulary_settings_program_and_code(tmp_path):
    vocabulary = tmp_path / "vocab.txt"
    vocabulary.write_text("alpha\nbeta\n", encoding="utf-8")
    relative = serving_artifact.write_serving_artifact(tmp_path, vocabulary, {"version": 1, "strip_headers": True})
    with tarfile.open(tmp_path / relative) as archive:
        names = archive.getnames()
        read = lambda name: archive.extractfile(name).read()  # noqa: E731
        assert read("vocab.txt") == b"alpha\nbeta\n"
        assert json.loads(read("settings.json")) == {"version": 1, "strip_headers": True}
        assert read("code/ntm_text_serving.py") == (REPO / "training/serving/container_entry.py").read_bytes()
    assert "code/training/serving/handler.py" in names and names[:2] == ["vocab.txt", "settings.json"]
