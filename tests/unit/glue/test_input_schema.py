"""schema/execution-input.schema.json says what Resolve run (run_input.parse_request) accepts.

Both judge every example here and must agree, apart from the differences pinned at the end:
what JSON Schema cannot see (the deployment's bucket, a sum of two fields, 2.0 as an integer)
and the string forms Resolve run also takes where the schema asks for the JSON type.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft202012Validator
from ntm_glue import hyperparameters
from ntm_glue.run_input import (
    INPUT_FIELDS,
    Compute,
    EndpointSettings,
    PreparationSettings,
    RunInputError,
    SimilaritySettings,
    TrainingSettings,
    parse_request,
)

from stacks.config import PipelineConfig

REPO = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO / "schema" / "execution-input.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
BUCKET = "data-bucket"
DEFAULTS = PipelineConfig().run_defaults()
CORPUS = f"s3://{BUCKET}/incoming/news.jsonl.gz"
FOLDER_CORPUS = f"s3://{BUCKET}/incoming/news/"


def schema_accepts(document: Any) -> bool:
    return VALIDATOR.is_valid(document)


def resolve_run_accepts(document: Any) -> bool:
    try:
        parse_request(document, DEFAULTS, BUCKET)
    except RunInputError:
        return False
    return True


def json_blocks(markdown: str, heading: str) -> list[Any]:
    """The ```json blocks of the section under `heading`, up to the next heading of its level or above."""
    level = heading.split(" ", 1)[0]
    start = markdown.index(f"\n{heading}\n")
    rest = markdown[start + len(heading) + 2:]
    following = re.search(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)
    section = rest[: following.start()] if following else rest
    blocks = re.findall(r"```json\n(.*?)```", section, re.DOTALL)
    return [json.loads(block.replace("<DataBucketName>", BUCKET)) for block in blocks]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_schema_has_exactly_the_validators_fields():
    properties = SCHEMA["properties"]
    assert set(properties) == INPUT_FIELDS
    assert set(properties["hyperparameters"]["properties"]) == set(hyperparameters.RULES) - {"num_topics"}
    assert set(properties["training"]["properties"]) == {f.name for f in dataclasses.fields(TrainingSettings)}
    assert set(properties["transform"]["properties"]) == {f.name for f in dataclasses.fields(Compute)}
    assert set(properties["endpoint"]["properties"]) == {f.name for f in dataclasses.fields(EndpointSettings)}
    assert set(properties["preparation"]["properties"]) == {f.name for f in dataclasses.fields(PreparationSettings)}
    assert set(properties["similar"]["properties"]) == {f.name for f in dataclasses.fields(SimilaritySettings)}
    objects = [SCHEMA] + [node for node in properties.values() if node.get("type") == "object"]
    assert all(node["additionalProperties"] is False for node in objects)
    (_, candidates) = properties["num_topics"]["oneOf"]
    assert candidates["maxItems"] == DEFAULTS.sweep.max_candidates


@pytest.mark.parametrize("heading, path", [
    ("## Starting a run from the console", REPO / "README.md"),
    ("## Starting a run from the console", REPO / "docs" / "starting-runs.md"),
])
def test_documented_console_examples_are_valid(heading, path):
    examples = json_blocks(path.read_text(), heading)
    assert len(examples) >= 2, f"expected the examples under {heading!r} in {path.name}"
    for example in examples:
        assert schema_accepts(example), example
        assert resolve_run_accepts(example), example


VALID = [
    {"corpus": CORPUS},
    {"corpus": f"s3://{BUCKET}/incoming/20news/"},
    {"dataset": f"s3://{BUCKET}/datasets/news/"},
    {"dataset": f"s3://{BUCKET}/incoming/prepared/news"},
    {"corpus": CORPUS, "run_name": "a", "num_topics": 2},
    {"corpus": CORPUS, "num_topics": 1000},
    {"corpus": CORPUS, "num_topics": [2, 1000]},
    {"corpus": CORPUS, "num_topics": [10, 20, 30, 40, 50, 60, 70, 80]},
    {"corpus": CORPUS, "num_topics": [10, 20], "selection": "coherence"},
    {"corpus": CORPUS, "num_topics": [10, 20], "selection": 20},
    {"corpus": CORPUS, "run_name": "news--k20-" + "9" * 30},
    {"corpus": CORPUS, "num_topics": 20.0},
    {"corpus": CORPUS, "hyperparameters": {"epochs": 10, "optimizer": "adam", "batch_norm": True,
                                           "encoder_layers": "300,100", "sub_sample": 0.5}},
    {"corpus": CORPUS, "training": {"instance_type": "ml.g5.12xlarge", "instance_count": 4}},
    {"corpus": CORPUS, "training": {"spot": True, "max_runtime_seconds": 3000}},
    {"corpus": CORPUS, "training": {"spot": True, "max_runtime_seconds": 1800, "max_wait_seconds": 3600}},
    {"corpus": CORPUS, "training": {"spot": False}},
    {"corpus": CORPUS, "endpoint": {"instance_type": "ml.t2.medium"}, "transform": {"instance_count": 3}},
    {"corpus": CORPUS, "deploy_endpoint": False},
    {"corpus": CORPUS, "endpoint": {"idle_hours": 0}},
    {"corpus": CORPUS, "endpoint": {"instance_count": 2, "update_traffic": "CANARY", "update_step_percent": 50,
                                    "update_baking_seconds": 600}},
    {"corpus": CORPUS, "endpoint": {"instance_count": 4, "update_traffic": "LINEAR", "update_step_percent": 25,
                                    "update_wait_seconds": 120, "update_timeout_seconds": 1800}},
    {"corpus": CORPUS, "preparation": {"vocab_size": 5000, "text_field": "body", "strip_headers": True}},
    {"corpus": CORPUS, "similar": {"enabled": True, "k": 5, "instance_type": "ml.c5.xlarge", "deploy_endpoint": True}},
    {"corpus": CORPUS, "preparation": {"stop_words": ["Subject", "writes", "re:"], "default_stop_words": False}},
    {"corpus": CORPUS, "preparation": {"stop_words": [], "clean_text": False}},
    {"corpus": CORPUS, "preparation": {"stop_words": f"s3://{BUCKET}/incoming/lists/stop words.txt"}},
    {"corpus": CORPUS, "preparation": {"phrases": True, "phrase_threshold": 1, "phrase_min_count": 5}},
    {"corpus": CORPUS, "preparation": {"instance_count": 1}},
    {"corpus": FOLDER_CORPUS, "preparation": {"instance_count": 4}},
    {"dataset": f"s3://{BUCKET}/datasets/news", "preparation": {"instance_count": 4}},
    {"corpus": FOLDER_CORPUS, "preparation": {"instance_count": 4, "stop_words": ["writes"], "clean_text": True}},
    {"corpus": FOLDER_CORPUS, "preparation": {"instance_count": 2, "phrases": False}},
    {"corpus": CORPUS, "source": {"bucket": BUCKET, "key": "incoming/news.jsonl.gz", "version_id": "3HL4kqtJ",
                                  "sequencer": "0055AED6DCD90281E5"}},
]
INVALID = [
    [],
    {},
    {"corpus": CORPUS, "dataset": f"s3://{BUCKET}/datasets/news/"},
    {"corpus": f"s3://{BUCKET}/datasets/news/"},
    {"corpus": f"{BUCKET}/incoming/news.jsonl"},
    {"dataset": f"s3://{BUCKET}/runs/x/"},
    {"corpus": CORPUS, "colour": "blue"},
    {"corpus": CORPUS, "run_name": "has spaces"},
    {"corpus": CORPUS, "run_name": "-leading"},
    {"corpus": CORPUS, "run_name": "x" * 41},
    {"corpus": CORPUS, "num_topics": True},
    {"corpus": CORPUS, "num_topics": 2.5},
    {"corpus": CORPUS, "num_topics": 1},
    {"corpus": CORPUS, "num_topics": 1001},
    {"corpus": CORPUS, "num_topics": []},
    {"corpus": CORPUS, "num_topics": [10, 1]},
    {"corpus": CORPUS, "num_topics": [10, 20, 30, 40, 50, 60, 70, 80, 90]},
    {"corpus": CORPUS, "num_topics": [10, 20], "selection": "fixed"},
    {"corpus": CORPUS, "num_topics": [10, 20], "selection": "best"},
    {"corpus": CORPUS, "num_topics": [10, 20], "selection": True},
    {"corpus": CORPUS, "hyperparameters": {"feature_dim": 100}},
    {"corpus": CORPUS, "hyperparameters": {"num_topics": 10}},
    {"corpus": CORPUS, "hyperparameters": {"epoch": 10}},
    {"corpus": CORPUS, "hyperparameters": {"encoder_layers": "300,,100"}},
    {"corpus": CORPUS, "hyperparameters": []},
    {"corpus": CORPUS, "training": {"instance_type": "p3.2xlarge"}},
    {"corpus": CORPUS, "training": {"instance_count": "2"}},
    {"corpus": CORPUS, "training": {"gpus": 2}},
    {"corpus": CORPUS, "training": {"spot": "yes", "max_runtime_seconds": 3000}},
    {"corpus": CORPUS, "training": {"max_wait_seconds": 3600}},  # without spot
    {"corpus": CORPUS, "training": {"spot": False, "max_wait_seconds": 3600}},
    {"corpus": CORPUS, "training": {"spot": True, "max_runtime_seconds": 7200}},  # NTM: no checkpoints, 1 h at most
    {"corpus": CORPUS, "training": None},
    {"corpus": CORPUS, "endpoint": {"instance_type": "ml.m4"}},
    {"corpus": CORPUS, "deploy_endpoint": "yes"},
    {"corpus": CORPUS, "endpoint": {"update_traffic": "canary"}},
    {"corpus": CORPUS, "endpoint": {"update_timeout_seconds": 300}},
    {"corpus": CORPUS, "endpoint": {"idle_hours": -1}},
    {"corpus": CORPUS, "preparation": {"strip_headers": 1}},
    {"corpus": CORPUS, "preparation": {"text_field": 5}},
    {"corpus": CORPUS, "similar": {"enabled": "no"}},
    {"corpus": CORPUS, "similar": {"neighbours": 5}},
    {"corpus": CORPUS, "similar": {"endpoint_instance_type": "m5.large"}},
    {"corpus": CORPUS, "preparation": {"stop_words": ["two words"]}},
    {"corpus": CORPUS, "preparation": {"stop_words": ["a,b"]}},
    {"corpus": CORPUS, "preparation": {"stop_words": [""]}},
    {"corpus": CORPUS, "preparation": {"stop_words": "the"}},
    {"corpus": CORPUS, "preparation": {"stop_words": f"s3://{BUCKET}/incoming/lists/"}},
    {"corpus": CORPUS, "preparation": {"stop_words": f"s3://{BUCKET}/datasets/stop.txt"}},
    {"corpus": CORPUS, "preparation": {"stop_words": [1, 2]}},
    {"corpus": CORPUS, "preparation": {"stop_words": ["x"] * 5001}},
    {"corpus": CORPUS, "preparation": {"default_stop_words": "no"}},
    {"corpus": CORPUS, "preparation": {"phrases": 1}},
    {"corpus": CORPUS, "preparation": {"phrase_threshold": True}},
    {"corpus": CORPUS, "preparation": {"instance_count": 2}},
    {"corpus": FOLDER_CORPUS, "preparation": {"instance_count": 2, "phrases": True}},
]


@pytest.mark.parametrize("document", VALID, ids=lambda d: json.dumps(d)[:60])
def test_valid_examples_pass_both(document):
    assert (schema_accepts(document), resolve_run_accepts(document)) == (True, True)


@pytest.mark.parametrize("document", INVALID, ids=lambda d: json.dumps(d)[:60])
def test_invalid_examples_fail_both(document):
    assert (schema_accepts(document), resolve_run_accepts(document)) == (False, False)


def _resolve(node: dict) -> dict:
    return SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node


def leaves(node: dict = SCHEMA, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every field of the input that holds a value, with its schema."""
    for name, child in node.get("properties", {}).items():
        child = _resolve(child)
        if child.get("type") == "object" and name != "source":
            yield from leaves(child, path + (name,))
        elif name != "source":
            yield path + (name,), child


# Fields valid only alongside others: their bounds are tested with those set.
COMPANIONS: dict[tuple[str, ...], dict[str, Any]] = {
    ("training", "max_wait_seconds"): {"spot": True, "max_runtime_seconds": 60},
    ("endpoint", "update_traffic"): {"instance_count": 2},  # a canary or a step is part of a fleet
}


def with_value(path: tuple[str, ...], value: Any) -> dict:
    # Several preparation instances need a folder corpus: their bounds are checked on one.
    document: dict = {"corpus": FOLDER_CORPUS if path == ("preparation", "instance_count") else CORPUS}
    inner = document
    for name in path[:-1]:
        inner = inner.setdefault(name, {})
    inner.update(COMPANIONS.get(path, {}))
    inner[path[-1]] = value
    return document


def boundary_cases() -> Iterator[tuple[str, Any, bool]]:
    """Each numeric field at, just inside and just outside its bounds, as the schema states them."""
    for path, node in leaves():
        kind = node.get("type")
        if kind not in ("integer", "number"):
            continue
        step = (lambda v, d: v + d) if kind == "integer" else (lambda v, d: math.nextafter(v, d * math.inf))
        if "minimum" in node:
            yield ".".join(path), (path, node["minimum"]), True
            yield ".".join(path), (path, step(node["minimum"], -1)), False
        if "exclusiveMinimum" in node:
            yield ".".join(path), (path, node["exclusiveMinimum"]), False
            yield ".".join(path), (path, step(node["exclusiveMinimum"], 1)), True
        if "maximum" in node:
            yield ".".join(path), (path, node["maximum"]), True
            yield ".".join(path), (path, step(node["maximum"], 1)), False


@pytest.mark.parametrize("field, case, valid", list(boundary_cases()), ids=lambda v: str(v)[:40])
def test_numeric_bounds_are_the_validators(field, case, valid):
    document = with_value(*case)
    assert (schema_accepts(document), resolve_run_accepts(document)) == (valid, valid), document


def test_every_enum_value_and_only_those():
    enums = [(path, node["enum"]) for path, node in leaves() if "enum" in node]
    assert enums, "the schema lists the choice hyperparameters"
    for path, values in enums:
        for value in values:
            assert (schema_accepts(with_value(path, value)), resolve_run_accepts(with_value(path, value))) == (True, True)
        assert (schema_accepts(with_value(path, "other")), resolve_run_accepts(with_value(path, "other"))) == (False, False)


# Where the two differ, on purpose or because JSON Schema cannot say it. A change on either side fails here.
SCHEMA_CANNOT_SEE = [
    {"corpus": "s3://another-bucket/incoming/news.jsonl"},  # the bucket is the deployment's
    {"corpus": CORPUS, "preparation": {"validation_fraction": 0.45, "test_fraction": 0.45}},  # their sum
    {"corpus": CORPUS, "training": {"instance_count": 2.0}},  # 2.0 is an integer to JSON Schema
    {"corpus": CORPUS, "num_topics": [10, 20], "selection": 30},  # one of the candidates
    {"corpus": CORPUS, "num_topics": [10, 20], "selection": 20.0},
    {"corpus": CORPUS, "training": {"spot": True}},  # the deployed max_runtime_seconds (a day) is too long for spot
    {"corpus": CORPUS, "training": {"spot": True, "max_runtime_seconds": 3000, "max_wait_seconds": 2000}},  # wait < runtime
    {"corpus": CORPUS, "preparation": {"stop_words": "s3://another-bucket/incoming/stop.txt"}},
    # Blue/green limits that depend on each other (API reference, TrafficRoutingConfig).
    {"corpus": CORPUS, "endpoint": {"update_traffic": "CANARY"}},  # one instance has no part to spare
    {"corpus": CORPUS, "endpoint": {"instance_count": 2, "update_traffic": "CANARY", "update_step_percent": 60}},
    {"corpus": CORPUS, "endpoint": {"instance_count": 2, "update_traffic": "LINEAR", "update_step_percent": 5}},
    {"corpus": CORPUS, "endpoint": {"instance_count": 2, "update_traffic": "LINEAR", "update_step_percent": 75}},
    {"corpus": CORPUS, "preparation": {"stop_words": ["w" * 30 + str(n) for n in range(400)]}},  # 12,400 characters
]
RESOLVE_RUN_ALSO_TAKES = [
    {"corpus": CORPUS, "hyperparameters": {"epochs": "50"}},  # numbers typed as strings
    {"corpus": CORPUS, "hyperparameters": {"batch_norm": "true"}},
    {"corpus": CORPUS, "hyperparameters": {"optimizer": " adam "}},
    {"corpus": CORPUS, "run_name": None},
    {"corpus": CORPUS, "selection": None},
    {"corpus": CORPUS, "num_topics": [10] * 9},  # duplicates count once
]


@pytest.mark.parametrize("document", SCHEMA_CANNOT_SEE, ids=lambda d: json.dumps(d)[:60])
def test_what_only_resolve_run_rejects(document):
    assert (schema_accepts(document), resolve_run_accepts(document)) == (True, False)


@pytest.mark.parametrize("document", RESOLVE_RUN_ALSO_TAKES, ids=lambda d: json.dumps(d)[:60])
def test_what_only_resolve_run_accepts(document):
    assert (schema_accepts(document), resolve_run_accepts(document)) == (False, True)


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def allowed(node: dict) -> str:
    node = _resolve(node)
    if "oneOf" in node:
        return ", or ".join(allowed(alternative) for alternative in node["oneOf"])
    if "enum" in node:
        return "one of " + ", ".join(f"`{value}`" for value in node["enum"])
    kind = node["type"]
    if kind == "boolean":
        return "`true` or `false`"
    if kind in ("integer", "number"):
        low = f"> {_number(node['exclusiveMinimum'])}" if "exclusiveMinimum" in node else f">= {_number(node['minimum'])}"
        high = f" and <= {_number(node['maximum'])}" if "maximum" in node else ""
        return f"{'an integer' if kind == 'integer' else 'a number'} {low}{high}"
    if kind == "array":
        items = node["items"]
        what = "of those" if "$ref" in items else f"texts matching `{items['pattern']}`"
        return f"a list of {node['minItems']} to {_number(node['maxItems'])} {what}"
    return f"text matching `{node['pattern']}`" if "pattern" in node else "text"


def field_table() -> str:
    """The field reference of docs/starting-runs.md, rendered from the schema."""
    rows = ["| field | accepts | meaning |", "|---|---|---|"]
    for path, node in leaves():
        cells = (f"`{'.'.join(path)}`", allowed(node), node.get("description", ""))
        # A pipe inside a cell, even in code, ends the cell unless escaped.
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def test_the_doc_renders_every_field_of_the_schema():
    doc = (REPO / "docs" / "starting-runs.md").read_text()
    assert field_table() in doc, "docs/starting-runs.md's field table is out of date; replace it with:\n" + field_table()
