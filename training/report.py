"""Topic report of a trained NTM run: what the model learned, as words, numbers and pictures.

    python -m training.report --model model.tar.gz --dataset DATASET_DIR \\
        --transform-output OUT_FILE_OR_DIR --output REPORT_DIR [--top-words 10] [--run-parameters JSON]

Every path may be local or an s3:// URI. Writes topics.json, document_topics.csv, tsne.png,
topic_words.png, report.html (self-contained) and summary.json. It runs in the SageMaker
scikit-learn 1.2-1 processing image (Python 3.9, numpy, scipy, scikit-learn); when matplotlib is
missing there, the PNGs are skipped and report.html / summary.json say so.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from scipy import sparse

from training import report_render, topic_metrics
from training.cli_options import at_least
from training.dataset_layout import DOCUMENTS, TRANSFORM, VOCABULARY
from training.model_params import ParamsFormatError, load_decoder
from training.recordio import RecordIOError, read_sparse

CORPUS_GLOB = f"{TRANSFORM}/part-*.pbr"
TRANSFORM_OUTPUT_GLOB = "*.out"
CONTENT_TYPES = {".html": "text/html", ".json": "application/json", ".csv": "text/csv", ".png": "image/png"}


class ReportInputError(ValueError):
    """The report's inputs are missing or do not fit together."""


@dataclass
class RunInputs:
    vocabulary: list[str]
    documents: list[dict]
    doc_term: sparse.csr_matrix  # documents x vocabulary, the corpus as the model saw it
    decoder: np.ndarray  # vocabulary x topics
    doc_topics: np.ndarray  # documents x topics, from the batch transform


@dataclass
class TopicReport:
    inputs: RunInputs
    top_indices: np.ndarray
    top_weights: np.ndarray
    uniqueness: np.ndarray
    coherence: np.ndarray
    prevalence: np.ndarray
    dominant_share: np.ndarray
    dominant: np.ndarray
    labels: list[str] | None

    @property
    def num_topics(self) -> int:
        return self.inputs.decoder.shape[1]

    def words(self, topic: int) -> list[str]:
        return [self.inputs.vocabulary[index] for index in self.top_indices[topic]]


def _differ(what: str, left: str, left_count: int, right: str, right_count: int) -> ReportInputError:
    return ReportInputError(
        f"{what}: {left} has {left_count}, {right} has {right_count} (differs by {abs(left_count - right_count)})"
    )


def _require(path: Path, what: str) -> Path:
    """The path of an input file; a missing path or a folder is a clear input error, not a traceback."""
    if not path.exists():
        raise ReportInputError(f"{what} not found: {path}")
    if not path.is_file():
        raise ReportInputError(f"{what} is a folder, not a file: {path}")
    return path


def _lines(path: Path) -> list[str]:
    # Only "\n" ends a line: str.splitlines() would also split words or JSON strings at U+2028 & co.
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def load_vocabulary(dataset: Path) -> list[str]:
    return [word.rstrip("\r") for word in _lines(_require(dataset / VOCABULARY, "vocabulary"))]


def _json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ReportInputError(f"{path.name} line {number} is not JSON: {error}") from error
        if not isinstance(record, dict):
            raise ReportInputError(f"{path.name} line {number} is not a JSON object")
        yield number, record


def load_documents(dataset: Path) -> list[dict]:
    return [record for _, record in _json_lines(_require(dataset / DOCUMENTS, "document list"))]


def load_corpus_matrix(dataset: Path) -> sparse.csr_matrix:
    parts = sorted(dataset.glob(CORPUS_GLOB))
    if not parts:
        raise ReportInputError(f"no corpus files {CORPUS_GLOB} under {dataset}")
    return sparse.vstack([read_sparse(part) for part in parts], format="csr")


