"""Compare NTM models trained with different numbers of topics and pick one.

    python -m training.compare --models DIR --candidates JSON --dataset DIR --output DIR \\
        [--rule combined|loss|coherence|fixed] [--fixed-num-topics N] [--top-words 10]

--models holds <training-job-name>/output/model.tar.gz per candidate, as SageMaker lays them out
under a run's model prefix. --candidates is a JSON list, inline or in a file, of
{"num_topics", "job_name", "status", "validation_loss", "error", "cause"}; only status "Trained"
counts as trained. Coherence (mean NPMI on the dataset's transform corpus) and uniqueness (mean TU)
come from each decoder matrix, no inference needed. Writes comparison.json, chosen.json and
comparison.png; the rules are in training.evaluation.candidate_selection. It runs in the SageMaker
scikit-learn processing image (Python 3.9); without matplotlib the plot is skipped with a note.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

from scipy import sparse

from training.common.cli_options import at_least
from training.common.errors import JobInputError
from training.common.plotting import load_pyplot
from training.evaluation import topic_metrics
from training.evaluation.candidate_selection import (
    MEASURES,
    RULES,
    TRAINED,
    Candidate,
    Comparison,
    SelectionError,
    compare,
)
from training.formats.dataset import (
    CORPUS_GLOB,
    VOCABULARY,
    load_corpus_matrix,
    load_vocabulary,
)
from training.formats.ntm_artifact import ParamsFormatError, load_decoder
from training.formats.recordio import RecordIOError

MODEL_ARTIFACT = "output/model.tar.gz"
UNUSABLE = "Unusable"  # trained, but its model cannot be read or does not fit the dataset
# SageMaker's training job name pattern; it also keeps a name from escaping --models as a path.
JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
COMPARISON, CHOSEN, PLOT = "comparison.json", "chosen.json", "comparison.png"


class CompareInputError(ValueError):
    """The candidate list or the models do not fit what the comparison needs."""


def model_artifact(job_name: str) -> str:
    """Where a job's model lies, relative to --models."""
    return f"{job_name}/{MODEL_ARTIFACT}"


