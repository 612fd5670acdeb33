"""The execution input: what a user may override, checked before any paid job starts.

`RunSettings` is the one typed form of a run's choices. The deployed defaults are a
`RunSettings` too (built from cdk.json context at synth time and checked by the same code), and
an execution's input is merged over them field by field.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ntm_glue import hyperparameters

# SageMaker's ML instance names look like ml.<family>.<size>, e.g. ml.p3.2xlarge.
INSTANCE_TYPE = re.compile(r"^ml\.[a-z][a-z0-9-]*\.[0-9]*(x?large|medium|small|metal[a-z0-9-]*)$")


class RunInputError(ValueError):
    """The input cannot start a run. The message starts with the offending field's path."""


@dataclass(frozen=True)
class Compute:
    instance_type: str
    instance_count: int


# UpdateEndpoint's BlueGreenUpdatePolicy (botocore's model, API reference TrafficRoutingConfig).
TRAFFIC_ROUTING = ("ALL_AT_ONCE", "CANARY", "LINEAR")


@dataclass(frozen=True)
class EndpointSettings(Compute):
    """The endpoint's compute, how long it may sit idle, and how a later run's update reaches it.

    An update is a blue/green deployment (docs/design.md section 8): the new fleet takes the traffic
    all at once, or a canary first, or in linear steps (`update_step_percent` of the instances), each
    step `update_wait_seconds` apart; then it bakes `update_baking_seconds` while the endpoint's alarms
    watch it, and SageMaker rolls the whole update back if one of them goes off.
    """

    idle_hours: int = 24
    update_traffic: str = "ALL_AT_ONCE"
    update_step_percent: int = 50
    update_wait_seconds: int = 300
    update_baking_seconds: int = 900
    update_timeout_seconds: int = 3600

    def deployment_config(self, alarms: tuple[str, ...]) -> dict[str, Any]:
        """UpdateEndpoint's DeploymentConfig; sizes are CAPACITY_PERCENT of the variant's instances."""
        routing: dict[str, Any] = {"Type": self.update_traffic, "WaitIntervalInSeconds": self.update_wait_seconds}
        size = {"Type": "CAPACITY_PERCENT", "Value": self.update_step_percent}
        if self.update_traffic == "CANARY":
            routing["CanarySize"] = size
        elif self.update_traffic == "LINEAR":
            routing["LinearStepSize"] = size
        config: dict[str, Any] = {"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": self.update_baking_seconds,
            "MaximumExecutionTimeoutInSeconds": self.update_timeout_seconds,
        }}
        if alarms:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": name} for name in alarms]}
        return config


# Managed spot training: built-in algorithms that write no checkpoints (NTM among them) may wait
# at most an hour for capacity and run in total (SageMaker developer guide, model-managed-spot-training).
SPOT_MAX_WAIT_SECONDS = 3600


@dataclass(frozen=True)
class TrainingSettings(Compute):
    volume_size_gb: int = 30
    max_runtime_seconds: int = 86_400
    spot: bool = False
    # With spot: how long SageMaker may wait for capacity plus run; None means max_runtime_seconds.
    max_wait_seconds: int | None = None

    def stopping_condition(self) -> dict[str, int]:
        """CreateTrainingJob's StoppingCondition: MaxWaitTimeInSeconds only with spot (refused otherwise)."""
        condition = {"MaxRuntimeInSeconds": self.max_runtime_seconds}
        if self.spot:
            condition["MaxWaitTimeInSeconds"] = self.max_wait_seconds or self.max_runtime_seconds
        return condition


@dataclass(frozen=True)
class PreparationSettings:
    """Options of `python -m training.prepare` that a run may choose."""

    vocab_size: int = 2000
    min_df: int = 2
    max_df: float = 0.95
    min_tokens: int = 10
    train_shards: int = 8
    validation_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0
    text_field: str = "text"
    id_field: str = "id"
    label_field: str = "label"
    strip_headers: bool = False
    clean_text: bool = True
    # Extra stop words: a list of words, or the s3:// URI of a file of them (one a line) under incoming/.
    stop_words: tuple | str = ()
    default_stop_words: bool = True
    phrases: bool = False
    phrase_threshold: float = 0.5
    phrase_min_count: int = 20

    @property
    def stop_words_uri(self) -> str | None:
        return self.stop_words if isinstance(self.stop_words, str) else None
    # Processing instances sharing the work (training.scale_out); 1 prepares on one (training.prepare).
    instance_count: int = 1


