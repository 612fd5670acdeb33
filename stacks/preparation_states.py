"""The pipeline's preparation branch: one processing instance, or several sharing the corpus.

One instance runs `python -m training.prepare`. Several run three processing jobs, all SageMaker's
own distribution (docs/corpus-preparation.md, "Several processing instances"):
count on N instances (corpus ShardedByS3Key) -> encode on N (corpus sharded again, every count file
FullyReplicated; each picks the same vocabulary from their sum) -> assemble on one.
Choosing the vocabulary inside the encode job saves a job start and stays exact.
A stop-word file (run input preparation.stop_words as an s3:// URI) is one more input of the job
that chooses the vocabulary (prepare, or encode): a state cannot leave out an input when there is
none, so a Choice picks the state with or without it.
"""

from __future__ import annotations

from typing import Callable, Protocol

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ntm_glue.run_config import (
    CORPUS_DIR,
    COUNTS_IN_DIR,
    COUNTS_OUT_DIR,
    DATASET_OUT_DIR,
    SHARDS_IN_DIR,
    SHARDS_OUT_DIR,
    STOP_WORDS_DIR,
)

SCALE_OUT = "$.run.prepare.scale_out"
STOP_WORDS_FILE = "$.run.prepare.stop_words_file"


class ProcessingJob(Protocol):
    def __call__(self, state_id: str, *, job_name: str, entrypoint: list[str], arguments_path: str, inputs: list[dict],
                 outputs: list[dict], result_path: str, comment: str, instance_count_path: str | None = None) -> sfn.CustomState: ...


def s3_input(name: str, uri_path: str, local_path: str, distribution: str = "FullyReplicated") -> dict:
    return {"InputName": name, "S3Input": {"S3Uri.$": uri_path, "LocalPath": local_path, "S3DataType": "S3Prefix",
                                            "S3InputMode": "File", "S3DataDistributionType": distribution}}


def _output(name: str, uri_path: str, local_path: str) -> dict:
    return {"OutputName": name, "S3Output": {"S3Uri.$": uri_path, "LocalPath": local_path, "S3UploadMode": "EndOfJob"}}


def preparation_states(scope: Construct, processing_job: ProcessingJob,
                       catch: Callable[[sfn.CustomState], sfn.CustomState]) -> sfn.Chain:
    """The branch from the corpus to a dataset with its manifest; its end continues the run."""
    dataset = _output("dataset", "$.run.dataset.uri", DATASET_OUT_DIR)
    stop_words = s3_input("stop-words", "$.run.prepare.stop_words_uri", STOP_WORDS_DIR)

    def prepare(state_id: str, extra_inputs: list[dict]) -> sfn.CustomState:
        return catch(processing_job(
            state_id, job_name="$.run.prepare.job_name", entrypoint=["python3", "-m", "training.prepare"],
            result_path="$.prepared", arguments_path="$.run.prepare.arguments",
            inputs=[s3_input("corpus", "$.run.prepare.corpus_uri", CORPUS_DIR), *extra_inputs], outputs=[dataset],
            comment="Tokenise the corpus, build the vocabulary and write sharded RecordIO-protobuf (training.prepare)",
        ))

    single = (sfn.Choice(scope, "Stop-word file?")
              .when(sfn.Condition.boolean_equals(STOP_WORDS_FILE, True), prepare("Prepare corpus with stop-word file", [stop_words]))
              .otherwise(prepare("Prepare corpus", []))
              .afterwards())
    scale_out = ["python3", "-m", "training.scale_out"]
    sharded_corpus = s3_input("corpus", "$.run.prepare.corpus_uri", CORPUS_DIR, "ShardedByS3Key")
    count = catch(processing_job(
        "Count terms", job_name=f"{SCALE_OUT}.count.job_name", entrypoint=scale_out, result_path="$.prepared",
        arguments_path=f"{SCALE_OUT}.count.arguments", instance_count_path="$.run.prepare.instance_count",
        inputs=[sharded_corpus], outputs=[_output("counts", f"{SCALE_OUT}.counts_uri", COUNTS_OUT_DIR)],
        comment="Each instance counts the terms of its share of the corpus files (ShardedByS3Key)",
    ))

    def encode(state_id: str, extra_inputs: list[dict]) -> sfn.CustomState:
        return catch(processing_job(
            state_id, job_name=f"{SCALE_OUT}.encode.job_name", entrypoint=scale_out, result_path="$.prepared",
            arguments_path=f"{SCALE_OUT}.encode.arguments", instance_count_path="$.run.prepare.instance_count",
            inputs=[sharded_corpus, s3_input("counts", f"{SCALE_OUT}.counts_uri", COUNTS_IN_DIR), *extra_inputs],
            outputs=[dataset, _output("shards", f"{SCALE_OUT}.shards_uri", SHARDS_OUT_DIR)],
            comment="Each instance picks the vocabulary from all counts and writes its share's RecordIO files",
        ))

    encode_shards = (sfn.Choice(scope, "Stop-word file for the shards?")
                     .when(sfn.Condition.boolean_equals(STOP_WORDS_FILE, True), encode("Encode shards with stop-word file", [stop_words]))
                     .otherwise(encode("Encode shards", []))
                     .afterwards())
    assemble = catch(processing_job(
        "Assemble dataset", job_name=f"{SCALE_OUT}.assemble.job_name", entrypoint=scale_out, result_path="$.prepared",
        arguments_path=f"{SCALE_OUT}.assemble.arguments",
        inputs=[s3_input("shards", f"{SCALE_OUT}.shards_uri", SHARDS_IN_DIR)], outputs=[dataset],
        comment="Join the shards' document lists and counts: documents.jsonl, vocab.txt, manifest.json last",
    ))
    return (sfn.Choice(scope, "Several preparation instances?")
            .when(sfn.Condition.boolean_equals(f"{SCALE_OUT}.enabled", True), count.next(encode_shards).next(assemble))
            .otherwise(single)
            .afterwards())
