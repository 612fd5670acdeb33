"""Benchmark corpus preparation against the AWS 20 Newsgroups example's way of doing it.

    .venv/bin/python bench/prepare.py [CORPUS] [--label-field group] [--repetitions 3]

CORPUS defaults to ../shared/data/20newsgroups.jsonl.gz (JSON Lines, gzip). Both sides run in
their own process, one after the other in each repetition, and read the same file:
- anchor: the example's recipe: scikit-learn's CountVectorizer(stop_words="english",
  max_features=2000, max_df=0.95, min_df=2) over the texts stripped by scikit-learn's newsgroup
  strippers, documents with 25 words or fewer dropped, shuffle, 80/10/10 split, then the sagemaker
  SDK v2's write_spmatrix_to_sparse_tensor for 8 train files, validation, test and the whole
  corpus (the batch-transform input), and vocab.txt. The example's tokenizer also lemmatized with
  nltk, which is not installed here: the anchor keeps its "starts with a letter" rule through
  token_pattern and skips the lemmatizer, which only makes the anchor faster.
- ours: python -m training.prepare with the same settings (--min-tokens 26 = "more than 25").
Printed: medians of the repetitions, as a Markdown table (docs/corpus-preparation.md holds one).
Peak memory is ru_maxrss from wait4 (the largest single process of the tree) and, sampled every
20 ms from /proc, the peak of the whole tree's resident memory (ours has worker processes).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
from training.formats import recordio  # noqa: E402

DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "data" / "20newsgroups.jsonl.gz"
# The SDK v2 prints a deprecation banner and probes the EC2 metadata address on import.
QUIET_SDK = {"SAGEMAKER_SUPPRESS_V2_WARNING": "1", "AWS_EC2_METADATA_DISABLED": "true"}


# --------------------------------------------------------------------------- the anchor


def run_anchor(corpus: Path, text_field: str, output: Path) -> None:
    """The AWS example's preparation; prints how long its imports and its work took."""
    started = time.perf_counter()
    import gzip

    import scipy.sparse
    from sagemaker.amazon.common import write_spmatrix_to_sparse_tensor
    from sklearn.datasets._twenty_newsgroups import (
        strip_newsgroup_footer,
        strip_newsgroup_header,
        strip_newsgroup_quoting,
    )
    from sklearn.feature_extraction.text import CountVectorizer

    imported = time.perf_counter()
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        texts = [json.loads(line)[text_field] for line in lines if line.strip()]
    texts = [strip_newsgroup_footer(strip_newsgroup_quoting(strip_newsgroup_header(text))) for text in texts]
    vectorizer = CountVectorizer(
        input="content", analyzer="word", stop_words="english", max_features=2000, max_df=0.95, min_df=2,
        token_pattern=r"(?u)\b[^\W\d_]\w+\b",
    )
    vectors = vectorizer.fit_transform(texts)
    vocabulary = vectorizer.get_feature_names_out()
    vectors = vectors[np.array(vectors.sum(axis=1) > 25).reshape(-1)]
    vectors = scipy.sparse.csr_matrix(vectors, dtype=np.float32)
    transform_input = vectors
    vectors = vectors[np.random.default_rng(0).permutation(vectors.shape[0])]
    train_count = int(0.8 * vectors.shape[0])
    validation_count = (vectors.shape[0] - train_count) // 2
    parts = {f"train/part-{part}.pbr": rows for part, rows in enumerate(np.array_split(np.arange(train_count), 8))}
    parts["validation/part-0.pbr"] = np.arange(train_count, train_count + validation_count)
    parts["test/part-0.pbr"] = np.arange(train_count + validation_count, vectors.shape[0])
    for name, rows in parts.items():
        (output / name).parent.mkdir(parents=True, exist_ok=True)
        with open(output / name, "wb") as stream:
            write_spmatrix_to_sparse_tensor(stream, vectors[rows])
    (output / "transform").mkdir()
    with open(output / "transform" / "part-0.pbr", "wb") as stream:
        write_spmatrix_to_sparse_tensor(stream, transform_input)
    (output / "auxiliary").mkdir()
    (output / "auxiliary" / "vocab.txt").write_text("".join(f"{word}\n" for word in vocabulary), encoding="utf-8")
    print(json.dumps({"import_seconds": imported - started, "work_seconds": time.perf_counter() - imported, "kept": vectors.shape[0]}))