# CreateProcessingJob's ClusterConfig.InstanceCount is at most 100.
MAX_PREPARATION_INSTANCES = 100

SELECTION_RULES = ("combined", "loss", "coherence", "fixed")


@dataclass(frozen=True)
class SweepSettings:
    """How a run with several num_topics candidates picks the one it carries forward."""

    max_candidates: int = 8
    rule: str = "combined"
    fixed_num_topics: int | None = None


@dataclass(frozen=True)
class SimilaritySettings:
    """The similar-documents stage: SageMaker k-NN on every document's topic vector."""

    enabled: bool = True
    k: int = 10
    instance_type: str = "ml.m5.xlarge"
    deploy_endpoint: bool = False
    endpoint_instance_type: str = "ml.m4.xlarge"


@dataclass(frozen=True)
class RunSettings:
    num_topics: tuple[int, ...]
    hyperparameters: dict[str, Any]
    training: TrainingSettings
    deploy_endpoint: bool
    endpoint: EndpointSettings
    transform: Compute
    preparation: PreparationSettings = field(default_factory=PreparationSettings)
    sweep: SweepSettings = field(default_factory=SweepSettings)
    similar: SimilaritySettings = field(default_factory=SimilaritySettings)

    def serialize(self) -> str:
        """Compact JSON, as the deployed defaults travel to the Lambdas (an environment variable)."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def deserialize(cls, text: str) -> "RunSettings":
        data = json.loads(text)
        return cls(
            num_topics=tuple(data["num_topics"]),
            hyperparameters=dict(data["hyperparameters"]),
            training=TrainingSettings(**data["training"]),
            deploy_endpoint=data["deploy_endpoint"],
            endpoint=EndpointSettings(**data["endpoint"]),
            transform=Compute(**data["transform"]),
            preparation=PreparationSettings(**{**data["preparation"], "stop_words": _stop_words(data["preparation"]["stop_words"])}),
            sweep=SweepSettings(**data["sweep"]),
            similar=SimilaritySettings(**data["similar"]),
        )


@dataclass(frozen=True)
class RunRequest:
    """A validated execution input: where the data is, and the settings to use."""

    settings: RunSettings
    corpus_uri: str | None
    dataset_uri: str | None
    run_name: str | None


def _expect(path: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    # bool is an int in Python but never a valid number here, nor a number a valid bool.
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        raise RunInputError(f"{path}: expected {what}, got {value!r}")
    return value


def _int_in(path: str, value: Any, low: int, high: int) -> int:
    _expect(path, value, int, f"an integer from {low} to {high}")
    if not low <= value <= high:
        raise RunInputError(f"{path}: {value} is outside {low}..{high}")
    return value


def _fraction(path: str, value: Any, low: float, high: float) -> float:
    _expect(path, value, (int, float), f"a number from {low} to {high}")
    if not low <= value <= high:
        raise RunInputError(f"{path}: {value} is outside {low}..{high}")
    return float(value)


def _instance_type(path: str, value: Any) -> str:
    _expect(path, value, str, "a SageMaker instance type such as ml.m5.xlarge")
    if not INSTANCE_TYPE.match(value):
        raise RunInputError(f"{path}: {value!r} is not a SageMaker instance type (like ml.p3.2xlarge)")
    return value


def _object(path: str, value: Any, known: set[str]) -> dict[str, Any]:
    _expect(path, value, dict, "an object")
    unknown = sorted(set(value) - known)
    if unknown:
        raise RunInputError(f"{path}.{unknown[0]}: unknown field (allowed: {', '.join(sorted(known))})")
    return value


def _merge_compute(path: str, base: Compute, given: Any, max_count: int) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(base)}
    overrides = _object(path, given, names)
    merged = dataclasses.asdict(base) | overrides
    merged["instance_type"] = _instance_type(f"{path}.instance_type", merged["instance_type"])
    merged["instance_count"] = _int_in(f"{path}.instance_count", merged["instance_count"], 1, max_count)
    return merged


def _merge_training(base: TrainingSettings, given: Any) -> TrainingSettings:
    merged = _merge_compute("training", base, given, 20)
    _int_in("training.volume_size_gb", merged["volume_size_gb"], 1, 16384)
    # CreateTrainingJob's MaxRuntimeInSeconds is at most 28 days.
    _int_in("training.max_runtime_seconds", merged["max_runtime_seconds"], 60, 2_419_200)
    _check_spot(merged)
    return TrainingSettings(**merged)


def _check_spot(merged: dict[str, Any]) -> None:
    spot = _expect("training.spot", merged["spot"], bool, "true or false")
    wait = merged["max_wait_seconds"]
    if wait is not None:
        _int_in("training.max_wait_seconds", wait, 60, SPOT_MAX_WAIT_SECONDS)
        if not spot:
            raise RunInputError("training.max_wait_seconds: only with training.spot true "
                                "(CreateTrainingJob refuses MaxWaitTimeInSeconds without managed spot training)")
    if not spot:
        return
    runtime = merged["max_runtime_seconds"]
    if wait is not None and wait < runtime:
        raise RunInputError(f"training.max_wait_seconds: {wait} is less than training.max_runtime_seconds "
                            f"{runtime}; SageMaker requires MaxWaitTimeInSeconds >= MaxRuntimeInSeconds")
    if runtime > SPOT_MAX_WAIT_SECONDS:
        raise RunInputError(f"training.max_runtime_seconds: {runtime} is over {SPOT_MAX_WAIT_SECONDS} with "
                            "training.spot: NTM writes no checkpoints, and SageMaker limits such spot jobs to "
                            f"{SPOT_MAX_WAIT_SECONDS} s of waiting plus running; lower it or turn spot off")


# CloudWatch keeps hourly datapoints for 455 days: the idle check cannot look further back.
MAX_IDLE_HOURS = 24 * 455


def _merge_endpoint(base: EndpointSettings, given: Any) -> EndpointSettings:
    merged = _merge_compute("endpoint", base, given, 10)
    _int_in("endpoint.idle_hours", merged["idle_hours"], 0, MAX_IDLE_HOURS)
    check_update_policy(merged)
    return EndpointSettings(**merged)


def check_update_policy(endpoint: dict[str, Any]) -> None:
    """The blue/green update's limits, from botocore's model and the API reference (TrafficRoutingConfig)."""
    traffic = endpoint["update_traffic"]
    if traffic not in TRAFFIC_ROUTING:
        raise RunInputError(f"endpoint.update_traffic: {traffic!r} is not one of {', '.join(TRAFFIC_ROUTING)}")
    _int_in("endpoint.update_wait_seconds", endpoint["update_wait_seconds"], 0, 3600)
    _int_in("endpoint.update_baking_seconds", endpoint["update_baking_seconds"], 0, 3600)
    _int_in("endpoint.update_timeout_seconds", endpoint["update_timeout_seconds"], 600, 28_800)
    step = endpoint["update_step_percent"]
    if traffic == "CANARY":
        _int_in("endpoint.update_step_percent", step, 1, 50)  # at most 50% of the variant's instances
    elif traffic == "LINEAR":
        _int_in("endpoint.update_step_percent", step, 10, 50)  # 10-50% of the variant's instances
    else:
        _int_in("endpoint.update_step_percent", step, 1, 100)
    count = endpoint["instance_count"]
    if traffic != "ALL_AT_ONCE" and count < 2:
        # Half of one instance is no instance: a canary or a step needs a fleet it can be a part of.
        raise RunInputError(f"endpoint.update_traffic: {traffic} shifts traffic to part of the new fleet, and "
                            f"endpoint.instance_count {count} has no part to spare; use 2 or more instances, or ALL_AT_ONCE")


_STOP_WORD = re.compile(r"^[^\s,]{1,50}$")
# Listed stop words travel as the preparation job's arguments (at most 100 of 256 characters):
# longer lists go in a file.
MAX_LISTED_STOP_WORD_CHARACTERS = 10_000


def _stop_words(value: Any) -> tuple | str:
    """A list of single words, or the s3:// URI of a file of them (its bucket is checked later)."""
    if isinstance(value, str):
        if not re.fullmatch(r"s3://[^/]+/.*[^/]", value):
            raise RunInputError(f"preparation.stop_words: {value!r} is neither a list of words nor the s3:// URI of a file")
        return value
    _expect("preparation.stop_words", value, (list, tuple), "a list of words or an s3:// URI of a file of them")
    for position, word in enumerate(value):
        if not (isinstance(word, str) and _STOP_WORD.match(word)):
            raise RunInputError(f"preparation.stop_words[{position}]: {word!r} is not one word (no spaces or commas, at most 50 characters)")
    if sum(len(word) + 1 for word in value) > MAX_LISTED_STOP_WORD_CHARACTERS:
        raise RunInputError(f"preparation.stop_words: more than {MAX_LISTED_STOP_WORD_CHARACTERS:,} characters of words; "
                            "put them in a file under incoming/ (one a line) and give its s3:// URI")
    return tuple(sorted({word.lower() for word in value}))


