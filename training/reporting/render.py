"""The HTML page of the topic report (see training.report), and its optional PNG pictures.

report.html is one self-contained file: tables rendered here, the interactive views drawn in the
browser by page/report.js (this project's own SVG code, inlined) from one JSON object of report
data (training.reporting.page_data). It needs no network and no library at run time.
matplotlib is optional: no SageMaker scikit-learn image has it; when it happens to be importable,
tsne.png and topic_words.png are also written for people who want pictures.
"""

from __future__ import annotations

import html
import io
import json
import math
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from training.common.plotting import load_pyplot
from training.evaluation import topic_metrics
from training.evaluation.candidate_selection import MEASURES, TRAINED
from training.reporting import analysis, page_data
from training.reporting.analysis import TopicReport

# Documents drawn on the map (a seeded random sample beyond it): t-SNE's time grows faster than
# the documents, and a few thousand points show the structure as well as all of them.
MAP_MAX_DOCUMENTS = 2000
# matplotlib's tab20 without its greys (kept for OTHERS), dark shades first so that neighbouring
# groups differ clearly, plus two tab20b colours: 20 distinct colours.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
    "#393b79", "#637939",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
)
LEGEND_LIMIT = len(PALETTE)  # more groups would not be told apart at a glance
OTHERS = "all others"
OTHERS_COLOUR = "#d0d0d0"
WORD_CHART_COLUMNS = 4


@dataclass
class Plots:
    images: dict[str, bytes] = field(default_factory=dict)  # file name -> PNG
    skipped_reason: str | None = None


@dataclass(frozen=True)
class DocumentMap:
    """The documents drawn on the map: rows of documents.jsonl, 2-D t-SNE coordinates, colour groups."""

    rows: np.ndarray
    coordinates: np.ndarray
    colour_by: str  # "label" or "dominant topic"
    groups: list[str]
    group_of: np.ndarray  # per drawn document, its index into groups
    cap: int


def document_map(report: TopicReport, max_documents: int = MAP_MAX_DOCUMENTS) -> DocumentMap:
    rows, coordinates = analysis.tsne_embedding(report.shares, max_documents)
    if report.labels is not None:
        colour_by = "label"
        values = [report.labels[row] for row in rows]
    else:
        colour_by = "dominant topic"
        values = [f"topic {k}: {' '.join(report.words(k)[:3])}" for k in report.dominant[rows]]
    group_of, groups = colour_groups(values, LEGEND_LIMIT)
    return DocumentMap(rows, coordinates, colour_by, groups, group_of, max_documents)


def colour_groups(values: list[str], limit: int) -> tuple[np.ndarray, list[str]]:
    """Group codes for `values`: the most common first, at most `limit` groups, the rarest merged into OTHERS."""
    names, inverse, counts = np.unique(np.asarray(values, dtype=str), return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    kept = order if len(names) <= limit else order[: limit - 1]
    rank = np.full(len(names), len(kept))
    rank[kept] = np.arange(len(kept))
    group_names = [str(names[index]) for index in kept] + ([OTHERS] if len(kept) < len(names) else [])
    return rank[inverse.ravel()], group_names


def _png(pyplot: Any, figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    pyplot.close(figure)
    return buffer.getvalue()


def _tsne_png(pyplot: Any, report: TopicReport, shown: DocumentMap) -> bytes:
    figure, axes = pyplot.subplots(figsize=(11, 8))
    coords = shown.coordinates
    for code, name in enumerate(shown.groups):
        members = shown.group_of == code
        colour = OTHERS_COLOUR if name == OTHERS else PALETTE[code]
        axes.scatter(coords[members, 0], coords[members, 1], s=9, color=colour, alpha=0.8, linewidths=0,
                     label=f"{name} ({members.sum()})")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, markerscale=2, frameon=False,
                title=shown.colour_by.capitalize())
    total = len(report.inputs.documents)
    drawn = len(shown.rows)
    caption = f"random sample of {drawn} of {total} documents" if drawn < total else f"{total} documents"
    axes.set_title(f"t-SNE of the documents' topic vectors, coloured by {shown.colour_by}\n({caption})")
    axes.set_xticks([])
    axes.set_yticks([])
    return _png(pyplot, figure)


def _topic_words_png(pyplot: Any, report: TopicReport) -> bytes:
    topics, words_per_topic = report.top_indices.shape
    columns = min(WORD_CHART_COLUMNS, topics)
    rows = math.ceil(topics / columns)
    height = (0.22 * words_per_topic + 0.7) * rows + 0.6  # inches; 0.6 for the title
    figure, grid = pyplot.subplots(rows, columns, squeeze=False, figsize=(3.8 * columns, height))
    positions = np.arange(words_per_topic)
    for topic, axes in enumerate(grid.flat):
        if topic >= topics:
            axes.axis("off")
            continue
        axes.barh(positions, report.top_weights[topic][::-1], color=PALETTE[topic % len(PALETTE)])
        axes.set_yticks(positions)
        axes.set_yticklabels(report.words(topic)[::-1], fontsize=8)
        axes.tick_params(axis="x", labelsize=7)
        axes.set_title(f"Topic {topic} ({report.prevalence[topic]:.1%} of all weight)", fontsize=9)
    figure.suptitle("Top words per topic (word weight = softmax of the decoder column)", fontsize=12)
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.6 / height))
    return _png(pyplot, figure)