# --------------------------------------------------------------------------- measuring


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, from /proc."""
    parents, resident = {}, {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            resident[int(entry)] = int(fields[21]) * page
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(resident.get(pid, 0) for pid in tree)


def measure(command: list, environment: dict) -> dict:
    """Wall time, ru_maxrss and sampled peak tree memory of one run of `command`."""
    started = time.perf_counter()
    # stderr goes to a file: reading two pipes one after the other could deadlock.
    errors = tempfile.TemporaryFile()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env={**os.environ, **environment}, cwd=REPOSITORY)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout = process.stdout.read()
    # wait4, unlike Popen.wait, also returns the child's resource usage.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        errors.seek(0)
        raise SystemExit(f"{' '.join(command)} failed:\n{errors.read().decode()}")
    cpu = usage.ru_utime + usage.ru_stime  # includes the reaped worker processes
    return {"seconds": seconds, "cpu": cpu, "max_rss": usage.ru_maxrss * 1024, "tree_peak": peak[0], "stdout": stdout.decode()}


def _ours_command(inputs: list, output: Path, arguments: argparse.Namespace) -> list:
    return [
        sys.executable, "-m", "training.prepare", "--input", *map(str, inputs), "--output", str(output),
        "--text-field", arguments.text_field, "--label-field", arguments.label_field,
        "--strip-headers", "--min-tokens", "26",
    ]


def _median(runs: list, key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _writer_seconds(matrix, repetitions: int) -> tuple:
    """Median seconds of our writer and the SDK's on `matrix`, after checking they agree."""
    os.environ.update(QUIET_SDK)
    from sagemaker.amazon.common import write_spmatrix_to_sparse_tensor

    timings = {recordio.write_sparse: [], write_spmatrix_to_sparse_tensor: []}
    written = {}
    for _ in range(repetitions):
        for writer, times in timings.items():
            buffer = io.BytesIO()
            started = time.perf_counter()
            writer(buffer, matrix)
            times.append(time.perf_counter() - started)
            written[writer] = buffer.getvalue()
    assert len(set(written.values())) == 1, "the writers disagree"
    ours, sdk = timings.values()
    return statistics.median(ours), statistics.median(sdk)