def _merge_preparation(base: PreparationSettings, given: Any) -> PreparationSettings:
    merged = dataclasses.asdict(base) | _object("preparation", given, set(dataclasses.asdict(base)))
    _int_in("preparation.vocab_size", merged["vocab_size"], 2, 1_000_000)
    _int_in("preparation.min_df", merged["min_df"], 1, 1_000_000_000)
    _fraction("preparation.max_df", merged["max_df"], 0.0, 1.0)
    _int_in("preparation.min_tokens", merged["min_tokens"], 0, 1_000_000)
    _int_in("preparation.train_shards", merged["train_shards"], 1, 10_000)
    _fraction("preparation.validation_fraction", merged["validation_fraction"], 0.0, 0.5)
    _fraction("preparation.test_fraction", merged["test_fraction"], 0.0, 0.5)
    _int_in("preparation.seed", merged["seed"], 0, 2**31 - 1)
    for name in ("text_field", "id_field", "label_field"):
        _expect(f"preparation.{name}", merged[name], str, "a field name")
    for name in ("strip_headers", "clean_text", "default_stop_words", "phrases"):
        _expect(f"preparation.{name}", merged[name], bool, "true or false")
    merged["stop_words"] = _stop_words(merged["stop_words"])
    if _fraction("preparation.phrase_threshold", merged["phrase_threshold"], 0.0, 1.0) == 0:
        raise RunInputError("preparation.phrase_threshold: 0 is outside 0..1 exclusive of 0 (an NPMI of 0 is what chance gives)")
    _int_in("preparation.phrase_min_count", merged["phrase_min_count"], 1, 1_000_000_000)
    _int_in("preparation.instance_count", merged["instance_count"], 1, MAX_PREPARATION_INSTANCES)
    if merged["phrases"] and merged["instance_count"] > 1:
        # Phrases are chosen from the whole corpus' pair counts and then change every term count: on
        # several instances that needs two more rounds of jobs, which the scale-out path does not run.
        raise RunInputError(f"preparation.phrases: not available with preparation.instance_count {merged['instance_count']}; "
                            "prepare with instance_count 1 for phrases, or leave phrases off")
    if merged["validation_fraction"] + merged["test_fraction"] >= 0.9:
        raise RunInputError("preparation.validation_fraction: with test_fraction it leaves under 10% to train")
    return PreparationSettings(**merged)