def load_topic_weights(path: Path, num_topics: int) -> np.ndarray:
    """Batch-transform JSON Lines ({"topic_weights": [...]} per document) from a file or a folder of *.out."""
    files = sorted(path.glob(TRANSFORM_OUTPUT_GLOB)) if path.is_dir() else [_require(path, "transform output")]
    if not files:
        raise ReportInputError(f"no transform output files {TRANSFORM_OUTPUT_GLOB} in {path}")
    rows = []
    for file in files:
        for number, record in _json_lines(file):
            weights = record.get("topic_weights")
            if not isinstance(weights, list):
                raise ReportInputError(f"{file.name} line {number} has no topic_weights list")
            if len(weights) != num_topics:
                raise _differ(
                    f"topic weights differ from the model's topics at {file.name} line {number}",
                    "the line", len(weights), "the decoder", num_topics,
                )
            rows.append(weights)
    try:
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), num_topics)
    except (TypeError, ValueError) as error:
        raise ReportInputError(f"topic weights in {path} are not all numbers: {error}") from error


def load_run(model: Path, dataset: Path, transform_output: Path) -> RunInputs:
    """Read a run's artifacts and check that their sizes agree."""
    decoder = load_decoder(_require(model, "model"))
    vocabulary = load_vocabulary(dataset)
    if len(vocabulary) != decoder.shape[0]:
        raise _differ("vocabulary size differs from the model", VOCABULARY, len(vocabulary),
                      "the decoder (rows)", decoder.shape[0])
    documents = load_documents(dataset)
    if not documents:
        raise ReportInputError(f"{DOCUMENTS} lists no documents")
    doc_term = load_corpus_matrix(dataset)
    if doc_term.shape[1] != len(vocabulary):
        raise _differ("corpus width differs from the vocabulary", CORPUS_GLOB + " (columns)",
                      doc_term.shape[1], VOCABULARY, len(vocabulary))
    if doc_term.shape[0] != len(documents):
        raise _differ("corpus records differ from documents", CORPUS_GLOB + " (records)",
                      doc_term.shape[0], DOCUMENTS, len(documents))
    doc_topics = load_topic_weights(transform_output, decoder.shape[1])
    if len(doc_topics) != len(documents):
        raise _differ("transform output lines differ from documents", "the transform output",
                      len(doc_topics), DOCUMENTS, len(documents))
    return RunInputs(vocabulary, documents, doc_term, decoder, doc_topics)