def _dense_csv_bytes_per_document(matrix, sample: int = 1000) -> float:
    """Bytes per document of the tutorial's dense CSV: the SDK's CSVSerializer on float32 rows."""
    from sagemaker.serializers import CSVSerializer

    rows = np.linspace(0, matrix.shape[0] - 1, min(sample, matrix.shape[0])).astype(int)
    text = CSVSerializer().serialize(matrix[rows].toarray())
    return (len(text.encode("utf-8")) + 1) / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS), help="JSON Lines corpus (default: %(default)s)")
    parser.add_argument("--text-field", default="text")
    parser.add_argument("--label-field", default="label")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--anchor-run", metavar="OUTPUT", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    corpus = Path(arguments.corpus).resolve()
    if arguments.anchor_run:
        run_anchor(corpus, arguments.text_field, Path(arguments.anchor_run))
        return

    load_before = os.getloadavg()[0]
    anchor_runs, our_runs, tenfold_runs = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        for repetition in range(arguments.repetitions):
            anchor_output = Path(scratch, f"anchor-{repetition}")
            anchor_output.mkdir()
            command = [sys.executable, __file__, str(corpus), "--text-field", arguments.text_field, "--anchor-run", str(anchor_output)]
            run = measure(command, QUIET_SDK)
            run.update(json.loads(run["stdout"].splitlines()[-1]))  # the SDK logs to stdout first
            anchor_runs.append(run)
            our_runs.append(measure(_ours_command([corpus], Path(scratch, f"ours-{repetition}"), arguments), {}))
            tenfold_runs.append(measure(_ours_command([corpus] * 10, Path(scratch, f"tenfold-{repetition}"), arguments), {}))
            print(f"repetition {repetition + 1}: anchor {anchor_runs[-1]['seconds']:.2f} s, ours {our_runs[-1]['seconds']:.2f} s, "
                  f"ours x10 {tenfold_runs[-1]['seconds']:.2f} s", file=sys.stderr)
        ours_output = Path(scratch, "ours-0")
        manifest = json.loads((ours_output / "manifest.json").read_text())
        transform = recordio.read_sparse(ours_output / manifest["files"]["transform"][0])
        transform_bytes = sum((ours_output / name).stat().st_size for name in manifest["files"]["transform"])
        writer_ours, writer_sdk = _writer_seconds(transform, max(5, arguments.repetitions))
        dense_csv = _dense_csv_bytes_per_document(transform)
        tenfold_manifest = json.loads((Path(scratch, "tenfold-0") / "manifest.json").read_text())

    documents = manifest["documents"]["read"]
    anchor_seconds, our_seconds = _median(anchor_runs, "seconds"), _median(our_runs, "seconds")
    anchor_work = _median(anchor_runs, "work_seconds")
    mib = 1024 * 1024
    rows = [
        ("documents read / kept (anchor kept)", f"{documents:,} / {manifest['documents']['kept']:,} ({anchor_runs[0]['kept']:,})", ""),
        ("end to end, wall clock", f"anchor {anchor_seconds:.2f} s ({documents / anchor_seconds:,.0f} docs/s)",
         f"ours {our_seconds:.2f} s ({documents / our_seconds:,.0f} docs/s): **{anchor_seconds / our_seconds:.1f}x**"),
        ("anchor without its imports (sklearn + sagemaker)", f"{anchor_work:.2f} s", f"{anchor_work / our_seconds:.1f}x"),
        ("CPU time (user + system, all processes)", f"anchor {_median(anchor_runs, 'cpu'):.2f} s", f"ours {_median(our_runs, 'cpu'):.2f} s: {_median(anchor_runs, 'cpu') / _median(our_runs, 'cpu'):.1f}x"),
        ("peak memory, ru_maxrss (largest process)", f"anchor {_median(anchor_runs, 'max_rss') / mib:.0f} MiB", f"ours {_median(our_runs, 'max_rss') / mib:.0f} MiB"),
        ("peak memory, whole process tree (sampled)", f"anchor {_median(anchor_runs, 'tree_peak') / mib:.0f} MiB", f"ours {_median(our_runs, 'tree_peak') / mib:.0f} MiB"),
        ("writer alone, transform matrix", f"SDK {writer_sdk * 1000:.0f} ms", f"ours {writer_ours * 1000:.1f} ms: **{writer_sdk / writer_ours:.1f}x**"),
        (f"ours on the corpus x10 ({tenfold_manifest['documents']['read']:,} docs)", f"{_median(tenfold_runs, 'seconds'):.2f} s",
         f"ru_maxrss {_median(tenfold_runs, 'max_rss') / mib:.0f} MiB = **{_median(tenfold_runs, 'max_rss') / _median(our_runs, 'max_rss'):.2f}x** of 1x; "
         f"tree {_median(tenfold_runs, 'tree_peak') / mib:.0f} MiB = {_median(tenfold_runs, 'tree_peak') / _median(our_runs, 'tree_peak'):.2f}x"),
        ("batch-transform input per document", f"dense CSV (SDK CSVSerializer) {dense_csv:,.0f} B",
         f"ours {transform_bytes / manifest['documents']['kept']:,.0f} B: **{dense_csv / (transform_bytes / manifest['documents']['kept']):.0f}x smaller**"),
    ]
    print(f"Corpus {corpus.name}, medians of {arguments.repetitions} repetitions, {os.cpu_count()} CPUs, "
          f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after\n")
    print("| measure | anchor / reference | ours |\n|---|---|---|")
    for row in rows:
        print(f"| {' | '.join(row)} |")


if __name__ == "__main__":
    main()
