"""Turn a validated request into the run document every later state reads (`$.run`).

Names and locations are derived here, once, from the execution's name, so that a retried or
repeated state always addresses the same jobs and prefixes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ntm_glue import hyperparameters, similarity
from ntm_glue.run_input import RunInputError, RunRequest, RunSettings

# SageMaker job, model and endpoint names: 63 characters, letters, digits and inner hyphens.
MAX_NAME = 63
_NOT_NAME = re.compile(r"[^a-zA-Z0-9]+")

# Where the processing containers find their inputs and leave their outputs.
PROCESSING_ROOT = "/opt/ml/processing"
CORPUS_DIR = f"{PROCESSING_ROOT}/input/corpus"
STOP_WORDS_DIR = f"{PROCESSING_ROOT}/input/stop-words"
DATASET_OUT_DIR = f"{PROCESSING_ROOT}/output/dataset"
# Preparation on several instances (training.scale_out): per-instance term counts and shard summaries.
COUNTS_OUT_DIR = f"{PROCESSING_ROOT}/output/counts"
COUNTS_IN_DIR = f"{PROCESSING_ROOT}/input/counts"
SHARDS_OUT_DIR = f"{PROCESSING_ROOT}/output/shards"
SHARDS_IN_DIR = f"{PROCESSING_ROOT}/input/shards"
# Which instance of a processing job a container is (SageMaker writes it there).
RESOURCE_CONFIG = "/opt/ml/config/resourceconfig.json"
REPORT_MODEL_DIR = f"{PROCESSING_ROOT}/input/model"
REPORT_DATASET_DIR = f"{PROCESSING_ROOT}/input/dataset"
REPORT_TRANSFORM_DIR = f"{PROCESSING_ROOT}/input/transform"
REPORT_OUT_DIR = f"{PROCESSING_ROOT}/output/report"
REPORT_SIMILAR_DIR = f"{PROCESSING_ROOT}/input/similar"
COMPARE_MODELS_DIR = f"{PROCESSING_ROOT}/input/models"
COMPARISON_IN_DIR = f"{PROCESSING_ROOT}/input/comparison"
COMPARISON_OUT_DIR = f"{PROCESSING_ROOT}/output/comparison"
# ProcessingJob ContainerArguments: at most 100 items of at most 256 characters each.
MAX_ARGUMENT = 256
MAX_ARGUMENTS = 100


@dataclass(frozen=True)
class Deployment:
    """What the stack fixes for every run: names and places, not choices."""

    name_prefix: str
    data_bucket: str
    endpoint_name: str
    endpoint_max_polls: int
    endpoint_poll_seconds: int
    # The endpoint's CloudWatch alarms: an update that sets one off is rolled back by SageMaker.
    endpoint_alarms: tuple[str, ...] = ()
    similar_alarms: tuple[str, ...] = ()  # the same for the similar-documents endpoint


def sagemaker_name(prefix: str, kind: str, run_id: str) -> str:
    """A unique, valid SageMaker name: prefix, kind, as much of the run id as fits, and a digest of it."""
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:8]
    head = f"{prefix}-{kind}"
    room = MAX_NAME - len(head) - len(digest) - 2
    middle = _NOT_NAME.sub("-", run_id).strip("-")[: max(room, 0)].strip("-")
    return "-".join(part for part in (head, middle, digest) if part)


def run_id_for(execution_name: str, run_name: str | None) -> str:
    """The run's folder name: the execution name, readable and S3-safe."""
    cleaned = _NOT_NAME.sub("-", execution_name).strip("-")[:80]
    return f"{run_name}-{cleaned}" if run_name and run_name not in cleaned else cleaned


def _reading_arguments(request: RunRequest) -> list[str]:
    prep = request.settings.preparation
    arguments = ["--input", CORPUS_DIR, "--text-field", prep.text_field, "--id-field", prep.id_field,
                 "--label-field", prep.label_field]
    arguments += ["--strip-headers"] if prep.strip_headers else []
    return arguments + ([] if prep.clean_text else ["--no-clean-text"])