def _num_topics(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdecimal():  # hyperparameters travel as strings
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CompareInputError(f"{where}: num_topics must be a whole number, got {value!r}")
    return value


def _loss(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CompareInputError(f"{where}: validation_loss must be a number or null, got {value!r}")
    return float(value) if math.isfinite(value) else None  # a NaN loss says nothing about the model


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _candidate(item: Any, position: int) -> Candidate:
    where = f"candidate {position}"
    if not isinstance(item, dict):
        raise CompareInputError(f"{where} is not a JSON object")
    num_topics = _num_topics(item.get("num_topics"), where)
    where = f"{where} ({num_topics} topics)"
    status, job_name = item.get("status"), item.get("job_name")
    if not isinstance(status, str):
        raise CompareInputError(f"{where}: status must be a string, got {status!r}")
    if status == TRAINED and not (isinstance(job_name, str) and JOB_NAME.match(job_name)):
        raise CompareInputError(f"{where}: job_name {job_name!r} is not a SageMaker training job name")
    return Candidate(
        num_topics=num_topics,
        job_name=_text(job_name),
        status=status,
        validation_loss=_loss(item.get("validation_loss"), where),
        error=_text(item.get("error")),
        cause=_text(item.get("cause")),
    )


def load_candidates(value: str) -> list[Candidate]:
    """The candidate list from inline JSON or a JSON file."""
    if value.lstrip().startswith(("[", "{")):
        text, source = value, "--candidates"
    else:
        path = Path(value)
        if not path.is_file():
            raise CompareInputError(f"candidates file not found: {path}")
        text, source = path.read_text(encoding="utf-8"), str(path)
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise CompareInputError(f"{source} is not valid JSON: {error}") from error
    if not isinstance(items, list):
        raise CompareInputError(f"{source} must be a JSON list of candidates")
    return [_candidate(item, position) for position, item in enumerate(items, start=1)]


def measure(
    candidate: Candidate, models: Path, vocabulary_size: int, corpus: sparse.csc_matrix, top_words: int
) -> Candidate:
    """The candidate with its coherence and uniqueness, or marked Unusable if its model cannot serve."""
    if not candidate.trained:
        return candidate
    path = models / model_artifact(candidate.job_name)
    try:
        decoder = load_decoder(path)
    except (OSError, EOFError, tarfile.TarError, ParamsFormatError) as error:
        return dataclasses.replace(candidate, status=UNUSABLE, error=f"cannot read {path}: {error}")
    if decoder.shape != (vocabulary_size, candidate.num_topics):
        expected = f"(vocabulary {vocabulary_size}, {candidate.num_topics} topics)"
        return dataclasses.replace(
            candidate, status=UNUSABLE, error=f"decoder shape {decoder.shape} in {path} is not {expected}")
    top_indices, _ = topic_metrics.top_words(decoder, top_words)
    return dataclasses.replace(
        candidate,
        coherence=float(topic_metrics.npmi_coherence(top_indices, corpus).mean()),
        uniqueness=float(topic_metrics.topic_uniqueness(top_indices).mean()),
    )


def render_plot(comparison: Comparison) -> tuple[bytes | None, str | None]:
    """comparison.png (the three measures against the number of topics), or why it was skipped."""
    try:
        pyplot = load_pyplot()
    except ImportError as error:
        return None, f"matplotlib is not installed here ({error})"
    trained = [candidate for candidate in comparison.candidates if candidate.trained]
    figure, axes = pyplot.subplots(len(MEASURES), 1, sharex=True, figsize=(7, 2.3 * len(MEASURES)))
    for axis, measured in zip(axes, MEASURES):
        points = [(c.num_topics, getattr(c, measured.name)) for c in trained if getattr(c, measured.name) is not None]
        if points:
            axis.plot(*zip(*points), marker="o", color="#1f77b4")
        else:
            axis.text(0.5, 0.5, "not reported", transform=axis.transAxes, ha="center", va="center", color="grey")
        axis.axvline(comparison.chosen.num_topics, color="#d62728", linestyle="--", linewidth=1)
        axis.set_title(f"{measured.label}: {'higher' if measured.higher_is_better else 'lower'} is better", fontsize=9)
        axis.grid(alpha=0.3)
    axes[-1].set_xticks([candidate.num_topics for candidate in comparison.candidates])
    axes[-1].set_xticklabels([f"{c.num_topics}" if c.trained else f"{c.num_topics}\n{c.status.lower()}"
                              for c in comparison.candidates])
    axes[-1].set_xlabel("number of topics (dashed: chosen)")
    figure.suptitle(f"Chosen: {comparison.chosen.num_topics} topics (rule {comparison.rule})", fontsize=11)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    pyplot.close(figure)
    return buffer.getvalue(), None


def candidate_entry(comparison: Comparison, candidate: Candidate) -> dict:
    k = candidate.num_topics
    return {
        "num_topics": k,
        "job_name": candidate.job_name,
        "status": candidate.status,
        "validation_loss": candidate.validation_loss,
        "coherence": candidate.coherence,
        "uniqueness": candidate.uniqueness,
        "combined_score": comparison.combined.get(k),
        "normalised": comparison.normalised.get(k),
        "rank": comparison.rank(candidate),
        "model_artifacts": model_artifact(candidate.job_name) if candidate.trained else None,
        "error": candidate.error,
        "cause": candidate.cause,
    }


def chosen_document(comparison: Comparison) -> dict:
    entry = candidate_entry(comparison, comparison.chosen)
    return {
        **{key: entry[key] for key in ("num_topics", "job_name", "model_artifacts", "validation_loss",
                                       "coherence", "uniqueness", "combined_score")},
        "rule": comparison.rule,
        "why": comparison.why,
    }


def comparison_document(comparison: Comparison, top_words: int, plot_skipped: str | None) -> dict:
    chosen = chosen_document(comparison)
    return {
        "format_version": 1,
        "rule": comparison.rule,
        "top_words": top_words,
        "combined_measures": comparison.combined_measures,
        "candidates": [candidate_entry(comparison, candidate) for candidate in comparison.candidates],
        "chosen": {key: chosen[key] for key in ("num_topics", "job_name", "model_artifacts")},
        "why": comparison.why,
        "plot": None if plot_skipped else PLOT,
        "plot_skipped": plot_skipped,
    }


def write_outputs(comparison: Comparison, output: Path, top_words: int) -> None:
    output.mkdir(parents=True, exist_ok=True)
    png, skipped = render_plot(comparison)
    if png is not None:
        (output / PLOT).write_bytes(png)
    document = comparison_document(comparison, top_words, skipped)
    (output / COMPARISON).write_text(json.dumps(document, indent=2), encoding="utf-8")
    (output / CHOSEN).write_text(json.dumps(chosen_document(comparison), indent=2), encoding="utf-8")


def run(args: argparse.Namespace) -> Comparison:
    candidates = load_candidates(args.candidates)
    dataset = Path(args.dataset)
    vocabulary = load_vocabulary(dataset)
    corpus = load_corpus_matrix(dataset)
    if corpus.shape[1] != len(vocabulary):
        raise CompareInputError(f"{CORPUS_GLOB} has {corpus.shape[1]} columns but {VOCABULARY} {len(vocabulary)} words")
    corpus = corpus.tocsc()  # NPMI slices columns, once per candidate
    measured = [measure(c, Path(args.models), len(vocabulary), corpus, args.top_words) for c in candidates]
    for candidate in measured:
        if candidate.status == UNUSABLE:
            print(f"compare: warning: {candidate.num_topics} topics left out: {candidate.error}", file=sys.stderr)
    comparison = compare(measured, args.rule, args.fixed_num_topics)
    write_outputs(comparison, Path(args.output), args.top_words)
    return comparison


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", required=True, help="folder holding <job-name>/output/model.tar.gz per candidate")
    parser.add_argument("--candidates", required=True, help="JSON list of candidates, inline or a file")
    parser.add_argument("--dataset", required=True, help="prepared dataset folder (vocabulary and transform corpus)")
    parser.add_argument("--output", required=True, help="folder to write comparison.json, chosen.json, comparison.png")
    parser.add_argument("--rule", choices=RULES, default="combined", help="how to choose (default combined)")
    parser.add_argument("--fixed-num-topics", type=int, help="the number of topics to choose, with --rule fixed")
    parser.add_argument("--top-words", type=at_least(2), default=10,
                        help="top words per topic for coherence and uniqueness (default 10; at least 2: NPMI needs word pairs)")
    args = parser.parse_args(argv)
    if (args.rule == "fixed") != (args.fixed_num_topics is not None):
        parser.error("--rule fixed needs --fixed-num-topics, and --fixed-num-topics goes only with --rule fixed")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        comparison = run(args)
    except (CompareInputError, JobInputError, SelectionError, RecordIOError) as error:
        print(f"compare: error: {error}", file=sys.stderr)
        return 2
    trained = sum(candidate.trained for candidate in comparison.candidates)
    print(f"compared {trained} of {len(comparison.candidates)} candidates; chose {comparison.chosen.num_topics} "
          f"topics by rule {comparison.rule}; wrote {args.output}")
    return 0
