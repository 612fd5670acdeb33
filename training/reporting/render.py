"""Pictures and the HTML page of the topic report (see training.report).

matplotlib is optional: the SageMaker scikit-learn processing image may not have it, and the
rest of the report is worth having without the plots.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from sklearn.manifold import TSNE

from training.common.plotting import load_pyplot
from training.evaluation import topic_metrics

if TYPE_CHECKING:
    from training.reporting.analysis import TopicReport

TSNE_MAX_DOCUMENTS = 3000  # t-SNE is quadratic-ish; a sample shows the structure as well
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
    tsne_documents: int | None = None


def tsne_embedding(doc_topics: np.ndarray, max_documents: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """2-D t-SNE of (a seeded random sample of) the documents' topic vectors: (row indices, coordinates)."""
    rows = len(doc_topics)
    sample = np.sort(np.random.default_rng(seed).choice(rows, size=min(rows, max_documents), replace=False))
    # sklearn requires perplexity < samples; 30 is its default for larger sets.
    perplexity = max(0.5, min(30.0, (len(sample) - 1) / 3))
    embedding = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=seed)
    return sample, embedding.fit_transform(topic_metrics.normalise_rows(doc_topics[sample]))


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


def _tsne_png(pyplot: Any, report: TopicReport, sample: np.ndarray, coords: np.ndarray) -> bytes:
    if report.labels is not None:
        what = "label"
        values = [report.labels[row] for row in sample]
    else:
        what = "dominant topic"
        values = [f"topic {k}: {' '.join(report.words(k)[:3])}" for k in report.dominant[sample]]
    codes, names = colour_groups(values, LEGEND_LIMIT)
    figure, axes = pyplot.subplots(figsize=(11, 8))
    for code, name in enumerate(names):
        members = codes == code
        colour = OTHERS_COLOUR if name == OTHERS else PALETTE[code]
        axes.scatter(coords[members, 0], coords[members, 1], s=9, color=colour, alpha=0.8, linewidths=0,
                     label=f"{name} ({members.sum()})")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, markerscale=2, frameon=False,
                title=what.capitalize())
    total = len(report.inputs.documents)
    shown = f"random sample of {len(sample)} of {total} documents" if len(sample) < total else f"{total} documents"
    axes.set_title(f"t-SNE of the documents' topic vectors, coloured by {what}\n({shown})")
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


def render_plots(report: TopicReport) -> Plots:
    try:
        pyplot = load_pyplot()
    except ImportError as error:
        return Plots(skipped_reason=f"matplotlib is not installed here ({error})")
    sample, coords = tsne_embedding(report.inputs.doc_topics, TSNE_MAX_DOCUMENTS)
    images = {
        "tsne.png": _tsne_png(pyplot, report, sample, coords),
        "topic_words.png": _topic_words_png(pyplot, report),
    }
    return Plots(images=images, tsne_documents=len(sample))


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
tr.chosen td { font-weight: bold; background: #eef6ee; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
.note { background: #fff4d6; padding: 0.5rem 1rem; border-left: 4px solid #e0a800; }
img { max-width: 100%; }
code { white-space: pre-wrap; }
"""


def _escape(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return html.escape(value if isinstance(value, str) else json.dumps(value))


def _key_value_table(pairs: dict) -> str:
    rows = "".join(f"<tr><th>{_escape(str(key))}</th><td><code>{_escape(value)}</code></td></tr>"
                   for key, value in pairs.items())
    return f"<table>{rows}</table>"


def _topics_table(report: TopicReport) -> str:
    header = ("<tr><th>Topic</th><th>Top words</th><th>Prevalence</th><th>Dominant in</th>"
              "<th>Coherence (NPMI)</th><th>Uniqueness</th></tr>")
    rows = "".join(
        f"<tr><td class=number>{topic}</td><td>{html.escape(' '.join(report.words(topic)))}</td>"
        f"<td class=number>{report.prevalence[topic]:.1%}</td><td class=number>{report.dominant_share[topic]:.1%}</td>"
        f"<td class=number>{report.coherence[topic]:.3f}</td><td class=number>{report.uniqueness[topic]:.3f}</td></tr>"
        for topic in range(report.num_topics)
    )
    return f"<h2>Topics</h2><table>{header}{rows}</table>"


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


def _plots_section(plots: Plots) -> str:
    if plots.skipped_reason:
        return f"<h2>Plots</h2><p class=note>Plots were skipped: {html.escape(plots.skipped_reason)}</p>"
    captions = {"tsne.png": "Documents in topic space (t-SNE)", "topic_words.png": "Top words per topic"}
    figures = "".join(
        f"<figure><img alt='{captions[name]}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        f"<figcaption>{captions[name]}</figcaption></figure>"
        for name, png in plots.images.items()
    )
    return f"<h2>Plots</h2>{figures}"


@dataclass(frozen=True)
class Comparison:
    """A num_topics sweep's comparison.json and its plot (None when it was not drawn)."""

    document: dict
    plot: Optional[bytes]


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
    figure = ("" if comparison.plot is None else
              f"<figure><img alt='Measures against the number of topics' "
              f"src='data:image/png;base64,{base64.b64encode(comparison.plot).decode()}'>"
              f"<figcaption>Measures against the number of topics</figcaption></figure>")
    return (f"<h2>Choosing the number of topics</h2><p>{html.escape(comparison.document['why'])} "
            f"(rule: {html.escape(str(comparison.document.get('rule')))})</p><table>{header}{rows}</table>{figure}")


def html_page(report: TopicReport, plots: Plots, parameters: dict, summary: dict,
              comparison: Optional[Comparison] = None) -> str:
    """One self-contained page: headline numbers, the num_topics choice, run parameters, topics, plots, labels."""
    sections = [
        "<h2>Summary</h2>" + _key_value_table(summary),
        _comparison_section(comparison) if comparison is not None else "",
        "<h2>Run parameters</h2>" + _key_value_table(parameters),
        _topics_table(report),
        _plots_section(plots),
        _overlap_table(report) if report.labels is not None else "",
    ]
    title = f"Topic report: {report.num_topics} topics, {len(report.inputs.documents)} documents"
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
            f"<style>{STYLE}</style></head><body><h1>{title}</h1>{''.join(sections)}</body></html>\n")