def _preparation_arguments(request: RunRequest) -> list[str]:
    prep = request.settings.preparation
    min_shards = request.settings.training.instance_count
    arguments = _reading_arguments(request) + [
        "--output", DATASET_OUT_DIR,
        "--vocab-size", str(prep.vocab_size),
        "--min-df", str(prep.min_df),
        "--max-df", str(prep.max_df),
        "--min-tokens", str(prep.min_tokens),
        # ShardedByS3Key leaves an instance without a file idle: never fewer shards than instances.
        "--train-shards", str(max(prep.train_shards, min_shards)),
        "--min-train-shards", str(min_shards),
        "--validation-fraction", str(prep.validation_fraction),
        "--test-fraction", str(prep.test_fraction),
        "--seed", str(prep.seed),
        # The vocabulary must be larger than every candidate number of topics.
        "--num-topics", str(max(request.settings.num_topics)),
    ]
    arguments += [] if prep.default_stop_words else ["--no-default-stop-words"]
    if prep.phrases:
        arguments += ["--phrases", "--phrase-threshold", str(prep.phrase_threshold), "--phrase-min-count", str(prep.phrase_min_count)]
    if prep.stop_words_uri:
        arguments += ["--stop-words-file", f"{STOP_WORDS_DIR}/{prep.stop_words_uri.rsplit('/', 1)[1]}"]
    elif prep.stop_words:
        arguments += ["--stop-words", *_packed(prep.stop_words)]
    if len(arguments) > MAX_ARGUMENTS:
        raise RunInputError(f"preparation.stop_words: {len(prep.stop_words)} words do not fit into the preparation job's "
                            f"{MAX_ARGUMENTS} arguments; put them in a file under incoming/ and give its s3:// URI")
    return arguments


def _packed(words: tuple) -> list[str]:
    """Words joined by commas into as few arguments of at most MAX_ARGUMENT characters as fit."""
    packed: list[str] = []
    for word in words:
        if packed and len(packed[-1]) + 1 + len(word) <= MAX_ARGUMENT:
            packed[-1] += f",{word}"
        else:
            packed.append(word)
    return packed


def _scale_out(request: RunRequest, output_uri: str, name) -> dict[str, Any]:
    """The three jobs of a preparation on several instances (docs/corpus-preparation.md, "Scale")."""
    host = ["--resource-config", RESOURCE_CONFIG]
    return {
        "enabled": request.settings.preparation.instance_count > 1,
        "counts_uri": f"{output_uri}preparation/counts/",
        "shards_uri": f"{output_uri}preparation/shards/",
        "count": {"job_name": name("prep-count"),
                  "arguments": ["count", *_reading_arguments(request), "--output", COUNTS_OUT_DIR, *host]},
        "encode": {"job_name": name("prep-encode"),
                   "arguments": ["encode", *_preparation_arguments(request), "--counts", COUNTS_IN_DIR,
                                 "--shard-output", SHARDS_OUT_DIR, *host]},
        "assemble": {"job_name": name("prep-assemble"),
                     "arguments": ["assemble", "--shards", SHARDS_IN_DIR, "--output", DATASET_OUT_DIR,
                                   "--min-train-shards", str(request.settings.training.instance_count)]},
    }


def _report_arguments(run_id: str, settings: RunSettings) -> list[str]:
    shown = {
        "run_id": run_id,
        "num_topics": list(settings.num_topics),
        "training": f"{settings.training.instance_count} x {settings.training.instance_type}",
        **{key: settings.hyperparameters[key] for key in ("epochs", "mini_batch_size") if key in settings.hyperparameters},
    }
    parameters = json.dumps(shown, separators=(",", ":"))
    if len(parameters) > MAX_ARGUMENT:
        parameters = json.dumps({"run_id": run_id[:200]})
    arguments = [
        "--model", f"{REPORT_MODEL_DIR}/model.tar.gz",
        "--dataset", REPORT_DATASET_DIR,
        "--transform-output", REPORT_TRANSFORM_DIR,
        "--output", REPORT_OUT_DIR,
        "--neighbours", f"{REPORT_SIMILAR_DIR}/neighbours.jsonl",
        "--run-parameters", parameters,
    ]
    return arguments + (["--comparison", f"{COMPARISON_IN_DIR}/comparison.json"] if len(settings.num_topics) > 1 else [])


def _compare_arguments(settings: RunSettings) -> list[str]:
    arguments = [
        "--models", COMPARE_MODELS_DIR,
        "--candidates", f"{COMPARISON_IN_DIR}/candidates.json",
        "--dataset", REPORT_DATASET_DIR,
        "--output", COMPARISON_OUT_DIR,
        "--rule", settings.sweep.rule,
    ]
    return arguments + (["--fixed-num-topics", str(settings.sweep.fixed_num_topics)] if settings.sweep.rule == "fixed" else [])


def _check_endpoint_against_deployment(settings: RunSettings, deployment: Deployment, idle_check: bool) -> None:
    """What only the deployment can tell: whether the run waits long enough, and whether anything checks idleness."""
    endpoint = settings.endpoint
    waited = deployment.endpoint_max_polls * deployment.endpoint_poll_seconds
    if settings.deploy_endpoint and endpoint.update_timeout_seconds > waited:
        raise RunInputError(f"endpoint.update_timeout_seconds: {endpoint.update_timeout_seconds} is longer than this "
                            f"deployment waits for the endpoint ({deployment.endpoint_max_polls} checks x "
                            f"{deployment.endpoint_poll_seconds} s = {waited} s); the run would give up first")
    if endpoint.idle_hours and not idle_check:
        raise RunInputError(f"endpoint.idle_hours: {endpoint.idle_hours}, but this deployment has no idle check "
                            "(context endpoint_idle_hours is 0); deploy with endpoint_idle_hours > 0 to use it")


