"""The app's typed configuration, read once from cdk.json context (or `-c key=value`).

Every key is a field of `PipelineConfig` with the same name. Values from `-c` arrive as strings
and are converted by the field's type; a value that does not fit fails synth with a message that
names the key and what it accepts.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable

from ntm_glue.run_input import (
    INSTANCE_TYPE,
    Compute,
    EndpointSettings,
    PreparationSettings,
    RunInputError,
    RunSettings,
    SimilaritySettings,
    SweepSettings,
    TrainingSettings,
    merge_settings,
)

# CloudWatch Logs accepts only these retention periods (days: the name of CDK's RetentionDays member).
LOG_RETENTION_DAYS = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS",
    1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A context value the app cannot use."""


@dataclass(frozen=True)
class PipelineConfig:
    name_prefix: str = "ntm"
    # Training (the tutorial's: two GPU instances, the train channel sharded between them).
    training_instance_type: str = "ml.p3.2xlarge"
    training_instance_count: int = 2
    training_volume_size_gb: int = 30
    training_max_runtime_seconds: int = 86_400
    # Managed spot training (NTM: at most 3600 s of waiting plus running); 0 = max_runtime_seconds.
    training_spot: bool = False
    training_max_wait_seconds: int = 0
    # NTM hyperparameter defaults, from the tutorial. Several num_topics are candidates to compare.
    num_topics: tuple[int, ...] = (30,)
    max_topic_candidates: int = 8
    max_parallel_training: int = 2
    topic_selection: str = "combined"
    mini_batch_size: int = 128
    epochs: int = 100
    num_patience_epochs: int = 5
    tolerance: float = 0.001
    # Serving.
    deploy_endpoint: bool = True
    endpoint_instance_type: str = "ml.m4.xlarge"
    endpoint_instance_count: int = 1
    endpoint_poll_seconds: int = 60
    endpoint_max_polls: int = 90
    # Application Auto Scaling of the endpoint (max > min turns it on): invocations per instance per minute.
    endpoint_min_instances: int = 1
    endpoint_max_instances: int = 2
    endpoint_target_invocations: int = 1000
    # Hours without an invocation after which the endpoint is deleted (0: never). A day spans a
    # working day and the night after it, so an endpoint used daily never sleeps, while a forgotten
    # one costs one day (about $6 at ml.m4.xlarge) instead of ~$170 a month.
    endpoint_idle_hours: int = 24
    # How a run's update reaches an existing endpoint: a blue/green deployment, traffic shifted
    # ALL_AT_ONCE, CANARY or LINEAR (step = percent of the instances), baked while the endpoint's
    # alarms watch it and rolled back by SageMaker if one goes off (docs/design.md section 8). The
    # baking period spans the latency alarm's three five-minute periods.
    endpoint_update_traffic: str = "ALL_AT_ONCE"
    endpoint_update_step_percent: int = 50
    endpoint_update_wait_seconds: int = 300
    endpoint_update_baking_seconds: int = 900
    endpoint_update_timeout_seconds: int = 3600
    transform_instance_type: str = "ml.m5.xlarge"
    transform_instance_count: int = 1
    processing_instance_type: str = "ml.m5.xlarge"
    # Similar documents (k-NN on the topic vectors; the tutorial's next module).
    similar_enabled: bool = True
    similar_k: int = 10
    similar_instance_type: str = "ml.m5.xlarge"
    deploy_similarity_endpoint: bool = False
    similarity_endpoint_instance_type: str = "ml.m4.xlarge"
    # Vocabulary (docs/corpus-preparation.md): extra stop words (words, or an s3:// file under
    # incoming/), the built-in list on or off, cleaning, phrases.
    stop_words: tuple[str, ...] | str = ()
    default_stop_words: bool = True
    clean_text: bool = True
    phrases: bool = False
    # Instances preparing one corpus (docs/corpus-preparation.md, "Several processing instances").
    preparation_instance_count: int = 1
    # Operations.
    retain_data: bool = True
    noncurrent_version_days: int = 30
    execution_timeout_hours: int = 72
    log_retention_days: int = 90
    notification_email: str = ""
    # Endpoint alarms (only with deploy_endpoint): 5xx responses in 5 minutes, p90 model latency.
    endpoint_5xx_alarm_count: int = 1
    endpoint_latency_alarm_ms: int = 1000

    @property
    def endpoint_name(self) -> str:
        return f"{self.name_prefix}-topics"

    def run_defaults(self) -> RunSettings:
        """The settings every run starts from; an execution's input overrides them."""
        return RunSettings(
            num_topics=self.num_topics,
            hyperparameters={
                "mini_batch_size": self.mini_batch_size,
                "epochs": self.epochs,
                "num_patience_epochs": self.num_patience_epochs,
                "tolerance": self.tolerance,
            },
            training=TrainingSettings(
                self.training_instance_type,
                self.training_instance_count,
                self.training_volume_size_gb,
                self.training_max_runtime_seconds,
                self.training_spot,
                self.training_max_wait_seconds or None,
            ),
            deploy_endpoint=self.deploy_endpoint,
            endpoint=EndpointSettings(self.endpoint_instance_type, self.endpoint_instance_count,
                                      idle_hours=self.endpoint_idle_hours,
                                      update_traffic=self.endpoint_update_traffic,
                                      update_step_percent=self.endpoint_update_step_percent,
                                      update_wait_seconds=self.endpoint_update_wait_seconds,
                                      update_baking_seconds=self.endpoint_update_baking_seconds,
                                      update_timeout_seconds=self.endpoint_update_timeout_seconds),
            transform=Compute(self.transform_instance_type, self.transform_instance_count),
            preparation=PreparationSettings(stop_words=self.stop_words, default_stop_words=self.default_stop_words,
                                            clean_text=self.clean_text, phrases=self.phrases,
                                            instance_count=self.preparation_instance_count),
            # A number as the rule means: keep that many topics whatever the comparison says.
            sweep=SweepSettings(
                max_candidates=self.max_topic_candidates,
                rule="fixed" if self.topic_selection.isdigit() else self.topic_selection,
                fixed_num_topics=int(self.topic_selection) if self.topic_selection.isdigit() else None,
            ),
            similar=SimilaritySettings(self.similar_enabled, self.similar_k, self.similar_instance_type,
                                       self.deploy_similarity_endpoint, self.similarity_endpoint_instance_type),
        )


