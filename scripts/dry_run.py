"""`make dry-run`: deploy the synthesized stack into the offline harness, upload the sample corpus,
and watch the run the upload starts, state by state, with every AWS request it makes.

Nothing leaves this machine: AWS is moto, SageMaker jobs run the project's code locally (see
tests/pipeline/local_deployment.py). The run's outputs are copied to out/dry-run/ at the end.

    python scripts/dry_run.py [--corpus samples/sample-news.jsonl] [--num-topics 4 6 8] [--preparation-instances 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.update({"AWS_ACCESS_KEY_ID": "dry-run", "AWS_SECRET_ACCESS_KEY": "dry-run", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_EC2_METADATA_DISABLED": "true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
                   # as `make synth` and the tests: CDK's own template validation adds seconds, not findings
                   "CDK_VALIDATION": "false"})

from tests.harness import Harness, Progress  # noqa: E402  (after the environment above)
from tests.infra.synth import synthesize  # noqa: E402
from tests.pipeline.local_deployment import deploy, endpoint_user  # noqa: E402
from ntm_client import cli as client_cli, topics_command  # noqa: E402

TOPIC_WORDS = 10  # as many as the report and the topic-quality bench look at
NEW_SENTENCES = ["The rocket left the launch pad and the capsule reached orbit around the planet.",
                 "The striker scored a late goal and the coach praised the defence after the match."]


class Printer:
    """States as they are entered and left, and their requests; a request repeated back to back
    (a job downloading its input objects one by one) is printed once with a count."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.repeated: tuple[str, int] | None = None

    def _flush(self) -> None:
        if self.repeated:
            line, count = self.repeated
            print(line + (f"  x{count}" if count > 1 else ""), flush=True)
            self.repeated = None

    def __call__(self, event: Progress) -> None:
        clock = f"{time.monotonic() - self.started:6.1f}s"
        if event.kind == "request" and event.record is not None:
            line = f"          {event.record}"
            if self.repeated and self.repeated[0] == line:
                self.repeated = (line, self.repeated[1] + 1)
                return
            self._flush()
            self.repeated = (line, 1)
            return
        self._flush()
        if event.kind == "state-entered":
            print(f"{clock}  > {event.state}", flush=True)
        elif event.kind == "state-exited":
            print(f"{clock}  < {event.state} ({event.seconds:.2f} s)", flush=True)


def upload(stack, corpus: Path, instances: int) -> list:
    """The corpus as one file, or for several preparation instances as a folder of 2N files and its marker."""
    name = corpus.name
    if instances == 1:
        print(f"uploading {corpus} to s3://{stack.data_bucket}/incoming/{name}", flush=True)
        return stack.deliver(stack.upload(f"incoming/{name}", corpus.read_bytes()))
    folder = f"incoming/{name.split('.', 1)[0]}/"
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    for number in range(2 * instances):
        stack.upload(f"{folder}part-{number:03d}.jsonl", "".join(lines[number::2 * instances]).encode())
    print(f"uploaded {corpus} as {2 * instances} files to s3://{stack.data_bucket}/{folder}; now its _START marker", flush=True)
    return stack.deliver(stack.upload(f"{folder}_START", b""))