def _merge_hyperparameters(base: dict[str, Any], given: Any) -> dict[str, Any]:
    overrides = _expect("hyperparameters", given, dict, "an object")
    merged = dict(base) | overrides
    if "num_topics" in merged:
        raise RunInputError("hyperparameters.num_topics: give num_topics at the top level of the input")
    try:
        return hyperparameters.validate_all(merged)
    except hyperparameters.HyperparameterError as error:
        raise RunInputError(f"hyperparameters.{error}") from None


def _merge_num_topics(given: Any, max_candidates: int) -> tuple[int, ...]:
    """One number, or a list of candidates to compare: validated, duplicates removed, sorted."""
    values = given if isinstance(given, (list, tuple)) else [given]
    if not values:
        raise RunInputError("num_topics: an empty list; give a number or a list of numbers")
    try:
        candidates = tuple(sorted({hyperparameters.validate("num_topics", value) for value in values}))
    except hyperparameters.HyperparameterError as error:
        raise RunInputError(str(error)) from None
    if len(candidates) > max_candidates:
        raise RunInputError(f"num_topics: {len(candidates)} candidates, at most {max_candidates} are allowed")
    return candidates


def _merge_selection(base: SweepSettings, given: Any, candidates: tuple[int, ...]) -> SweepSettings:
    """`selection` is a rule name, or a number of topics to keep whatever the measures say."""
    if given is None:
        given = base.fixed_num_topics if base.rule == "fixed" else base.rule
    if isinstance(given, int) and not isinstance(given, bool):
        rule, fixed = "fixed", given
    elif isinstance(given, str) and given in SELECTION_RULES and given != "fixed":
        rule, fixed = given, None
    else:
        raise RunInputError(f"selection: {given!r} is not one of combined, loss, coherence, or a number of topics")
    if rule == "fixed" and fixed not in candidates:
        raise RunInputError(f"selection: {fixed} is not one of the num_topics candidates {list(candidates)}")
    return SweepSettings(base.max_candidates, rule, fixed)


