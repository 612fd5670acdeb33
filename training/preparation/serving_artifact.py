"""The dataset's serving artifact: what the endpoint's preprocessing container needs to turn raw
text into exactly the rows this dataset holds (docs/design.md, section 10). Written with the dataset,
so a run given an existing dataset deploys that dataset's vocabulary, never another's.

`serving/model.tar.gz`, the scikit-learn serving container's ModelDataUrl (extracted to /opt/ml/model):

    vocab.txt                  the dataset's vocabulary, line i = feature i (as auxiliary/vocab.txt)
    settings.json              the text settings the preparation used (text_terms.TextSettings.to_json)
    code/ntm_text_serving.py   SAGEMAKER_PROGRAM (training/serving/container_entry.py)
    code/training/...          the packages it imports (SAGEMAKER_SUBMIT_DIRECTORY = /opt/ml/model/code)

The code is the code that prepared the dataset, read from wherever it was imported (a folder, or
the zip file the processing job imports it from).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import training
from training.preparation.corpus_readers import Fields, InputFile, read_batches

ARTIFACT = "serving/model.tar.gz"
# A few kept documents' raw text and transform row: after a deploy, the run asks the endpoint about
# them and compares its answers with the batch transform's.
SMOKE_TEST = "serving/smoke-test.jsonl"
SMOKE_TEST_DOCUMENTS = 5
VOCABULARY_FILE = "vocab.txt"
SETTINGS_FILE = "settings.json"
CODE_FOLDER = "code"
PROGRAM = "ntm_text_serving.py"
SUBMIT_DIRECTORY = f"/opt/ml/model/{CODE_FOLDER}"
# The sub-packages the preprocessing imports (training.serving and what lies below it).
PACKED = ("serving", "preparation", "formats", "common")
_ENTRY = "training/serving/container_entry.py"


def _wanted(relative: str) -> bool:
    parts = relative.split("/")
    if not relative.endswith(".py") or parts[0] != "training":
        return False
    return relative == "training/__init__.py" or parts[1] in PACKED


def training_sources() -> dict[str, bytes]:
    """The packed modules' source files by path ("training/serving/handler.py": bytes)."""
    root = Path(training.__file__).parent
    if root.is_dir():
        files = {path.relative_to(root.parent).as_posix(): path for path in root.rglob("*.py")}
        return {name: path.read_bytes() for name, path in sorted(files.items()) if _wanted(name)}
    loader = training.__spec__.loader  # a zipimporter: the package lives in a zip file
    with zipfile.ZipFile(loader.archive) as archive:
        base = loader.prefix  # where the sys.path entry starts inside the zip
        return {name[len(base):]: archive.read(name) for name in sorted(archive.namelist())
                if name.startswith(base) and _wanted(name[len(base):])}


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    archive.addfile(info, io.BytesIO(data))


def write_serving_artifact(output: Path, vocabulary_file: Path, settings: dict) -> str:
    """Write serving/model.tar.gz under the dataset folder; returns its path relative to it."""
    sources = training_sources()
    target = output / ARTIFACT
    target.parent.mkdir(parents=True, exist_ok=True)
    # gzip without a time stamp or name: the same dataset gives the same bytes.
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed, \
            tarfile.open(fileobj=compressed, mode="w") as archive:
        _add(archive, VOCABULARY_FILE, vocabulary_file.read_bytes())
        _add(archive, SETTINGS_FILE, json.dumps(settings, indent=2).encode("utf-8"))
        _add(archive, f"{CODE_FOLDER}/{PROGRAM}", sources[_ENTRY])
        for name, data in sources.items():
            _add(archive, f"{CODE_FOLDER}/{name}", data)
    return ARTIFACT


def write_smoke_test(output: Path, files: list[InputFile], fields: Fields, kept: list[int]) -> str:
    """serving/smoke-test.jsonl: `{"row", "id", "text"}` for the first kept documents (`kept`: their
    read positions, ascending; row = their line in documents.jsonl and the transform output)."""
    wanted = {position: row for row, position in enumerate(kept[:SMOKE_TEST_DOCUMENTS])}
    found, position = {}, 0
    for batch in read_batches(files, fields):
        documents, _ = batch.documents(fields)
        for document in documents:
            if position in wanted:
                found[wanted[position]] = {"row": wanted[position], "id": document.id, "text": document.text}
            position += 1
        if len(found) == len(wanted):
            break
    target = output / SMOKE_TEST
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(found[row], ensure_ascii=False) + "\n" for row in sorted(found)), encoding="utf-8")
    return SMOKE_TEST