def analyse(inputs: RunInputs, top_words: int) -> TopicReport:
    top_indices, top_weights = topic_metrics.top_words(inputs.decoder, top_words)
    has_labels = any("label" in document for document in inputs.documents)
    return TopicReport(
        inputs=inputs,
        top_indices=top_indices,
        top_weights=top_weights,
        uniqueness=topic_metrics.topic_uniqueness(top_indices),
        coherence=topic_metrics.npmi_coherence(top_indices, inputs.doc_term),
        prevalence=topic_metrics.topic_prevalence(inputs.doc_topics),
        dominant_share=topic_metrics.dominant_share(inputs.doc_topics),
        dominant=topic_metrics.dominant_topics(inputs.doc_topics),
        labels=[str(doc.get("label", "(none)")) for doc in inputs.documents] if has_labels else None,
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


def summary_document(report: TopicReport, plots: report_render.Plots) -> dict:
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
        "plots": sorted(plots.images),
        "plots_skipped": plots.skipped_reason,
        "tsne_documents": plots.tsne_documents,
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
    """A sweep's comparison.json (from training.compare) and its plot beside it, if drawn."""
    try:
        document = json.loads(_require(path, "comparison").read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ReportInputError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or not {"candidates", "chosen", "why"} <= set(document):
        raise ReportInputError(f"{path} is not a comparison written by training.compare")
    plot = path.parent / str(document["plot"]) if document.get("plot") else None
    return report_render.Comparison(document, plot.read_bytes() if plot is not None and plot.is_file() else None)


def write_report(report: TopicReport, output: Path, parameters: dict,
                 comparison: report_render.Comparison | None = None) -> dict:
    """Write every report file into `output`; returns the summary."""
    output.mkdir(parents=True, exist_ok=True)
    plots = report_render.render_plots(report)
    for name, png in plots.images.items():
        (output / name).write_bytes(png)
    (output / "topics.json").write_text(json.dumps(topics_document(report), indent=2), encoding="utf-8")
    write_document_topics(report, output / "document_topics.csv")
    summary = summary_document(report, plots)
    if comparison is not None:
        summary["num_topics_chosen_because"] = comparison.document["why"]
    page = report_render.html_page(report, plots, parameters, summary, comparison)
    (output / "report.html").write_text(page, encoding="utf-8")
    (output / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


# --- s3:// support: inputs are copied to a scratch folder, outputs uploaded from one. ---

def _s3_client():
    import boto3  # only needed for s3:// paths

    return boto3.client("s3")


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def _stage(uri: str, scratch: Path, wanted: Callable[[str], bool] = lambda _: True) -> Path:
    """A local path for `uri`: itself, or a scratch copy of the s3 object or of the wanted objects under the prefix."""
    if not uri.startswith("s3://"):
        return Path(uri)
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = _split_s3(uri)
    client = _s3_client()
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        if key in keys and not key.endswith("/"):
            target = scratch / Path(key).name
            client.download_file(bucket, key, str(target))
            return target
        prefix = key.rstrip("/") + "/" if key else ""
        chosen = [k for k in keys if k.startswith(prefix) and not k.endswith("/") and wanted(k[len(prefix):])]
        if not chosen:
            raise ReportInputError(f"nothing found at {uri}")
        for chosen_key in chosen:
            target = scratch / chosen_key[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, chosen_key, str(target))
    except (BotoCoreError, ClientError) as error:
        raise ReportInputError(f"cannot read {uri}: {error}") from error
    return scratch


def _stage_with_siblings(uri: str, scratch: Path) -> Path:
    """A local path for the file at `uri`, with the files of its folder beside it (comparison.json's plot)."""
    if not uri.startswith("s3://"):
        return Path(uri)
    folder, name = uri.rsplit("/", 1)
    return _stage(folder + "/", scratch) / name


def _dataset_file(relative: str) -> bool:
    return relative in (VOCABULARY, DOCUMENTS) or Path(relative).match(CORPUS_GLOB)


def _transform_output_file(relative: str) -> bool:
    return "/" not in relative and Path(relative).match(TRANSFORM_OUTPUT_GLOB)


def _upload(folder: Path, uri: str) -> None:
    bucket, key = _split_s3(uri)
    prefix = key.rstrip("/") + "/" if key else ""
    client = _s3_client()
    for path in sorted(folder.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        client.upload_file(str(path), bucket, prefix + path.name, ExtraArgs={"ContentType": content_type})


def _load_parameters(value: str | None, scratch: Path) -> dict:
    if value is None:
        return {}
    inline = value.lstrip().startswith(("{", "["))
    text = value if inline else _require(_stage(value, scratch), "run parameters").read_text(encoding="utf-8")
    try:
        parameters = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportInputError(f"run parameters are not valid JSON: {error}") from error
    if not isinstance(parameters, dict):
        raise ReportInputError("run parameters must be a JSON object")
    return parameters


def run(args: argparse.Namespace, scratch: Path) -> dict:
    folders = {name: scratch / name for name in ("model", "dataset", "transform", "parameters", "comparison", "output")}
    for folder in folders.values():
        folder.mkdir()
    inputs = load_run(
        _stage(args.model, folders["model"]),
        _stage(args.dataset, folders["dataset"], _dataset_file),
        _stage(args.transform_output, folders["transform"], _transform_output_file),
    )
    parameters = {
        "model": args.model,
        "dataset": args.dataset,
        "transform_output": args.transform_output,
        "top_words": args.top_words,
        **_load_parameters(args.run_parameters, folders["parameters"]),
    }
    comparison = load_comparison(_stage_with_siblings(args.comparison, folders["comparison"])) if args.comparison else None
    report = analyse(inputs, args.top_words)
    to_s3 = args.output.startswith("s3://")
    output = folders["output"] if to_s3 else Path(args.output)
    summary = write_report(report, output, parameters, comparison)
    if to_s3:
        _upload(output, args.output)
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            summary = run(args, Path(scratch))
    except (ReportInputError, ParamsFormatError, RecordIOError) as error:
        print(f"report: error: {error}", file=sys.stderr)
        return 2
    print(
        f"report written to {args.output}: {summary['num_topics']} topics, {summary['documents']} documents, "
        f"mean NPMI {summary['mean_coherence_npmi']:.3f}, TU {summary['topic_uniqueness']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