def render_plots(report: TopicReport, shown: DocumentMap) -> Plots:
    """The PNG pictures, when matplotlib is importable here (never installed for them)."""
    try:
        pyplot = load_pyplot()
    except ImportError as error:
        return Plots(skipped_reason=f"matplotlib is not installed here ({error}); the page does not need it")
    images = {
        "tsne.png": _tsne_png(pyplot, report, shown),
        "topic_words.png": _topic_words_png(pyplot, report),
    }
    return Plots(images=images)


def _escape(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(value if isinstance(value, str) else json.dumps(value))


def _key_value_table(pairs: dict) -> str:
    rows = "".join(f"<tr><th>{_escape(str(key))}</th><td><code>{_escape(value)}</code></td></tr>"
                   for key, value in pairs.items())
    return f"<table>{rows}</table>"


def _topics_table(report: TopicReport) -> str:
    header = ("<tr><th>Topic</th><th>Top words (by P(word | topic))</th><th>Prevalence</th><th>Dominant in</th>"
              "<th>Coherence (NPMI)</th><th>Uniqueness</th></tr>")
    rows = "".join(
        f"<tr><td class=number>{topic}</td><td>{html.escape(' '.join(report.words(topic)))}</td>"
        f"<td class=number>{report.prevalence[topic]:.1%}</td><td class=number>{report.dominant_share[topic]:.1%}</td>"
        f"<td class=number>{report.coherence[topic]:.3f}</td><td class=number>{report.uniqueness[topic]:.3f}</td></tr>"
        for topic in range(report.num_topics)
    )
    return f"<h3>All topics</h3><table id=topics-table>{header}{rows}</table>"


def _overlap_table(report: TopicReport) -> str:
    names, counts = topic_metrics.label_topic_counts(report.labels, report.dominant, report.num_topics)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    header = "<tr><th>Label \\ dominant topic</th>" + "".join(f"<th>{k}</th>" for k in range(report.num_topics))
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th>"
        + "".join(f'<td class=number style="background: rgba(31,119,180,{0.7 * share:.2f})">{count}</td>'
                  for count, share in zip(counts[row], shares[row]))
        + "</tr>"
        for row, name in enumerate(names)
    )
    return (f"<h2>Labels vs topics</h2><p>Documents per label and dominant topic; shading = share of the label's "
            f"documents. Purity {topic_metrics.purity(counts):.3f}.</p>"
            f"<div class=scroll><table>{header}</tr>{rows}</table></div>")


def _pictures_section(plots: Plots) -> str:
    if plots.skipped_reason:
        return f"<h2>Pictures</h2><p class=note>No PNG pictures: {html.escape(plots.skipped_reason)}.</p>"
    names = ", ".join(f"<a href='{html.escape(name)}'>{html.escape(name)}</a>" for name in sorted(plots.images))
    return f"<h2>Pictures</h2><p>PNG pictures of the map and the top words lie beside this page: {names}.</p>"


@dataclass(frozen=True)
class Comparison:
    """A num_topics sweep's comparison.json (its PNG, drawn only where matplotlib was, stays beside it)."""

    document: dict


