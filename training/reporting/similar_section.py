"""The report's "Similar documents" section: for a few documents of each topic, the documents the
similarity stage found most like them (neighbours.jsonl, training.similarity), with titles and
distances, and where the neighbours file is.

Page data key `similar` (docs/design.md, section 9): `{"location", "per_topic", "topics": [{"topic",
"examples": [{"id", "title", "neighbours": [{"id", "title", "distance"}]}]}]}`; the examples of a
topic are its most representative documents. `page/similar.js` draws the selected topic's examples.
"""

from __future__ import annotations

import html
from typing import Any, Optional

import numpy as np

from training.reporting import analysis
from training.reporting.analysis import TopicReport

EXAMPLES_PER_TOPIC = 3
NEIGHBOURS_SHOWN = 5


def similar_data(report: TopicReport, neighbours: dict[str, list[dict]], location: Optional[str]) -> dict[str, Any]:
    documents = report.inputs.documents
    titles = {str(document.get("id", row)): str(document.get("title") or "") for row, document in enumerate(documents)}
    representatives = analysis.representative_documents(report.shares, EXAMPLES_PER_TOPIC)
    topics = []
    for topic in range(report.num_topics):
        examples = []
        for row in np.asarray(representatives[topic]).tolist():
            document_id = str(documents[row].get("id", row))
            found = neighbours.get(document_id, [])[:NEIGHBOURS_SHOWN]
            examples.append({"id": document_id, "title": titles.get(document_id, ""), "neighbours": [
                {"id": str(n["id"]), "title": titles.get(str(n["id"]), ""), "distance": round(float(n["distance"]), 4)}
                for n in found]})
        topics.append({"topic": topic, "examples": examples})
    return {"location": location, "per_topic": EXAMPLES_PER_TOPIC, "topics": topics}


def _name(document: dict) -> str:
    return html.escape(document["title"] or document["id"])


def section_html(data: Optional[dict[str, Any]], report: TopicReport) -> str:
    """The section as plain tables (readable without JavaScript) and the node page/similar.js fills."""
    if data is None:
        return ("<section id=similar><h2>Similar documents</h2><p>Not computed for this run "
                "(similar.enabled was false).</p></section>")
    rows = []
    for entry in data["topics"]:
        for example in entry["examples"]:
            alike = "; ".join(f"{_name(n)} <span class=doc-meta>({n['distance']:.4f})</span>"
                              for n in example["neighbours"]) or "(none)"
            rows.append(f"<tr data-topic={entry['topic']}><td class=number>{entry['topic']}</td>"
                        f"<td>{_name(example)}</td><td>{alike}</td></tr>")
    location = html.escape(data["location"] or "neighbours.jsonl")
    return (f"<section id=similar><h2>Similar documents</h2><p>For the {data['per_topic']} most representative "
            f"documents of each topic, the documents nearest to them in topic space (SageMaker k-NN, cosine "
            f"distance, nearest first). Every document's neighbours: <code>{location}</code>.</p>"
            f"<div data-section=similar-documents></div>"
            f"<table id=similar-table><tr><th>Topic</th><th>Document</th><th>Most similar documents (distance)</th></tr>"
            f"{''.join(rows)}</table></section>")