_RUN_FIELD_TO_KEY = {
    "num_topics": "num_topics",
    "selection": "topic_selection",
    "hyperparameters.mini_batch_size": "mini_batch_size",
    "hyperparameters.epochs": "epochs",
    "hyperparameters.num_patience_epochs": "num_patience_epochs",
    "hyperparameters.tolerance": "tolerance",
    "training.instance_type": "training_instance_type",
    "training.instance_count": "training_instance_count",
    "training.volume_size_gb": "training_volume_size_gb",
    "training.max_runtime_seconds": "training_max_runtime_seconds",
    "training.spot": "training_spot",
    "training.max_wait_seconds": "training_max_wait_seconds",
    "endpoint.instance_type": "endpoint_instance_type",
    "endpoint.instance_count": "endpoint_instance_count",
    "endpoint.idle_hours": "endpoint_idle_hours",
    "endpoint.update_traffic": "endpoint_update_traffic",
    "endpoint.update_step_percent": "endpoint_update_step_percent",
    "endpoint.update_wait_seconds": "endpoint_update_wait_seconds",
    "endpoint.update_baking_seconds": "endpoint_update_baking_seconds",
    "endpoint.update_timeout_seconds": "endpoint_update_timeout_seconds",
    "transform.instance_type": "transform_instance_type",
    "transform.instance_count": "transform_instance_count",
    "similar.enabled": "similar_enabled",
    "similar.k": "similar_k",
    "similar.instance_type": "similar_instance_type",
    "similar.deploy_endpoint": "deploy_similarity_endpoint",
    "similar.endpoint_instance_type": "similarity_endpoint_instance_type",
    "preparation.stop_words": "stop_words",
    "preparation.instance_count": "preparation_instance_count",
}


def _to_bool(text: str) -> bool:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise ValueError


def _to_topics(text: str) -> tuple[int, ...]:
    """`30`, `10,20,30` or `[10, 20, 30]` (the forms -c and cdk.json give)."""
    return tuple(int(part) for part in text.strip("[] ").split(",") if part.strip())


