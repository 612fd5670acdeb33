"""Benchmark asking the endpoint about new documents: the tutorial's way against ntm_client.

    .venv/bin/python bench/serving.py [CORPUS] [--documents 1000] [--repetitions 3]

CORPUS defaults to ../shared/data/20newsgroups.jsonl.gz. The first --documents posts are prepared
(--strip-headers, vocabulary 2000) and served offline (tests/harness: every request validated
against botocore's model and checked against IAM; the preprocessing container's real handler,
then the NTM stand-in, 20 topics). In each repetition, on the same documents:
- anchor, the tutorial's way: the caller turns each document into a dense CSV row as wide as the
  vocabulary (with the dataset's own vectorizer, the best case for it) and sends one
  InvokeEndpoint a document to an NTM-only endpoint (ContentType text/csv);
- ours: `python -m ntm_client topics` with the raw JSON Lines against the serial-pipeline endpoint.
Printed: requests, bytes sent, wall time (medians), the ratios, and the preprocessing handler's
throughput on one core (documents per CPU second of its single thread, and per wall-clock second
with the machine's load average beside it; medians of the repetitions).
"""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import json
import os
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_EC2_METADATA_DISABLED": "true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"})

from ntm_client import cli, topics_command  # noqa: E402
from tests.harness import Harness  # noqa: E402
from tests.pipeline.local_deployment import endpoint_user, serve_dataset  # noqa: E402
from training.preparation import prepare  # noqa: E402
from training.serving import handler  # noqa: E402

DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "data" / "20newsgroups.jsonl.gz"
BUCKET, ENDPOINT, NTM_ONLY = "bench-data", "bench-text", "bench-ntm-only"


def _ntm_only_endpoint(harness: Harness) -> None:
    """The tutorial's endpoint: the same NTM model alone (the text model's second container)."""
    sagemaker = harness.client("sagemaker")
    text_model = sagemaker.describe_model(ModelName=f"{ENDPOINT}-model")
    sagemaker.create_model(ModelName=f"{NTM_ONLY}-model", ExecutionRoleArn=text_model["ExecutionRoleArn"],
                           PrimaryContainer=text_model["Containers"][1])
    sagemaker.create_endpoint_config(EndpointConfigName=f"{NTM_ONLY}-config", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": f"{NTM_ONLY}-model", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sagemaker.create_endpoint(EndpointName=NTM_ONLY, EndpointConfigName=f"{NTM_ONLY}-config")


def tutorial_way(runtime, model, texts: list[str]) -> tuple[int, int]:
    requests = sent = 0
    for text in texts:
        row = model.vectors([text]).toarray()[0]
        body = ",".join(f"{value:g}" for value in row).encode()
        runtime.invoke_endpoint(EndpointName=NTM_ONLY, ContentType="text/csv", Accept="application/json", Body=body)
        requests, sent = requests + 1, sent + len(body)
    return requests, sent


def client_way(session, documents: Path, output: Path) -> tuple[int, int]:
    arguments = cli.parser().parse_args(["topics", "--endpoint", ENDPOINT, "--input", str(documents), "--output", str(output)])
    captured = io.StringIO()
    stderr, sys.stderr = sys.stderr, captured
    try:
        assert topics_command.run(arguments, session=session) == 0, captured.getvalue()
    finally:
        sys.stderr = stderr
    summary = captured.getvalue()  # "N documents answered, 0 failed; R requests (0 retried), B bytes sent"
    requests = int(summary.split("; ")[1].split(" requests")[0].replace(",", ""))
    sent = int(summary.split("), ")[1].split(" bytes")[0].replace(",", ""))
    return requests, sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    with gzip.open(args.corpus, "rt", encoding="utf-8") as lines:
        posts = [json.loads(line) for line in itertools.islice(lines, args.documents)]
    with tempfile.TemporaryDirectory() as scratch, Harness(timeout_seconds=900) as harness:
        folder = Path(scratch)
        corpus = folder / "corpus.jsonl"
        corpus.write_text("".join(json.dumps({"id": p["id"], "text": p["text"]}) + "\n" for p in posts), encoding="utf-8")
        assert prepare.main(["--input", str(corpus), "--output", str(folder / "dataset"), "--workers", "1",
                             "--strip-headers", "--min-tokens", "1", "--train-shards", "2"]) == 0
        serve_dataset(harness, folder / "dataset", BUCKET, ENDPOINT, num_topics=20)
        _ntm_only_endpoint(harness)
        session = endpoint_user(harness, ENDPOINT, BUCKET)
        anchor_session = endpoint_user(harness, NTM_ONLY, BUCKET)
        with tarfile.open(folder / "dataset" / "serving" / "model.tar.gz") as archive:
            archive.extractall(folder / "model", filter="data")
        model = handler.model_fn(str(folder / "model"))
        texts = [p["text"] for p in posts]
        results = {"anchor": [], "ours": [], "throughput": []}
        for repetition in range(args.repetitions):
            started = time.perf_counter()
            requests, sent = tutorial_way(anchor_session.client("sagemaker-runtime"), model, texts)
            results["anchor"].append((requests, sent, time.perf_counter() - started))
            started = time.perf_counter()
            requests, sent = client_way(session, corpus, folder / f"out-{repetition}.jsonl")
            results["ours"].append((requests, sent, time.perf_counter() - started))
            started, cpu = time.perf_counter(), time.process_time()
            model.vectors(texts)
            results["throughput"].append((len(texts) / (time.perf_counter() - started), len(texts) / (time.process_time() - cpu)))
    anchor = [statistics.median(values) for values in zip(*results["anchor"])]
    ours = [statistics.median(values) for values in zip(*results["ours"])]
    print(f"{len(texts):,} documents of {args.corpus.name}, {args.repetitions} repetitions, medians:")
    print("| way | requests | bytes sent | wall time |\n|---|---:|---:|---:|")
    print(f"| tutorial (one dense CSV request a document) | {anchor[0]:,.0f} | {anchor[1]:,.0f} | {anchor[2]:.2f} s |")
    print(f"| ntm_client (raw text, batched) | {ours[0]:,.0f} | {ours[1]:,.0f} | {ours[2]:.2f} s |")
    print(f"| ratio (tutorial / client) | {anchor[0] / ours[0]:,.0f}x | {anchor[1] / ours[1]:,.1f}x | {anchor[2] / ours[2]:,.1f}x |")
    wall, cpu = (statistics.median(values) for values in zip(*results["throughput"]))
    print(f"preprocessing handler (text -> vectors, one thread): {cpu:,.0f} documents per CPU second "
          f"({wall:,.0f} per wall-clock second; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
