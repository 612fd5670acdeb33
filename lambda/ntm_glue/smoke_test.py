"""After a deploy: ask the endpoint about a few of the run's own documents (raw text) and compare its
answers with what the batch transform gave the same documents.

The endpoint's preprocessing gives each document the very vector the transform read, and the
same NTM artifact answers both; NTM's inference is the encoder's output for that vector, so the
dominant topics should agree. The check still allows one document in five to differ (ties, and
a float32 path that may differ between a transform and an endpoint instance), and fails below that.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

AGREEMENT = 0.8
MAX_CAUSE = 30_000  # a Step Functions cause holds at most 32,768 characters


@dataclass(frozen=True)
class SmokeDocument:
    row: int  # its line in documents.jsonl and in the transform output
    id: object
    text: str


def parse_smoke_documents(body: str) -> list[SmokeDocument]:
    return [SmokeDocument(item["row"], item["id"], item["text"]) for item in map(json.loads, body.splitlines()) if item]


def dominant(weights: list[float]) -> int:
    return max(range(len(weights)), key=lambda topic: (weights[topic], -topic))


def _rounded(weights: list[float]) -> list[float]:
    return [round(float(w), 4) for w in weights]


def compare(documents: list[SmokeDocument], transform: list[list[float]], endpoint: list[list[float]]) -> dict[str, Any]:
    """{"passed", "agreed", "checked", "needed", "documents": [...], "cause"}."""
    needed = math.ceil(AGREEMENT * len(documents))
    rows = []
    for document, by_transform, by_endpoint in zip(documents, transform, endpoint):
        rows.append({"id": document.id, "transform_topic": dominant(by_transform), "endpoint_topic": dominant(by_endpoint),
                     "transform_weights": _rounded(by_transform), "endpoint_weights": _rounded(by_endpoint)})
    agreed = sum(row["transform_topic"] == row["endpoint_topic"] for row in rows)
    passed = len(endpoint) == len(documents) and agreed >= needed
    cause = (f"{agreed} of {len(documents)} documents have the same dominant topic from the endpoint as from the "
             f"batch transform ({needed} needed). " + json.dumps(rows, ensure_ascii=False))
    return {"passed": passed, "agreed": agreed, "checked": len(documents), "needed": needed,
            "documents": [{k: row[k] for k in ("id", "transform_topic", "endpoint_topic")} for row in rows],
            "cause": cause[:MAX_CAUSE]}


def failed_call(documents: list[SmokeDocument], transform: list[list[float]], error: str) -> dict[str, Any]:
    """The endpoint did not answer: the run fails with the error and the transform's answers."""
    answers = [{"id": d.id, "transform_topic": dominant(w), "transform_weights": _rounded(w)} for d, w in zip(documents, transform)]
    cause = f"the endpoint did not answer the smoke test: {error}. The batch transform's answers: " + json.dumps(answers)
    return {"passed": False, "agreed": 0, "checked": len(documents), "needed": math.ceil(AGREEMENT * len(documents)),
            "documents": [], "cause": cause[:MAX_CAUSE]}