def _to_words(text: str) -> tuple[str, ...] | str:
    """An s3:// URI of a stop-word file, or words separated by commas (the form -c gives)."""
    return text if text.startswith("s3://") else tuple(word.strip() for word in text.strip("[] ").split(",") if word.strip())


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "int": int, "float": float, "bool": _to_bool, "str": str, "tuple[int, ...]": _to_topics,
    "tuple[str, ...] | str": _to_words,
}


def _convert(key: str, kind: str, value: Any) -> Any:
    try:
        if kind == "tuple[str, ...] | str" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        if isinstance(value, str) and kind != "str":
            return _CONVERTERS[kind](value.strip())
        if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        # bool is an int in Python: only a JSON true/false is a bool here, and never an int.
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind in ("bool", "str") and isinstance(value, {"bool": bool, "str": str}[kind]):
            return value
        if kind == "tuple[int, ...]" and isinstance(value, (int, list)) and not isinstance(value, bool):
            values = value if isinstance(value, list) else [value]
            if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                return tuple(values)
    except ValueError:
        pass
    allowed = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
               "tuple[int, ...]": "a number of topics or a list of them",
               "tuple[str, ...] | str": "a list of words or an s3:// URI"}[kind]
    raise ConfigError(f"context key {key!r}: {value!r} is not {allowed}")


def _check_operational(config: PipelineConfig) -> None:
    if not _PREFIX.match(config.name_prefix):
        raise ConfigError(
            f"context key 'name_prefix': {config.name_prefix!r} must be 1-16 lower-case letters, digits or "
            "hyphens, starting with a letter"
        )
    if config.log_retention_days not in LOG_RETENTION_DAYS:
        raise ConfigError(f"context key 'log_retention_days': {config.log_retention_days} is not one of {tuple(LOG_RETENTION_DAYS)}")
    if config.notification_email and not _EMAIL.match(config.notification_email):
        raise ConfigError(f"context key 'notification_email': {config.notification_email!r} is not an e-mail address")
    for key, low, high in (
        ("endpoint_poll_seconds", 0, 3600),
        ("endpoint_max_polls", 1, 1000),
        ("noncurrent_version_days", 1, 3650),
        ("execution_timeout_hours", 1, 8760),
        ("max_topic_candidates", 1, 100),
        ("max_parallel_training", 1, 100),
        ("endpoint_5xx_alarm_count", 1, 1_000_000),
        ("endpoint_latency_alarm_ms", 1, 600_000),
        ("endpoint_min_instances", 1, 10),
        ("endpoint_max_instances", 1, 10),
        ("endpoint_target_invocations", 1, 1_000_000),
    ):
        value = getattr(config, key)
        if not low <= value <= high:
            raise ConfigError(f"context key {key!r}: {value} is outside {low}..{high}")
    waited = config.endpoint_max_polls * config.endpoint_poll_seconds
    if config.endpoint_update_timeout_seconds > waited:
        raise ConfigError(f"context key 'endpoint_update_timeout_seconds': {config.endpoint_update_timeout_seconds} is "
                          f"longer than a run waits for the endpoint (endpoint_max_polls x endpoint_poll_seconds = {waited} s)")
    if config.endpoint_max_instances < config.endpoint_min_instances:
        raise ConfigError(f"context key 'endpoint_max_instances': {config.endpoint_max_instances} is below "
                          f"endpoint_min_instances {config.endpoint_min_instances}")
    if not INSTANCE_TYPE.match(config.processing_instance_type):
        raise ConfigError(f"context key 'processing_instance_type': {config.processing_instance_type!r} is not a "
                          "SageMaker instance type (like ml.m5.xlarge)")


def _check_run_defaults(config: PipelineConfig) -> None:
    defaults = config.run_defaults()
    try:
        merge_settings(defaults, {})
    except RunInputError as error:
        field = str(error).split(":", 1)[0]
        key = _RUN_FIELD_TO_KEY.get(field.split("[")[0], field)
        raise ConfigError(f"context key {key!r}: {str(error).split(':', 1)[1].strip()}") from None


def load_config(context: Callable[[str], Any]) -> PipelineConfig:
    """Build the config from a context lookup (`node.try_get_context`); unset keys keep defaults."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(PipelineConfig):
        given = context(field.name)
        if given is not None:
            values[field.name] = _convert(field.name, str(field.type), given)
    config = PipelineConfig(**values)
    _check_operational(config)
    _check_run_defaults(config)
    return config
