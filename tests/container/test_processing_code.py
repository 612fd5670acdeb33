"""The processing jobs' code, run on the processing image's Python and pins (tests/container/images.json),
gives what it gives on the development Python.

Each command runs as the job runs it: `python -m training.<entrypoint>` in a subprocess, with only
the `training` package on its path (as the zipped code asset is), package installs impossible and no
matplotlib (no scikit-learn image has it). The same command on the development Python is the
reference, run the same way (matplotlib hidden from it too): every output file must be equal byte
for byte, but for the paths of the run's own folders; a JSON number may differ in its last bits
(numpy 1.24 and 2.x round some sums differently, 1e-16 apart), nothing else may.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tarfile
import re
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.container.environments import REPO, container_python, locked, processing_targets, sealed_environment
from tests.unit.evaluation import test_compare as compare_fixtures
from tests.unit.reporting import test_report as report_fixtures

SAMPLE = REPO / "samples" / "sample-news.jsonl"
TARGETS = [pytest.param(target, id=f"py{target.python}-{target.requirement_set}") for target in processing_targets()]


class Job:
    """One interpreter running the entrypoints like a processing job: code from a copy of training/."""

    def __init__(self, python: Path, root: Path) -> None:
        self.python, self.root = python, root
        shutil.copytree(REPO / "training", root / "code" / "training", ignore=shutil.ignore_patterns("__pycache__"))
        # No scikit-learn image has matplotlib; the development Python has, so it is hidden there,
        # failing the import as a missing module does.
        absent = root / "absent" / "matplotlib"
        absent.mkdir(parents=True)
        (absent / "__init__.py").write_text('raise ModuleNotFoundError("No module named \'matplotlib\'", name="matplotlib")\n')

    def run(self, module: str, *arguments: str, exit_code: int = 0) -> subprocess.CompletedProcess:
        completed = subprocess.run([str(self.python), "-m", module, *arguments], cwd=self.root, capture_output=True,
                                   text=True, timeout=300, env=sealed_environment({
                                       "PATH": f"{self.python.parent}:/usr/bin:/bin", "HOME": str(self.root),
                                       "PYTHONPATH": f"{self.root / 'code'}:{self.root / 'absent'}", "PYTHONDONTWRITEBYTECODE": "1"}))
        assert completed.returncode == exit_code, f"{module} on {self.python}:\n{completed.stderr[-3000:]}"
        return completed


def inputs(root: Path) -> Path:
    """Everything the jobs read: the sample corpus, also in two shards, in three other formats and
    broken; fabricated candidates; a fabricated run to report on."""
    shards = root / "shards"
    shards.mkdir(parents=True)
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    (shards / "a.jsonl").write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    (shards / "b.jsonl").write_text("".join(lines[len(lines) // 2:]), encoding="utf-8")
    # The same documents as CSV (gzipped), plain-text files in label folders and gzipped JSON Lines.
    documents = [json.loads(line) for line in lines]
    mixed = root / "mixed"
    (mixed / "texts").mkdir(parents=True)
    table = io.StringIO()
    csv.writer(table).writerows([("id", "label", "text")] + [(d["id"], d["label"], d["text"]) for d in documents[:100]])
    (mixed / "news.csv.gz").write_bytes(gzip.compress(table.getvalue().encode()))
    for document in documents[100:160]:
        (mixed / "texts" / document["label"]).mkdir(exist_ok=True)
        (mixed / "texts" / document["label"] / f"{document['id']}.txt").write_text(document["text"], encoding="utf-8")
    (mixed / "rest.jsonl.gz").write_bytes(gzip.compress("".join(lines[160:]).encode()))
    # Bad JSON in the second of eight 1,000-document batches: the failure reaches the reader while
    # later batches are still queued for the worker processes, which must be dropped.
    broken = [json.dumps(documents[n % len(documents)]) + "\n" for n in range(8000)]
    broken[1500] = "{not json\n"
    (root / "broken.jsonl").write_text("".join(broken), encoding="utf-8")
    sweep = root / "sweep"
    compare_fixtures.write_dataset(sweep)
    compare_fixtures.write_models(sweep, compare_fixtures.known_decoders())
    (sweep / "candidates.json").write_text(json.dumps(compare_fixtures.candidate_list()), encoding="utf-8")
    (root / "run").mkdir()
    report_fixtures.make_run(root / "run")
    return root


def run_all_jobs(job: Job, given: Path) -> Path:
    out = job.root / "out"
    job.run("training.prepare", "--input", str(SAMPLE), "--output", str(out / "dataset"), "--workers", "2",
            "--train-shards", "2", "--strip-headers")
    failed = job.run("training.prepare", "--input", str(given / "broken.jsonl"), "--output", str(out / "broken"),
                     "--workers", "2", exit_code=1)
    (out / "broken-stderr.txt").write_text(failed.stderr.replace(str(given), "<given>"))
    (out / "counts").mkdir(parents=True)
    for shard in ("a", "b"):
        job.run("training.term_counts", "count", "--input", str(given / "shards" / f"{shard}.jsonl"),
                "--workers", "2", "--strip-headers", "--output", str(out / "counts" / f"{shard}.tsv"))
    job.run("training.term_counts", "vocabulary", "--counts", str(out / "counts" / "a.tsv"),
            str(out / "counts" / "b.tsv"), "--output", str(out / "counts" / "vocab.txt"))
    job.run("training.prepare", "--input", str(given / "mixed"), "--output", str(out / "mixed"), "--workers", "2",
            "--vocabulary", str(out / "counts" / "vocab.txt"), "--train-shards", "3", "--min-tokens", "3")
    sweep = given / "sweep"
    job.run("training.compare", "--models", str(sweep / "models"), "--candidates", str(sweep / "candidates.json"),
            "--dataset", str(sweep / "dataset"), "--output", str(out / "comparison"), "--top-words", "10")
    run = given / "run"
    job.run("training.report", "--model", str(run / "model.tar.gz"), "--dataset", str(run / "dataset"),
            "--transform-output", str(run / "transform"), "--output", str(out / "report"), "--top-words", "5",
            "--comparison", str(out / "comparison" / "comparison.json"))
    return out


FLOAT_TOLERANCE = 1e-14  # relative: the last few bits of a double, far below any rounding we print


def comparable(path: Path, out: Path):
    content = path.read_bytes().replace(str(out).encode(), b"<out>")
    if path.name == "report.html":
        return comparable_page(content)
    if path.name.endswith(".tar.gz"):  # zlib versions compress differently: compare the members
        with tarfile.open(path) as archive:
            return [(m.name, archive.extractfile(m).read()) for m in archive.getmembers() if m.isfile()]
    return json.loads(content, parse_float=RoundedFloat) if path.suffix == ".json" else content


REPORT_DATA = re.compile(rb"<script type=application/json id=report-data>(.*?)</script>", re.S)


def comparable_page(content: bytes):
    """report.html: the page around its data byte for byte, the data as JSON, the document map's
    t-SNE coordinates by count only (t-SNE's optimisation differs between scikit-learn versions)."""
    found = REPORT_DATA.search(content)
    data = json.loads(found.group(1), parse_float=RoundedFloat)
    for axis in ("x", "y"):
        data["map"][axis] = len(data["map"][axis])
    return content[:found.start(1)] + content[found.end(1):], data


class RoundedFloat(float):
    """A JSON float that equals another within FLOAT_TOLERANCE (only floats: ints and strings stay exact)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, float) and math.isclose(self, other, rel_tol=FLOAT_TOLERANCE, abs_tol=1e-300)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = float.__hash__


@pytest.fixture(scope="module")
def shared(tmp_path_factory, worker_id) -> Path:
    """Inputs and the development reference, made once per test session: under pytest-xdist the
    first worker makes them in the session's folder, the other waits for it and reads them."""
    session = tmp_path_factory.getbasetemp()
    root = (session.parent if worker_id != "master" else session) / "container-tier"
    with locked(root.with_suffix(".lock")):
        if not (root / "done").is_file():
            shutil.rmtree(root, ignore_errors=True)
            inputs(root / "inputs")
            run_all_jobs(Job(Path(sys.executable), root / "development"), root / "inputs")
            (root / "done").touch()
    return root


@pytest.fixture(scope="module")
def given(shared) -> Path:
    return shared / "inputs"


@pytest.fixture(scope="module")
def development(shared) -> Path:
    return shared / "development" / "out"


@pytest.mark.parametrize("target", TARGETS)
def test_the_jobs_give_on_the_image_python_what_they_give_on_the_development_python(target, given, development, tmp_path):
    job = Job(container_python(target.python, target.requirement_set), tmp_path)
    out = run_all_jobs(job, given)

    produced = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert produced == sorted(p.relative_to(development) for p in development.rglob("*") if p.is_file())
    for relative in produced:
        assert comparable(out / relative, out) == comparable(development / relative, development), relative
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert "matplotlib" in summary["plots_skipped"]
    assert {"dataset/manifest.json", "counts/vocab.txt", "comparison/chosen.json", "report/topics.json"} <= {
        str(p) for p in produced}


def test_the_merged_vocabulary_of_two_shards_is_the_one_prepare_chose(development):
    assert (development / "counts" / "vocab.txt").read_text() == (development / "dataset" / "auxiliary" / "vocab.txt").read_text()


def test_every_training_module_imports_on_the_image_python(tmp_path):
    """Modules no job above reaches still must not fail at import (3.9+ syntax, newer library APIs)."""
    modules = sorted(".".join(p.relative_to(REPO).with_suffix("").parts) for p in (REPO / "training").rglob("*.py"))
    modules = [name.removesuffix(".__init__") for name in modules]
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    for target in processing_targets():
        python = container_python(target.python, target.requirement_set)
        completed = subprocess.run([str(python), "-c", script, *modules], cwd=tmp_path, capture_output=True,
                                   text=True, timeout=120, env={**sealed_environment(), "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1",
                                                                "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        assert completed.returncode == 0, f"{python}: {completed.stderr[-2000:]}"