def print_neighbours(stack, outputs: dict) -> None:
    """The similarity stage's answer for the first two documents, with titles from the dataset."""
    if not outputs.get("similar_documents", "").startswith("s3://"):
        print(f"\nsimilar documents: {outputs.get('similar_documents')}")
        return
    def read(uri: str) -> list[dict]:
        return [json.loads(line) for line in stack.object(uri).decode().splitlines() if line.strip()]
    titles = {doc["id"]: doc.get("title", "") for doc in read(outputs["dataset"] + "documents.jsonl")}
    print("\nsimilar documents (k-NN on the topic vectors, cosine distance), the first two:")
    for line in read(outputs["similar_documents"])[:2]:
        print(f"  {line['id']}  {titles.get(line['id'], '')[:60]}")
        for neighbour in line["neighbours"][:5]:
            print(f"      {neighbour['distance']:.6f}  {neighbour['id']}  {titles.get(neighbour['id'], '')[:50]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "samples" / "sample-news.jsonl")
    parser.add_argument("--num-topics", type=int, nargs="+", default=[4],
                        help="one number, or several to see a sweep (default 4: the sample has four themes)")
    parser.add_argument("--settings", type=json.loads, default={},
                        help='more per-upload settings, as JSON, e.g. \'{"preparation": {"label_field": "group"}}\'')
    parser.add_argument("--preparation-instances", type=int, default=1, metavar="N",
                        help="prepare on N processing instances: the JSON Lines corpus is uploaded as a folder of 2N files "
                             "with its _START marker (the upload trigger's folder mode)")
    parser.add_argument("--output", type=Path, default=REPO / "out" / "dry-run")
    args = parser.parse_args()
    if args.preparation_instances > 1:
        if not args.corpus.name.endswith(".jsonl"):
            parser.error("--preparation-instances needs a .jsonl corpus (it is cut into files by line)")
        args.settings = {**args.settings, "preparation": {**args.settings.get("preparation", {}),
                                                          "instance_count": args.preparation_instances}}

    began = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        print("synthesizing the app (cdk.json context, cdk-nag on) ...", flush=True)
        synthesized = synthesize(Path(scratch) / "cdk.out")
        with Harness(job_polls=1, endpoint_polls=2, timeout_seconds=900, on_progress=Printer()) as harness:
            stack = deploy(harness, synthesized)
            name = args.corpus.name
            settings_key = f"incoming/{name.split('.', 1)[0]}.run.json"
            harness.client("s3").put_object(Bucket=stack.data_bucket, Key=settings_key,
                                            Body=json.dumps({**args.settings, "num_topics": args.num_topics}).encode())
            started = upload(stack, args.corpus, args.preparation_instances)
            print(f"upload trigger: {started[0]['message']}", flush=True)
            result = harness.wait_for(started[0]["execution_arn"])
            stack.finish(result)
            print(f"\nrun {result.status} in {time.monotonic() - began:.1f} s (wall clock, synth included)")
            if result.status != "SUCCEEDED":
                print(f"error: {result.error}\ncause: {result.cause}")
                return 1
            for ran_on in sorted({job.ran_on for job in stack.processing_jobs}):
                names = [job.job_name for job in stack.processing_jobs if job.ran_on == ran_on]
                print(f"\nprocessing jobs {', '.join(names)} ran on {ran_on}")
            outputs = result.output["outputs"]
            print("\nwhere the outputs are (in the emulated data bucket):")
            for key, value in outputs.items():
                print(f"  {key:<16} {value}")
            run_prefix = outputs["run"].split("/", 3)[3]
            args.output.mkdir(parents=True, exist_ok=True)
            for key in (stack.keys(run_prefix + "report/") + stack.keys(run_prefix + "comparison/")
                        + stack.keys(run_prefix + "similar/neighbours.jsonl")):
                target = args.output / key[len(run_prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(stack.object(f"s3://{stack.data_bucket}/{key}"))
            print_topics(stack, outputs, cleaned=args.settings.get("preparation", {}).get("clean_text", True))
            print_neighbours(stack, outputs)
            for message in stack.notifications():
                print(f"\nnotification: {message['Subject']}\n{message['Message']}")
            print(f"copied the report to {args.output / 'report' / 'report.html'}")
            if result.output["endpoint"]["enabled"]:
                print_guard(result.output["endpoint"])
                ask_endpoint(stack, result.output)
    return 0


def print_topics(stack, outputs: dict, cleaned: bool) -> None:
    """The answer to "what is this corpus about?": each topic's top words, as the report lists them."""
    topics = json.loads(stack.object(outputs["run"] + "report/topics.json"))
    print(f"\nthe {topics['num_topics']} topics' top words (report/topics.json):")
    for topic in topics["topics"]:
        print(f"  topic {topic['topic']:>2}: {' '.join(entry['word'] for entry in topic['words'][:TOPIC_WORDS])}")
    if cleaned:
        print("  the same run without the text cleaning: python scripts/dry_run.py --settings "
              "'{\"preparation\": {\"clean_text\": false}}'")


def print_guard(endpoint: dict) -> None:
    """How the next run's update of the endpoint will be guarded (this run created it: nothing to guard)."""
    policy = endpoint["deployment_config"]["BlueGreenUpdatePolicy"]
    alarms = [alarm["AlarmName"] for alarm in endpoint["deployment_config"].get("AutoRollbackConfiguration", {}).get("Alarms", [])]
    print(f"\nthe next run's update of {endpoint['endpoint_name']}: blue/green, traffic "
          f"{policy['TrafficRoutingConfiguration']['Type']}, baked {policy['TerminationWaitInSeconds']} s under the alarms "
          f"{', '.join(alarms) or '(none)'}, rolled back by SageMaker if one goes off; the endpoint is deleted after "
          f"{endpoint['idle_hours']} h without invocations")


def ask_endpoint(stack, output: dict) -> None:
    """What a user does next: `python -m ntm_client topics` against the endpoint, with two new sentences."""
    endpoint = output["endpoint"]["endpoint_name"]
    answers = Path(tempfile.mkdtemp()) / "topics.jsonl"
    argv = ["topics", "--endpoint", endpoint, "--topics", output["outputs"]["run"] + "report/topics.json",
            "--dominant", "2", "--words", "6", "--output", str(answers)]
    for sentence in NEW_SENTENCES:
        argv += ["--text", sentence]
    print(f"\nasking the endpoint about two new sentences: python -m ntm_client {' '.join(argv[:3])} --text ...")
    topics_command.run(client_cli.parser().parse_args(argv), session=endpoint_user(stack.harness, endpoint, stack.data_bucket))
    for sentence, line in zip(NEW_SENTENCES, answers.read_text().splitlines()):
        answer = json.loads(line)
        print(f"  {sentence}")
        for topic in answer.get("dominant_topics", []):
            print(f"    topic {topic['topic']:>2} ({topic['weight']:.2f}): {' '.join(topic.get('words', []))}")
        if "error" in answer:
            print(f"    error: {answer['error']}")


if __name__ == "__main__":
    sys.exit(main())