def _merge_similar(base: SimilaritySettings, given: Any) -> SimilaritySettings:
    merged = dataclasses.asdict(base) | _object("similar", given, set(dataclasses.asdict(base)))
    for name in ("enabled", "deploy_endpoint"):
        _expect(f"similar.{name}", merged[name], bool, "true or false")
    _int_in("similar.k", merged["k"], 1, 1000)
    _instance_type("similar.instance_type", merged["instance_type"])
    _instance_type("similar.endpoint_instance_type", merged["endpoint_instance_type"])
    return SimilaritySettings(**merged)


def merge_settings(defaults: RunSettings, overrides: dict[str, Any]) -> RunSettings:
    """Merge the input's overrides over the defaults and check every resulting value."""
    num_topics = _merge_num_topics(overrides.get("num_topics", defaults.num_topics), defaults.sweep.max_candidates)
    deploy = _expect("deploy_endpoint", overrides.get("deploy_endpoint", defaults.deploy_endpoint), bool, "true or false")
    return RunSettings(
        num_topics=num_topics,
        hyperparameters=_merge_hyperparameters(defaults.hyperparameters, overrides.get("hyperparameters", {})),
        training=_merge_training(defaults.training, overrides.get("training", {})),
        deploy_endpoint=deploy,
        endpoint=_merge_endpoint(defaults.endpoint, overrides.get("endpoint", {})),
        transform=Compute(**_merge_compute("transform", defaults.transform, overrides.get("transform", {}), 100)),
        preparation=_merge_preparation(defaults.preparation, overrides.get("preparation", {})),
        sweep=_merge_selection(defaults.sweep, overrides.get("selection"), num_topics),
        similar=_merge_similar(defaults.similar, overrides.get("similar", {})),
    )


#: Top-level fields of the execution input, each explained in schema/execution-input.schema.json.
INPUT_FIELDS = {
    "corpus", "dataset", "run_name", "num_topics", "selection", "hyperparameters", "training",
    "deploy_endpoint", "endpoint", "transform", "preparation", "source", "similar",
}
_RUN_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,39}$")


def _s3_location(path: str, value: Any, bucket: str, prefixes: tuple[str, ...]) -> str:
    _expect(path, value, str, f"an s3:// URI in bucket {bucket}")
    match = re.fullmatch(r"s3://([^/]+)/(.+)", value)
    if not match:
        raise RunInputError(f"{path}: {value!r} is not an s3://bucket/key URI")
    if match.group(1) != bucket:
        raise RunInputError(f"{path}: bucket {match.group(1)!r} is not this pipeline's data bucket {bucket!r}")
    if not match.group(2).startswith(prefixes):
        raise RunInputError(f"{path}: {value!r} must be under {' or '.join(prefixes)} in {bucket}")
    return value


def parse_request(raw: Any, defaults: RunSettings, data_bucket: str) -> RunRequest:
    """Validate an execution input; raise RunInputError naming the first bad field."""
    body = _object("input", raw, INPUT_FIELDS)
    if ("corpus" in body) == ("dataset" in body):
        raise RunInputError("corpus: give exactly one of corpus (raw documents) or dataset (a prepared dataset)")
    corpus = dataset = None
    if "corpus" in body:
        corpus = _s3_location("corpus", body["corpus"], data_bucket, ("incoming/",))
    else:
        dataset = _s3_location("dataset", body["dataset"], data_bucket, ("datasets/", "incoming/"))
        dataset = dataset if dataset.endswith("/") else dataset + "/"
    if "source" in body:
        _expect("source", body["source"], dict, "an object (set by the upload trigger)")
    settings = merge_settings(defaults, {key: value for key, value in body.items() if key not in ("corpus", "dataset", "run_name", "source")})
    if settings.preparation.stop_words_uri:
        # The preparation job reads it, and the job's role may read only incoming/ of the data bucket.
        _s3_location("preparation.stop_words", settings.preparation.stop_words_uri, data_bucket, ("incoming/",))
    run_name = body.get("run_name")
    if run_name is not None and not (isinstance(run_name, str) and _RUN_NAME.match(run_name)):
        raise RunInputError("run_name: up to 40 letters, digits and hyphens, starting with a letter or digit")
    instances = settings.preparation.instance_count
    if corpus is not None and instances > 1 and not corpus.endswith("/"):
        raise RunInputError(
            f"preparation.instance_count: {instances} instances share a corpus by its files, and {corpus} is one file; "
            "upload the corpus as a folder of many files with a _START marker (docs/starting-runs.md, "
            "'A folder of files'), or prepare it with instance_count 1"
        )
    return RunRequest(settings, corpus, dataset, run_name)
