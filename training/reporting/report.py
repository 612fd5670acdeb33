"""Topic report of a trained NTM run: what the model learned, as an explorable page, data and numbers.

    python -m training.report --model model.tar.gz --dataset DATASET_DIR \\
        --transform-output OUT_FILE_OR_DIR --output REPORT_DIR [--top-words 10] [--run-parameters JSON]
        [--comparison comparison.json] [--map-documents 3000]

Every path may be local or an s3:// URI. Writes report.html (one self-contained, interactive page
that opens offline), topics.json, document_topics.csv and summary.json; tsne.png and
topic_words.png only where matplotlib is importable (it is never installed). It runs in the
SageMaker scikit-learn 1.2-1 processing image (Python 3.8 or 3.9, numpy, scipy, scikit-learn).
Environment variables RUN_PARAMETER_<NAME> (the state machine passes the run's S3 locations, run
id and job names so) join the run parameters as <name>, in place of the paths the job was given.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

from training.common.cli_options import at_least
from training.common.errors import JobInputError
from training.common.s3_staging import stage, stage_with_siblings, upload_folder
from training.evaluation import topic_metrics
from training.formats.dataset import CORPUS_GLOB, DOCUMENTS, VOCABULARY, require
from training.formats.ntm_artifact import ParamsFormatError
from training.formats.recordio import RecordIOError
from training.reporting import render as report_render
from training.reporting.analysis import (
    TRANSFORM_OUTPUT_GLOB,
    ReportInputError,
    TopicReport,
    analyse,
    load_run,
)


def topics_document(report: TopicReport) -> dict:
    topics = [
        {
            "topic": topic,
            "words": [
                {"word": word, "weight": float(weight)}
                for word, weight in zip(report.words(topic), report.top_weights[topic])
            ],
            "prevalence": float(report.prevalence[topic]),
            "dominant_share": float(report.dominant_share[topic]),
            "uniqueness": float(report.uniqueness[topic]),
            "coherence_npmi": float(report.coherence[topic]),
        }
        for topic in range(report.num_topics)
    ]
    return {"num_topics": report.num_topics, "top_words": report.top_indices.shape[1], "topics": topics}


RUN_PARAMETER_PREFIX = "RUN_PARAMETER_"


def summary_document(report: TopicReport, plots: report_render.Plots, shown: report_render.DocumentMap) -> dict:
    purity = None
    if report.labels is not None:
        _, counts = topic_metrics.label_topic_counts(report.labels, report.dominant, report.num_topics)
        purity = topic_metrics.purity(counts)
    return {
        "num_topics": report.num_topics,
        "documents": len(report.inputs.documents),
        "vocabulary_size": len(report.inputs.vocabulary),
        "top_words": report.top_indices.shape[1],
        "mean_coherence_npmi": float(report.coherence.mean()),
        "topic_uniqueness": float(report.uniqueness.mean()),
        "labels": report.labels is not None,
        "label_purity": purity,
        "map_documents": len(shown.rows),
        "map_cap": shown.cap,
        "plots": sorted(plots.images),
        "plots_skipped": plots.skipped_reason,
    }


def write_document_topics(report: TopicReport, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label", "dominant_topic"] + [f"topic_{k}" for k in range(report.num_topics)])
        for row, document in enumerate(report.inputs.documents):
            weights = [f"{weight:.6g}" for weight in report.inputs.doc_topics[row]]
            label = report.labels[row] if report.labels is not None else ""
            writer.writerow([document.get("id", row), label, int(report.dominant[row])] + weights)


def load_comparison(path: Path) -> report_render.Comparison:
    """A sweep's comparison.json (from training.compare)."""
    try:
        document = json.loads(require(path, "comparison").read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ReportInputError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or not {"candidates", "chosen", "why"} <= set(document):
        raise ReportInputError(f"{path} is not a comparison written by training.compare")
    return report_render.Comparison(document)


def write_report(report: TopicReport, output: Path, parameters: dict,
                 comparison: report_render.Comparison | None = None,
                 map_documents: int = report_render.MAP_MAX_DOCUMENTS) -> dict:
    """Write every report file into `output`; returns the summary."""
    output.mkdir(parents=True, exist_ok=True)
    shown = report_render.document_map(report, map_documents)
    plots = report_render.render_plots(report, shown)
    for name, png in plots.images.items():
        (output / name).write_bytes(png)
    (output / "topics.json").write_text(json.dumps(topics_document(report), indent=2), encoding="utf-8")
    write_document_topics(report, output / "document_topics.csv")
    summary = summary_document(report, plots, shown)
    if comparison is not None:
        summary["num_topics_chosen_because"] = comparison.document["why"]
    page = report_render.html_page(report, shown, plots, parameters, summary, comparison)
    (output / "report.html").write_text(page, encoding="utf-8")
    (output / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def _dataset_file(relative: str) -> bool:
    return relative in (VOCABULARY, DOCUMENTS) or Path(relative).match(CORPUS_GLOB)


def _transform_output_file(relative: str) -> bool:
    return "/" not in relative and Path(relative).match(TRANSFORM_OUTPUT_GLOB)


def _load_parameters(value: str | None, scratch: Path) -> dict:
    if value is None:
        return {}
    inline = value.lstrip().startswith(("{", "["))
    text = value if inline else require(stage(value, scratch), "run parameters").read_text(encoding="utf-8")
    try:
        parameters = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportInputError(f"run parameters are not valid JSON: {error}") from error
    if not isinstance(parameters, dict):
        raise ReportInputError("run parameters must be a JSON object")
    return parameters


def environment_parameters(environment: dict) -> dict:
    """RUN_PARAMETER_<NAME> variables as {name: value}, sorted by name."""
    return {key[len(RUN_PARAMETER_PREFIX):].lower(): value for key, value in sorted(environment.items())
            if key.startswith(RUN_PARAMETER_PREFIX) and len(key) > len(RUN_PARAMETER_PREFIX)}


def run_parameters(args: argparse.Namespace, scratch: Path, environment: dict) -> dict:
    """What the report shows as the run's parameters: the run's own description (run id, S3
    locations, job names) where the caller gave one, else the inputs as this command got them."""
    given = _load_parameters(args.run_parameters, scratch)
    described = environment_parameters(environment)
    inputs = {"model": args.model, "dataset": args.dataset, "transform_output": args.transform_output}
    if args.comparison:
        inputs["comparison"] = args.comparison
    elif "comparison" in described:
        del described["comparison"]  # a single-model run has no comparison to point to
    run_id = {"run_id": described.pop("run_id")} if "run_id" in described else {}
    return {**run_id, **given, **inputs, **described, "top_words": args.top_words}


def run(args: argparse.Namespace, scratch: Path) -> dict:
    folders = {name: scratch / name for name in ("model", "dataset", "transform", "parameters", "comparison", "output")}
    for folder in folders.values():
        folder.mkdir()
    inputs = load_run(
        stage(args.model, folders["model"]),
        stage(args.dataset, folders["dataset"], _dataset_file),
        stage(args.transform_output, folders["transform"], _transform_output_file),
    )
    parameters = run_parameters(args, folders["parameters"], dict(os.environ))
    comparison = load_comparison(stage_with_siblings(args.comparison, folders["comparison"])) if args.comparison else None
    report = analyse(inputs, args.top_words)
    to_s3 = args.output.startswith("s3://")
    output = folders["output"] if to_s3 else Path(args.output)
    summary = write_report(report, output, parameters, comparison, args.map_documents)
    if to_s3:
        upload_folder(output, args.output)
    return summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model.tar.gz (path or s3:// URI)")
    parser.add_argument("--dataset", required=True, help="prepared dataset folder or s3:// prefix")
    parser.add_argument("--transform-output", required=True, help="batch transform output file or folder (*.out)")
    parser.add_argument("--output", required=True, help="folder or s3:// prefix to write the report to")
    parser.add_argument("--top-words", type=at_least(2), default=10,
                        help="words shown per topic (default 10; at least 2: NPMI needs word pairs)")
    parser.add_argument("--run-parameters", help="JSON object, or a JSON file, shown in the report")
    parser.add_argument("--comparison", help="comparison.json of a num_topics sweep (training.compare), shown in the report")
    parser.add_argument("--map-documents", type=at_least(1), default=report_render.MAP_MAX_DOCUMENTS,
                        help=f"documents drawn on the map, a seeded random sample beyond it "
                             f"(default {report_render.MAP_MAX_DOCUMENTS}; t-SNE time grows with it)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            summary = run(args, Path(scratch))
    except (JobInputError, ParamsFormatError, RecordIOError) as error:
        print(f"report: error: {error}", file=sys.stderr)
        return 2
    print(
        f"report written to {args.output}: {summary['num_topics']} topics, {summary['documents']} documents, "
        f"mean NPMI {summary['mean_coherence_npmi']:.3f}, TU {summary['topic_uniqueness']:.3f}"
    )
    return 0