def build_run(request: RunRequest, execution_name: str, deployment: Deployment, started_at: str = "",
              idle_check: bool = True) -> dict[str, Any]:
    """The run document; `started_at` (the execution's ISO start time) orders runs on the endpoint.
    `idle_check`: whether the deployment runs the hourly idle check (its default idle_hours > 0)."""
    settings = request.settings
    _check_endpoint_against_deployment(settings, deployment, idle_check)
    run_id = run_id_for(execution_name, request.run_name)
    bucket_uri = f"s3://{deployment.data_bucket}"
    output_uri = f"{bucket_uri}/runs/{run_id}/"
    dataset_uri = request.dataset_uri or f"{bucket_uri}/datasets/{run_id}/"

    def name(kind: str) -> str:
        return sagemaker_name(deployment.name_prefix, kind, run_id)

    shared_hyperparameters = {key: hyperparameters.to_api_string(value) for key, value in settings.hyperparameters.items()}
    candidates = [
        {
            "num_topics": k,
            "job_name": name(f"train-k{k}"),
            "hyperparameters": {"num_topics": str(k), **shared_hyperparameters},
        }
        for k in settings.num_topics
    ]
    return {
        "run_id": run_id,
        "output_uri": output_uri,
        "prepare": {
            "enabled": request.corpus_uri is not None,
            "job_name": name("prepare"),
            "corpus_uri": request.corpus_uri or "",
            "arguments": _preparation_arguments(request),
            # A stop-word file travels as a processing input of its own ("Stop-word file?").
            "stop_words_file": request.settings.preparation.stop_words_uri is not None,
            "stop_words_uri": request.settings.preparation.stop_words_uri or "",
            "instance_count": settings.preparation.instance_count,
            "scale_out": _scale_out(request, output_uri, name),
        },
        "dataset": {
            "uri": dataset_uri,
            "manifest_uri": f"{dataset_uri}manifest.json",
            "train_uri": f"{dataset_uri}train/",
            "validation_uri": f"{dataset_uri}validation/",
            "test_uri": f"{dataset_uri}test/",
            "auxiliary_uri": f"{dataset_uri}auxiliary/",
            "transform_uri": f"{dataset_uri}transform/",
            "documents_uri": f"{dataset_uri}documents.jsonl",
            "serving_uri": f"{dataset_uri}serving/model.tar.gz",
        },
        "training": {
            "candidates": candidates,
            "instance_type": settings.training.instance_type,
            "instance_count": settings.training.instance_count,
            "volume_size_gb": settings.training.volume_size_gb,
            "max_runtime_seconds": settings.training.max_runtime_seconds,
            "spot": settings.training.spot,
            "stopping_condition": settings.training.stopping_condition(),
            "output_uri": f"{output_uri}model/",
        },
        "sweep": {
            "enabled": len(candidates) > 1,
            "rule": settings.sweep.rule,
            "job_name": name("compare"),
            "comparison_uri": f"{output_uri}comparison/",
            "arguments": _compare_arguments(settings),
        },
        # The NTM model reads the dataset's RecordIO (batch transform); the text model is the serial
        # inference pipeline the endpoint serves: preprocessing container, then the same NTM artifact.
        "model": {"name": name("model"), "text_model_name": name("text-model")},
        "deploy": {
            "enabled": settings.deploy_endpoint,
            "endpoint_name": deployment.endpoint_name,
            "endpoint_config_name": name("epc"),
            "run_started_at": started_at,
            "instance_type": settings.endpoint.instance_type,
            "instance_count": settings.endpoint.instance_count,
            # Read by the idle check from the config's tag (ntm:idle-hours); 0: never delete it for idleness.
            "idle_hours": str(settings.endpoint.idle_hours),
            # Only an update of an existing endpoint takes it (CreateEndpoint has nothing to roll back to).
            "deployment_config": settings.endpoint.deployment_config(deployment.endpoint_alarms),
            "rollback_alarms": list(deployment.endpoint_alarms),
            "max_polls": deployment.endpoint_max_polls,
            "poll_seconds": deployment.endpoint_poll_seconds,
        },
        "transform": {
            "job_name": name("transform"),
            "instance_type": settings.transform.instance_type,
            "instance_count": settings.transform.instance_count,
            "output_uri": f"{output_uri}transform/",
        },
        "report": {
            "job_name": name("report"),
            "output_uri": f"{output_uri}report/",
            "page_uri": f"{output_uri}report/report.html",
            "arguments": _report_arguments(run_id, settings),
        },
        "similar": similarity.run_section(settings.similar, name, output_uri, deployment.name_prefix,
                                          settings.endpoint, deployment.similar_alarms),
    }