def _number(value: Any, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _comparison_section(comparison: Comparison) -> str:
    header = ("<tr><th>Topics</th><th>Status</th><th>Validation loss</th><th>Coherence (NPMI)</th>"
              "<th>Uniqueness</th><th>Combined score</th><th>Rank</th></tr>")
    chosen = comparison.document["chosen"]["num_topics"]
    rows = "".join(
        f"<tr{' class=chosen' if c['num_topics'] == chosen else ''}><td class=number>{c['num_topics']}</td>"
        f"<td>{html.escape(str(c['status']))}</td><td class=number>{_number(c.get('validation_loss'))}</td>"
        f"<td class=number>{_number(c.get('coherence'))}</td><td class=number>{_number(c.get('uniqueness'))}</td>"
        f"<td class=number>{_number(c.get('combined_score'))}</td><td class=number>{c.get('rank') or ''}</td></tr>"
        for c in comparison.document["candidates"]
    )
    return (f"<section id=comparison><h2>Choosing the number of topics</h2><p>{html.escape(comparison.document['why'])} "
            f"(rule: {html.escape(str(comparison.document.get('rule')))})</p><div class=comparison>"
            f"<div><table>{header}{rows}</table></div><div class=comparison-charts data-section=comparison-chart></div>"
            f"</div></section>")


def comparison_data(comparison: Optional[Comparison]) -> Optional[dict]:
    """What the page's comparison charts read: each candidate's measures, the choice, what is better."""
    if comparison is None:
        return None
    keys = ("num_topics", "status", "validation_loss", "coherence", "uniqueness", "combined_score", "rank")
    measures = [{"key": m.name, "label": m.label, "higher_is_better": m.higher_is_better} for m in MEASURES]
    return {
        "candidates": [{**{key: c.get(key) for key in keys}, "trained": c.get("status") == TRAINED}
                       for c in comparison.document["candidates"]],
        "chosen": comparison.document["chosen"]["num_topics"],
        "measures": measures + [{"key": "combined_score", "label": "combined score", "higher_is_better": True}],
    }


def _asset(name: str) -> str:
    """A file of page/, read through the package loader (the job imports this code from a zip)."""
    content = pkgutil.get_data(__package__, f"page/{name}")
    if content is None:
        raise FileNotFoundError(f"page/{name} is missing from {__package__}")
    return content.decode("utf-8")


def html_page(report: TopicReport, shown: DocumentMap, plots: Plots, parameters: dict, summary: dict,
              comparison: Optional[Comparison] = None) -> str:
    """One self-contained page: headline numbers, the num_topics choice, the document map, the topic
    explorer, the topics and labels tables, the run parameters."""
    data = page_data.page_data(report, summary, parameters, shown.rows, shown.coordinates, shown.colour_by,
                               shown.groups, shown.group_of, comparison_data(comparison))
    data.update(palette=list(PALETTE), others=OTHERS, others_colour=OTHERS_COLOUR)
    sections = [
        "<h2>Summary</h2>" + _key_value_table(summary),
        _comparison_section(comparison) if comparison is not None else "",
        f"<section id=documents><h2>Documents in topic space</h2><p>t-SNE of each document's topic shares, "
        f"coloured by {html.escape(shown.colour_by)}.</p><div data-section=document-map></div></section>",
        "<section id=topics><h2>Topics</h2><div data-section=topic-explorer></div>"
        + _topics_table(report) + "</section>",
        _overlap_table(report) if report.labels is not None else "",
        "<h2>Run parameters</h2>" + _key_value_table(parameters),
        _pictures_section(plots),
    ]
    title = f"Topic report: {report.num_topics} topics, {len(report.inputs.documents)} documents"
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><link rel=icon href='data:,'>"
            f"<title>{title}</title><style>{_asset('report.css')}</style></head><body><h1>{title}</h1>"
            f"<noscript><p>The map, the topic explorer and the charts need JavaScript; the tables below do not.</p></noscript>"
            f"{''.join(sections)}"
            f"<script type=application/json id=report-data>{page_data.embedded_json(data)}</script>"
            f"<script>{_asset('report.js')}</script></body></html>\n")
