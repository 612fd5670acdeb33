"""Benchmark the report job against the previous report implementation, on 20 Newsgroups.

    .venv/bin/python bench/report.py [CORPUS] [--num-topics 20] [--repetitions 5] [--anchor COMMIT]

CORPUS defaults to ../shared/data/20newsgroups.jsonl.gz. Once per call, in a scratch folder:
`python -m training.prepare --label-field group --strip-headers` prepares it, a stand-in for
NTM fits the topics (scikit-learn NMF on the train split, as the offline harness does) and the
transform output is the decoder's word affinities per document (also as the harness does). Then,
one after the other in each repetition, each in its own process:
- anchor: `python -m training.report` of the previous implementation (commit --anchor, static
  page with matplotlib PNGs), from a `git archive` of its training/ folder;
- ours: `python -m training.report` of this work tree.
Printed: median wall time, the ratio ours / anchor, and each report.html's size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
from training.formats import ntm_artifact, recordio  # noqa: E402

DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "data" / "20newsgroups.jsonl.gz"
# The last commit whose report was the static matplotlib page.
DEFAULT_ANCHOR = "6e3c939"


def prepare_run(corpus: Path, folder: Path, num_topics: int) -> dict[str, Path]:
    """A prepared dataset, a fitted stand-in model and its transform output under `folder`."""
    from scipy import sparse
    from sklearn.decomposition import NMF

    dataset = folder / "dataset"
    subprocess.run([sys.executable, "-m", "training.prepare", "--input", str(corpus), "--output", str(dataset),
                    "--label-field", "group", "--strip-headers"], check=True, cwd=REPOSITORY)

    def matrix(part: str) -> sparse.csr_matrix:
        return sparse.vstack([recordio.read_sparse(path.open("rb")) for path in sorted((dataset / part).glob("*.pbr"))]).tocsr()

    nmf = NMF(n_components=num_topics, init="nndsvda", max_iter=200, random_state=0).fit(matrix("train"))
    decoder = np.log(nmf.components_.T + 1e-3).astype(np.float32)
    model = folder / "model.tar.gz"
    ntm_artifact.write_model_tarball(model, decoder, instances=1)
    affinity = np.exp(decoder - decoder.max(axis=0))
    affinity /= affinity.sum(axis=0)
    scores = matrix("transform") @ affinity + 1e-9
    weights = scores / scores.sum(axis=1, keepdims=True)
    transform = folder / "transform"
    transform.mkdir()
    with open(transform / "part-00000.pbr.out", "w", encoding="utf-8") as output:
        for row in weights:
            output.write(json.dumps({"topic_weights": [round(float(w), 6) for w in row]}) + "\n")
    return {"model": model, "dataset": dataset, "transform": transform}


def export_anchor(commit: str, folder: Path) -> Path:
    folder.mkdir()
    archive = subprocess.run(["git", "archive", commit, "training"], cwd=REPOSITORY, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def timed_report(code: Path, run: dict[str, Path], output: Path) -> float:
    command = [sys.executable, "-m", "training.report", "--model", str(run["model"]), "--dataset", str(run["dataset"]),
               "--transform-output", str(run["transform"]), "--output", str(output)]
    started = time.perf_counter()
    subprocess.run(command, cwd=code, check=True, capture_output=True, env={"PYTHONPATH": str(code), "MPLBACKEND": "Agg",
                                                                           "PATH": "/usr/bin:/bin"})
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS)
    parser.add_argument("--num-topics", type=int, default=20)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--anchor", default=DEFAULT_ANCHOR, help=f"commit of the previous report (default {DEFAULT_ANCHOR})")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        folder = Path(scratch)
        run = prepare_run(args.corpus, folder, args.num_topics)
        documents = sum(1 for _ in open(run["dataset"] / "documents.jsonl", encoding="utf-8"))
        sides = {"anchor": export_anchor(args.anchor, folder / "anchor"), "ours": REPOSITORY}
        times: dict[str, list[float]] = {side: [] for side in sides}
        for repetition in range(args.repetitions):
            for side, code in sides.items():
                times[side].append(timed_report(code, run, folder / f"out-{side}"))
            print(f"repetition {repetition + 1}: " + ", ".join(f"{side} {t[-1]:.2f} s" for side, t in times.items()),
                  flush=True)
        sizes = {side: (folder / f"out-{side}" / "report.html").stat().st_size for side in sides}
        medians = {side: statistics.median(values) for side, values in times.items()}
        print(f"\n20 Newsgroups: {documents:,} documents, {args.num_topics} topics, median of {args.repetitions} runs")
        print("| report | median wall time | report.html |")
        print("|---|---|---|")
        print(f"| anchor: previous static page ({args.anchor}, matplotlib PNGs) | {medians['anchor']:.2f} s | "
              f"{sizes['anchor'] / 1e6:.2f} MB |")
        print(f"| ours: interactive page | {medians['ours']:.2f} s | {sizes['ours'] / 1e6:.2f} MB |")
        print(f"ratio ours / anchor: {medians['ours'] / medians['anchor']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
