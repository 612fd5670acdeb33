"""The report's data as one JSON document, embedded in report.html for the page's script to read.

Every interactive section of the page reads its part of this one object (`REPORT_DATA` in
page/report.js): a new section adds a key here and a renderer there. Documents are listed once,
column by column, and referred to by their position in `documents`; only the documents some view
shows are included (the map's sample and each topic's representative documents), which keeps the
page small on large corpora.
"""

from __future__ import annotations

import json
import math
from typing import Any, Optional

import numpy as np

from training.reporting import analysis
from training.reporting.analysis import TopicReport

FORMAT_VERSION = 1
DIGITS = 4  # coordinates and shares are rounded: the page draws them, it does not compute with them


def _rounded(values: np.ndarray, digits: int = DIGITS) -> list:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def _title(document: dict) -> str:
    title = document.get("title")
    return str(title) if title else ""


def _documents(report: TopicReport, rows: np.ndarray) -> dict[str, Any]:
    documents = report.inputs.documents
    tops = analysis.top_topics(report.shares[rows], analysis.TOP_TOPICS)
    return {
        "row": rows.tolist(),  # position in documents.jsonl and document_topics.csv
        "id": [str(documents[row].get("id", row)) for row in rows],
        "title": [_title(documents[row]) for row in rows],
        "label": [report.labels[row] for row in rows] if report.labels is not None else None,
        "top_topics": tops.tolist(),
        "top_shares": _rounded(np.take_along_axis(report.shares[rows], tops, axis=1), 3),
    }


def _topics(report: TopicReport, positions: dict[int, int], representatives: np.ndarray) -> list[dict]:
    coordinates = analysis.intertopic_map(report)
    log_topic = np.log(np.maximum(report.word_distributions, 1e-300))
    log_corpus = np.log(np.maximum(report.corpus_word_shares, 1e-300))
    vocabulary = report.inputs.vocabulary
    topics = []
    for topic, candidates in enumerate(analysis.relevance_candidates(report)):
        topics.append({
            "topic": topic,
            "name": " ".join(report.words(topic)[:3]),
            "top_words": report.words(topic),
            "prevalence": round(float(report.prevalence[topic]), 5),
            "dominant_share": round(float(report.dominant_share[topic]), 5),
            "coherence": round(float(report.coherence[topic]), 4),
            "uniqueness": round(float(report.uniqueness[topic]), 4),
            "x": round(float(coordinates[topic, 0]), 5),
            "y": round(float(coordinates[topic, 1]), 5),
            # Relevance candidates: the page ranks them for any lambda.
            "terms": [vocabulary[index] for index in candidates],
            "log_topic": _rounded(log_topic[topic, candidates]),
            "log_corpus": _rounded(log_corpus[candidates]),
            "documents": [positions[int(row)] for row in representatives[topic]],
            "document_shares": _rounded(report.shares[representatives[topic], topic], 3),
        })
    return topics


def page_data(report: TopicReport, summary: dict, parameters: dict, map_rows: np.ndarray, map_coordinates: np.ndarray,
              colour_by: str, groups: list[str], group_of: np.ndarray, comparison: Optional[dict]) -> dict[str, Any]:
    """Everything the page shows, as plain JSON values."""
    representatives = analysis.representative_documents(report.shares, analysis.REPRESENTATIVE_DOCUMENTS)
    rows = np.union1d(map_rows, representatives.ravel()).astype(np.int64)
    positions = {int(row): position for position, row in enumerate(rows)}
    return {
        "format_version": FORMAT_VERSION,
        "summary": summary,
        "parameters": parameters,
        "relevance_lambdas": analysis.RELEVANCE_LAMBDAS.tolist(),
        "topics": _topics(report, positions, representatives),
        "documents": _documents(report, rows),
        "map": {
            "documents": [positions[int(row)] for row in map_rows],
            "x": _rounded(map_coordinates[:, 0], 3),
            "y": _rounded(map_coordinates[:, 1], 3),
            "colour_by": colour_by,
            "groups": groups,
            "group": group_of.tolist(),
            "total_documents": len(report.inputs.documents),
        },
        "comparison": comparison,
    }


def _finite(value: Any) -> Any:
    """The value with every NaN or infinity as null: JSON.parse knows no NaN."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def embedded_json(data: dict) -> str:
    """JSON that is safe inside a <script> element: no "</script>" or "<!--" can end it early."""
    text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c")
