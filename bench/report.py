"""Benchmark the report job against the previous report implementation, on 20 Newsgroups.

    .venv/bin/python bench/report.py [CORPUS] [--num-topics 20] [--repetitions 5] [--anchor COMMIT] [--run FOLDER]

CORPUS defaults to ../shared/data/20newsgroups.jsonl.gz. Once per call (or once for all calls
with --run FOLDER, which keeps the run there and reuses it):
`python -m training.prepare --label-field group --strip-headers` prepares it, a stand-in for
NTM fits the topics (scikit-learn NMF on the train split, as the offline harness does) and the
transform output is the decoder's word affinities per document (also as the harness does). Then,
one after the other in each repetition, each in its own process:
- anchor: `python -m training.report` of the previous implementation (commit --anchor, static
  page with matplotlib PNGs), from a `git archive` of its training/ folder;
- ours: `python -m training.report` of this work tree, where matplotlib is importable (as
  locally: it then also draws the PNGs, as the anchor does);
- ours as in the job: the same with matplotlib made unimportable, as in the scikit-learn image.
Printed: median wall time and median CPU time (user + system of the child process: on a busy
shared machine the wall time mostly measures the others' load), ratios to the anchor, and each
report.html's size.
"""

from __future__ import annotations

import argparse
import json
import resource
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


# `python -m training.report` with `import matplotlib` failing, as in the SageMaker scikit-learn image.
WITHOUT_MATPLOTLIB = "import sys; sys.modules['matplotlib'] = None; from training.reporting.report import main; sys.exit(main())"


def timed_report(code: Path, run: dict[str, Path], output: Path, matplotlib: bool = True) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one report job in its own process."""
    launcher = ["-m", "training.report"] if matplotlib else ["-c", WITHOUT_MATPLOTLIB]
    command = [sys.executable, *launcher, "--model", str(run["model"]), "--dataset", str(run["dataset"]),
               "--transform-output", str(run["transform"]), "--output", str(output)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=code, check=True, capture_output=True, env={"PYTHONPATH": str(code), "MPLBACKEND": "Agg",
                                                                           "PATH": "/usr/bin:/bin"})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


SIDES = {
    "anchor": "anchor: previous static page (matplotlib PNGs)",
    "ours": "ours: interactive page (+ PNGs, matplotlib here)",
    "ours-job": "ours as in the job (no matplotlib)",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, nargs="?", default=DEFAULT_CORPUS)
    parser.add_argument("--num-topics", type=int, default=20)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--anchor", default=DEFAULT_ANCHOR, help=f"commit of the previous report (default {DEFAULT_ANCHOR})")
    parser.add_argument("--run", type=Path, help="folder to keep the prepared run in and reuse (default: a scratch folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        folder = Path(scratch)
        if args.run is not None and (args.run / "model.tar.gz").is_file():
            run = {"model": args.run / "model.tar.gz", "dataset": args.run / "dataset", "transform": args.run / "transform"}
        else:
            if args.run is not None:
                args.run.mkdir(parents=True, exist_ok=True)
            run = prepare_run(args.corpus, args.run or folder, args.num_topics)
        documents = sum(1 for _ in open(run["dataset"] / "documents.jsonl", encoding="utf-8"))
        anchor = export_anchor(args.anchor, folder / "anchor")
        code = {"anchor": anchor, "ours": REPOSITORY, "ours-job": REPOSITORY}
        times: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
        for repetition in range(args.repetitions):
            for side in SIDES:
                times[side].append(timed_report(code[side], run, folder / f"out-{side}", matplotlib=side != "ours-job"))
            print(f"repetition {repetition + 1}: "
                  + ", ".join(f"{side} {t[-1][0]:.1f} s (CPU {t[-1][1]:.1f} s)" for side, t in times.items()), flush=True)
        sizes = {side: (folder / f"out-{side}" / "report.html").stat().st_size for side in SIDES}
        wall = {side: statistics.median(t[0] for t in values) for side, values in times.items()}
        cpu = {side: statistics.median(t[1] for t in values) for side, values in times.items()}
        print(f"\n20 Newsgroups: {documents:,} documents, {args.num_topics} topics, anchor {args.anchor}, "
              f"medians of {args.repetitions} runs")
        print("| report job | wall time | CPU time | report.html |")
        print("|---|---|---|---|")
        for side, title in SIDES.items():
            print(f"| {title} | {wall[side]:.1f} s | {cpu[side]:.1f} s | {sizes[side] / 1e6:.2f} MB |")
        for side in ("ours", "ours-job"):
            print(f"ratio {side} / anchor: wall {wall[side] / wall['anchor']:.2f}, CPU {cpu[side] / cpu['anchor']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
