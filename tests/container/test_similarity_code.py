"""The similarity stage's two jobs (`python -m training.similar index|neighbours`) on the processing
image's Python and pins write byte for byte what they write on the development Python."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.container.environments import container_python
from tests.container.test_processing_code import TARGETS, Job


def similarity_inputs(root: Path) -> Path:
    """Topic weights of 40 documents in two transform files, their documents, and k-NN's verbose answers."""
    rng = np.random.default_rng(5)
    weights = np.round(rng.dirichlet(np.ones(6), size=40), 6)
    (root / "weights").mkdir(parents=True)
    for part, rows in enumerate((weights[:25], weights[25:])):
        (root / "weights" / f"part-0000{part}.pbr.out").write_text(
            "".join(json.dumps({"topic_weights": row.tolist()}) + "\n" for row in rows))
    (root / "documents.jsonl").write_text("".join(json.dumps({"id": f"doc-{n}", "title": f"Title {n}"}) + "\n"
                                                  for n in range(40)))
    (root / "predictions").mkdir()
    answers = [{"predicted_label": float(n), "labels": [float(n), float((n + 1) % 40), float((n + 2) % 40)],
                "distances": [0.0, 0.01 * n, 0.02 * n]} for n in range(40)]
    (root / "predictions" / "part-00000.csv.out").write_text(
        "".join(json.dumps({"predictions": answers[start:start + 16]}) + "\n" for start in range(0, 40, 16)))
    return root


def outputs(job: Job, inputs: Path) -> dict[str, bytes]:
    job.run("training.similar", "index", "--topic-weights", str(inputs / "weights"), "--output", str(job.root / "index"))
    job.run("training.similar", "neighbours", "--predictions", str(inputs / "predictions"), "--documents",
            str(inputs / "documents.jsonl"), "--k", "2", "--output", str(job.root / "similar"))
    return {str(path.relative_to(job.root)): path.read_bytes()
            for folder in ("index", "similar") for path in sorted((job.root / folder).rglob("*")) if path.is_file()}


@pytest.mark.parametrize("target", TARGETS)
def test_the_similarity_jobs_write_what_they_write_on_the_development_python(target, tmp_path):
    inputs = similarity_inputs(tmp_path / "inputs")
    reference = outputs(Job(Path(sys.executable), tmp_path / "development"), inputs)
    container = outputs(Job(container_python(target.python, target.requirement_set), tmp_path / "container"), inputs)
    assert sorted(reference) == ["index/index.json", "index/query/part-00000.csv", "index/train/part-00000.pbr",
                                 "similar/neighbours.jsonl"]
    assert container == reference
