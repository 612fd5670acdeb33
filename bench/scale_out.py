"""Benchmark preparation on several processing instances (training.scale_out) against one instance.

    .venv/bin/python bench/scale_out.py [CORPUS] [--instances 4] [--files 16] [--repetitions 3]

CORPUS defaults to ../shared/data/20newsgroups.jsonl.gz. It is cut into --files JSON Lines files (what
a user uploads as a folder), dealt to --instances shares by key as ShardedByS3Key would. On this one
machine the instances run one after the other, each as its own process, as a container would; a
step's time on SageMaker is that of its slowest instance, so the 4-instance time here is
max(count) + max(encode) + assemble, job start-up excluded (see docs/corpus-preparation.md).
Every time is CPU seconds of the process tree (user + system, one tokenizing worker): the machine is
shared, so its wall clock measures waiting for a CPU; CPU time is the work (an instance with one
CPU per worker takes about that long on the wall clock).

Printed, medians of the repetitions:
- anchor: `python -m training.prepare` on the whole corpus (one instance); its documents/s and
  MB/s of raw text (the UTF-8 bytes of the text field);
- ours: each step of the N-instance path, per instance; the vocabulary merge inside encode; the
  assembly; the overhead of merge + assembly on the N-instance wall time (goal < 10%); the ratio;
- the merge's cost as the vocabulary grows: count files of V distinct terms from each of N
  instances, read and summed and the vocabulary chosen (training.preparation.scale_out.merged_vocabulary).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
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
from training.preparation import scale_out  # noqa: E402
from training.preparation.term_counts import write_counts  # noqa: E402
from training.preparation.vocabulary import TermTable  # noqa: E402

DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "data" / "20newsgroups.jsonl.gz"
PYTHON = sys.executable


def _timed(command: list) -> float:
    """CPU seconds (user + system) of the command's process tree. Seven people share this 2-CPU
    machine: wall time here measures the queue for a CPU, CPU time the work an instance would do."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True, cwd=REPOSITORY, env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cut_corpus(corpus: Path, files: int, folder: Path, text_field: str) -> tuple[int, int]:
    """The corpus as `files` JSON Lines files of consecutive lines; returns documents and text bytes."""
    with gzip.open(corpus, "rt", encoding="utf-8") if corpus.suffix == ".gz" else open(corpus, encoding="utf-8") as stream:
        lines = [line for line in stream if line.strip()]
    folder.mkdir(parents=True)
    size = -(-len(lines) // files)
    for number in range(files):
        (folder / f"part-{number:04d}.jsonl").write_text("".join(lines[number * size:(number + 1) * size]), encoding="utf-8")
    text_bytes = sum(len((json.loads(line).get(text_field) or "").encode("utf-8")) for line in lines)
    return len(lines), text_bytes


def deal(folder: Path, instances: int, work: Path) -> list[Path]:
    """Each instance's share of the files, as ShardedByS3Key hands out whole objects."""
    files = sorted(folder.iterdir())
    shares = []
    for index in range(instances):
        share = work / f"input-{index}"
        share.mkdir(parents=True)
        for file in files[index::instances]:
            os.link(file, share / file.name)
        shares.append(share)
    return shares


def host_file(work: Path, index: int, instances: int) -> Path:
    path = work / f"resourceconfig-{index}.json"
    path.write_text(json.dumps({"current_host": f"algo-{index + 1}", "hosts": [f"algo-{n + 1}" for n in range(instances)]}))
    return path


def run_scaled(shares: list[Path], work: Path, options: list[str]) -> dict:
    module = [PYTHON, "-m", "training.scale_out"]
    hosts = [host_file(work, index, len(shares)) for index in range(len(shares))]
    count = [_timed([*module, "count", "--input", str(share), "--output", str(work / "counts"),
                     "--resource-config", str(host), *options]) for share, host in zip(shares, hosts)]
    encode = [_timed([*module, "encode", "--input", str(share), "--counts", str(work / "counts"), "--output", str(work / "dataset"),
                      "--shard-output", str(work / "shards"), "--resource-config", str(host), *options])
              for share, host in zip(shares, hosts)]
    merge = []
    arguments = scale_out.parse_arguments(["encode", "--input", str(shares[0]), "--counts", str(work / "counts"), "--output", "-",
                                           "--shard-output", "-", *options])
    for _ in range(3):
        started = time.process_time()
        scale_out.merged_vocabulary(arguments, work / "counts", len(shares))
        merge.append(time.process_time() - started)
    assemble = _timed([*module, "assemble", "--shards", str(work / "shards"), "--output", str(work / "dataset"), "--min-train-shards", "2"])
    return {"count": count, "encode": encode, "merge": statistics.median(merge), "assemble": assemble}


def merge_cost(terms: int, instances: int, folder: Path) -> tuple[float, int]:
    """Seconds to merge `instances` count files of `terms` distinct terms each (half shared by all)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(instances):
        table = TermTable()
        names = [f"w{n}" for n in range(terms // 2)] + [f"x{index}n{n}" for n in range(terms - terms // 2)]
        frequency = rng.integers(1, 1000, terms)
        table.add_counts(names, frequency, np.minimum(frequency, rng.integers(1, 500, terms)), 2_500_000)
        write_counts(folder / f"part-{index:05d}.tsv", table)
    # The encode step's own options with their defaults (the text options included).
    arguments = scale_out.parse_arguments(["encode", "--input", str(folder), "--output", str(folder / "dataset"),
                                           "--counts", str(folder), "--shard-output", str(folder / "shard")])
    started = time.process_time()
    scale_out.merged_vocabulary(arguments, folder, instances)
    return time.process_time() - started, sum(path.stat().st_size for path in folder.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--label-field", default="group")
    parser.add_argument("--merge-terms", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    arguments = parser.parse_args()
    # Reading options only: count takes them all, and encode and the anchor the same.
    options = ["--label-field", arguments.label_field, "--workers", "1", "--strip-headers"]
    print(f"CPUs usable: {len(os.sched_getaffinity(0))}; load average before: {os.getloadavg()[0]:.1f}; "
          f"--workers 1 everywhere (one CPU per process; an instance with more CPUs uses more workers)")
    single, scaled = [], []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        documents, text_bytes = cut_corpus(Path(arguments.corpus), arguments.files, root / "corpus", "text")
        for repetition in range(arguments.repetitions):
            work = root / f"run-{repetition}"
            single.append(_timed([PYTHON, "-m", "training.prepare", "--input", str(root / "corpus"),
                                  "--output", str(work / "single"), *options]))
            scaled.append(run_scaled(deal(root / "corpus", arguments.instances, work), work, options))
            print(f"  repetition {repetition + 1}, CPU seconds: single {single[-1]:.2f}; count {[round(t, 2) for t in scaled[-1]['count']]}, "
                  f"encode {[round(t, 2) for t in scaled[-1]['encode']]}, assemble {scaled[-1]['assemble']:.2f}", flush=True)
        costs = [(terms, *merge_cost(terms, arguments.instances, root / f"merge-{terms}")) for terms in arguments.merge_terms]
        startup = statistics.median(_timed([PYTHON, "-m", "training.scale_out", "--help"]) for _ in range(3))
    one = statistics.median(single)
    n = arguments.instances
    count_max = statistics.median(max(run["count"]) for run in scaled)
    encode_max = statistics.median(max(run["encode"]) for run in scaled)
    per_instance = statistics.median(sum(run["count"]) + sum(run["encode"]) for run in scaled)  # instance-seconds, all shares
    merge = statistics.median(run["merge"] for run in scaled)
    assemble = statistics.median(run["assemble"] for run in scaled)
    wall = count_max + encode_max + assemble
    overhead = merge + assemble
    megabytes = text_bytes / 1e6
    print(f"\ncorpus: {documents:,} documents, {megabytes:.1f} MB of raw text, {arguments.files} files, {n} instances; "
          f"medians of {arguments.repetitions}; CPU seconds; load average after: {os.getloadavg()[0]:.1f}\n")
    print("| measure | value |\n|---|---|")
    print(f"| anchor: one instance, training.prepare | {one:.2f} s = {documents / one:,.0f} documents/s, {megabytes / one:.2f} MB/s |")
    print(f"| ours, per instance (count + encode, all shares' instance-seconds) | {per_instance:.2f} s = "
          f"{documents / per_instance:,.0f} documents/s, {megabytes / per_instance:.2f} MB/s |")
    print(f"| ours, slowest instance: count / encode | {count_max:.2f} s / {encode_max:.2f} s |")
    print(f"| vocabulary merge (inside encode, every instance) | {merge * 1000:.0f} ms |")
    print(f"| a process's start-up (Python + numpy + scipy imports), in every step | {startup:.2f} s |")
    print(f"| assembly (one instance) | {assemble:.2f} s |")
    print(f"| {n}-instance wall time (max count + max encode + assembly) | {wall:.2f} s |")
    print(f"| merge + assembly, share of the {n}-instance wall time | {overhead / wall:.1%} (goal < 10%) |")
    print(f"| speed-up over one instance (anchor / ours, job start-up excluded) | {one / wall:.2f}x |")
    print("\nmerge cost as the vocabulary grows (count files from each instance, half the terms shared):\n")
    print(f"| distinct terms per count file | {n} files, MB | merge seconds |\n|---|---|---|")
    for terms, seconds, size in costs:
        print(f"| {terms:,} | {size / 1e6:.1f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
