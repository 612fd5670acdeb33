"""The similar-documents stage's part of the run document (`$.run.similar`).

The stage indexes every document's topic vector with SageMaker's k-NN and asks the index for each
document's neighbours (stacks/similarity.py runs it; training.similar does the conversions).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ntm_glue.run_input import EndpointSettings, SimilaritySettings

# Where the similarity jobs' containers find their inputs (the processing root of run_config).
TOPIC_WEIGHTS_DIR = "/opt/ml/processing/input/topic-weights"
INDEX_OUT_DIR = "/opt/ml/processing/output/similar-index"
PREDICTIONS_DIR = "/opt/ml/processing/input/predictions"
DOCUMENTS_DIR = "/opt/ml/processing/input/dataset"
NEIGHBOURS_OUT_DIR = "/opt/ml/processing/output/similar"


def endpoint_name(name_prefix: str) -> str:
    """The similar-documents endpoint, beside `<prefix>-topics`."""
    return f"{name_prefix}-similar"


def alarm_names(name_prefix: str) -> tuple[str, ...]:
    """The similar-documents endpoint's alarms (stacks/monitoring.py): they also roll its updates back."""
    return (f"{name_prefix}-similar-server-errors", f"{name_prefix}-similar-latency")


def run_section(settings: SimilaritySettings, name: Callable[[str], str], output_uri: str,
                name_prefix: str, update: EndpointSettings | None = None, alarms: tuple[str, ...] = ()) -> dict[str, Any]:
    """`update`: the run's endpoint update settings; the k-NN endpoint has one instance, so its
    update goes all at once, baked under its own alarms (`alarms`) like the topics endpoint's."""
    update = dataclasses.replace(update or EndpointSettings(settings.endpoint_instance_type, 1),
                                 instance_type=settings.endpoint_instance_type, instance_count=1,
                                 update_traffic="ALL_AT_ONCE")
    similar_uri = f"{output_uri}similar/"
    return {
        "enabled": settings.enabled,
        "k": settings.k,
        # The index answers one neighbour more: a document's nearest hit is itself, left out of the file.
        "index_k": str(settings.k + 1),
        "instance_type": settings.instance_type,
        "output_uri": similar_uri,
        "neighbours_uri": f"{similar_uri}neighbours.jsonl",
        "index_uri": f"{similar_uri}index/",
        "train_uri": f"{similar_uri}index/train/",
        "query_uri": f"{similar_uri}index/query/",
        "model_output_uri": f"{similar_uri}model/",
        "transform_output_uri": f"{similar_uri}transform/",
        "index_job_name": name("knn-index"),
        "training_job_name": name("knn-train"),
        "model_name": name("knn-model"),
        "transform_job_name": name("knn-transform"),
        "neighbours_job_name": name("knn-neighbours"),
        "index_arguments": ["index", "--topic-weights", TOPIC_WEIGHTS_DIR, "--output", INDEX_OUT_DIR],
        "neighbours_arguments": ["neighbours", "--predictions", PREDICTIONS_DIR,
                                 "--documents", f"{DOCUMENTS_DIR}/documents.jsonl",
                                 "--k", str(settings.k), "--output", NEIGHBOURS_OUT_DIR],
        "deploy": {
            "enabled": settings.enabled and settings.deploy_endpoint,
            "endpoint_name": endpoint_name(name_prefix),
            "endpoint_config_name": name("knn-epc"),
            "instance_type": settings.endpoint_instance_type,
            "instance_count": 1,
            "deployment_config": update.deployment_config(alarms),
            "rollback_alarms": list(alarms),
        },
    }
