"""Topic quality with yesterday's vocabulary defaults and today's, on the same corpus.

    .venv/bin/python bench/topic_quality.py [CORPUS] [--label-field group] [--repetitions 3]
    .venv/bin/python bench/topic_quality.py [CORPUS] --speed-only --repetitions 40

CORPUS defaults to ../shared/data/20newsgroups.jsonl.gz, prepared with --strip-headers. Variants:
- anchor, "before": the tokens and stop words preparation used before cleaning existed
  (`--no-clean-text --no-default-stop-words --stop-words-file <scikit-learn's English list>`,
  which gives byte-identical datasets to that code: checked when this bench was written);
- "defaults": today's defaults (cleaning on; the built-in list: scikit-learn's English list with
  the contraction, address and topic-model supplements of training/preparation/stop_words.py);
- "phrases": today's defaults plus --phrases.
Each variant's preparation runs as its own process, the variants alternating within each
repetition (in the reverse order every other one); the wall-clock and CPU medians are printed, and
next to them the median (range) of each repetition's own ratio to *before*. Each dataset then
gets the offline harness's stand-in model (scikit-learn NMF, tests/pipeline/ntm_standin.py, as the
harness's training jobs fit it) on its train split at --num-topics topics, and the table shows topic uniqueness, NPMI coherence (on the transform
corpus), label purity (dominant topic per document), the debris words among each topic's top 10
and the documents kept (a document with fewer than 10 vocabulary words is dropped, so a longer stop
list keeps fewer): the median over the repetitions, with their range. Repetition r prepares with `--seed r` (its own
train/validation/test split of the same corpus) and fits with random_state r, the fit settings
otherwise the harness's: one split and one fit are no measurement, uniqueness alone moves by 0.01
(2 of the 200 words) between them.
--speed-only times the preparations of "before" and "defaults" alone, without fits: at about 8 s a
repetition, enough repetitions in minutes for a ratio that a busy or drifting machine does not move
(one repetition's ratio ranges over a third on a 2-CPU machine; the medians of two runs of 40 differed by 0.03).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scipy.sparse

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
from tests.pipeline import ntm_standin  # noqa: E402
from training.evaluation import topic_metrics  # noqa: E402
from training.formats import dataset as layout  # noqa: E402
from training.formats import recordio  # noqa: E402
from training.preparation.stop_words import ENGLISH_STOP_WORDS  # noqa: E402

DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "data" / "20newsgroups.jsonl.gz"
# Words that say nothing about a topic: the fragments and address parts of issue 17's first run,
# the rest of their kind (contraction fragments, mail and URL parts), and the team abbreviations
# of the hockey results tables that made a topic of their own.
DEBRIS = frozenset("""
don didn doesn isn wasn aren weren couldn wouldn shouldn haven hasn hadn ll ve
edu com org net gov www http ftp pub cs uk nj mit cmu
la det bos pit tor chi van buf que nyi nyr phi wsh hfd mtl cgy edm wpg stl tb sj ott
""".split())


def variants(stop_list: Path) -> dict:
    return {
        "before": ["--no-clean-text", "--no-default-stop-words", "--stop-words-file", str(stop_list)],
        "defaults": [],
        "phrases": ["--phrases"],
    }


def prepare(corpus: Path, options: list, label_field: str, seed: int, output: Path) -> tuple:
    """Wall-clock and CPU seconds (user + system, all processes) of one preparation."""
    command = [sys.executable, "-m", "training.prepare", "--input", str(corpus), "--output", str(output),
               "--label-field", label_field, "--strip-headers", "--seed", str(seed), *options]
    started, before = time.perf_counter(), os.times()
    subprocess.run(command, check=True, cwd=REPOSITORY, stdout=subprocess.DEVNULL)
    after = os.times()
    return time.perf_counter() - started, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def fit_quality(train, corpus, labels: list, vocabulary: list, num_topics: int, seed: int) -> dict:
    model, decoder = ntm_standin.fit(train, num_topics, seed)
    top, _ = topic_metrics.top_words(decoder, 10)
    dominant = topic_metrics.dominant_topics(model.transform(corpus))
    _, counts = topic_metrics.label_topic_counts(labels, dominant, num_topics)
    words = [[vocabulary[index] for index in row] for row in top]
    return {
        "uniqueness": float(topic_metrics.topic_uniqueness(top).mean()),
        "coherence": float(topic_metrics.npmi_coherence(top, corpus).mean()),
        "purity": topic_metrics.purity(counts),
        "debris": sum(word in DEBRIS for row in words for word in row),
        "phrases": sum("-" in word for row in words for word in row),
        "words": words,
    }


def quality(dataset: Path, num_topics: int, seed: int) -> dict:
    vocabulary = layout.load_vocabulary(dataset)
    kept = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))["documents"]["kept"]
    train = scipy.sparse.vstack([recordio.read_sparse(path) for path in sorted((dataset / "train").glob("*.pbr"))]).tocsr()
    corpus = layout.load_corpus_matrix(dataset)
    labels = [document.get("label", "") for document in layout.load_documents(dataset)]
    fit = fit_quality(train, corpus, labels, vocabulary, num_topics, seed)
    return {**fit, "vocabulary phrases": sum("-" in word for word in vocabulary), "documents kept": kept}


def _paired_ratio(timings: dict, name: str, measure: int) -> str:
    """The median of each repetition's own ratio to *before*, with their range (and, from 8
    repetitions, the middle half's). The machine's speed drifts between repetitions (on this one by a
    third within minutes); a repetition's two runs are back to back, so their ratio cancels the drift
    that a ratio of two medians keeps."""
    ratios = [own[measure] / anchor[measure] for own, anchor in zip(timings[name], timings["before"])]
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    if len(ratios) >= 8:
        lower, _, upper = statistics.quantiles(ratios, n=4)
        spread += f", middle half {lower:.2f}-{upper:.2f}"
    return f"{statistics.median(ratios):.2f}x, {spread}"


def summary(values: list, form: str) -> str:
    """The median, and the range when the fits differ."""
    median = form.format(statistics.median(values))
    low, high = min(values), max(values)
    return median if low == high else f"{median} ({form.format(low)}-{form.format(high)})"


def print_table_head(names: list) -> None:
    print("| measure | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")


def print_speed_rows(timings: dict) -> None:
    for label, measure in (("wall clock", 0), ("CPU (all processes)", 1)):
        print(f"| preparation, {label} | " + " | ".join(
            f"{statistics.median(t[measure] for t in times):.2f} s"
            + ("" if name == "before" else f" ({_paired_ratio(timings, name, measure)})") for name, times in timings.items()) + " |")


def print_speed(arguments: argparse.Namespace, timings: dict) -> None:
    print(f"\n{arguments.corpus.name}, --strip-headers, medians of {arguments.repetitions} repetitions "
          f"(ratio: median of each repetition's own, its range); load average {os.getloadavg()[0]:.1f} at the end\n")
    print_table_head(list(timings))
    print_speed_rows(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--label-field", default="group")
    parser.add_argument("--num-topics", type=int, default=20)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--show-topics", action="store_true", help="print every topic's top 10 words")
    parser.add_argument("--speed-only", action="store_true",
                        help="time the preparations of before and defaults only, no fits (for many repetitions)")
    arguments = parser.parse_args()
    if not arguments.corpus.exists():
        parser.error(f"{arguments.corpus} not found (the 20 Newsgroups file lives in ../shared/data)")
    with tempfile.TemporaryDirectory() as scratch:
        stop_list = Path(scratch) / "sklearn-english.txt"
        stop_list.write_text("\n".join(sorted(ENGLISH_STOP_WORDS)) + "\n", encoding="utf-8")
        runs = variants(stop_list)
        if arguments.speed_only:
            runs = {name: runs[name] for name in ("before", "defaults")}
        timings = {name: [] for name in runs}
        fits = {name: [] for name in runs}
        for repetition in range(arguments.repetitions):
            # Every other repetition runs the variants in the reverse order: none always goes first.
            for name in list(runs) if repetition % 2 == 0 else list(runs)[::-1]:
                timings[name].append(prepare(arguments.corpus, runs[name], arguments.label_field, repetition, Path(scratch) / name))
            # The fits come after the repetition's preparations, so that they do not overlap a timing.
            for name in runs:
                if not arguments.speed_only:
                    fits[name].append(quality(Path(scratch) / name, arguments.num_topics, repetition))
                shutil.rmtree(Path(scratch) / name)
            print(f"repetition {repetition + 1}: " + ", ".join(
                f"{name} {times[-1][1]:.2f} s CPU" + ("" if arguments.speed_only else f", uniqueness {fits[name][-1]['uniqueness']:.3f}")
                for name, times in timings.items()), file=sys.stderr, flush=True)
    if arguments.speed_only:
        print_speed(arguments, timings)
        return 0
    results = {name: {measure: [fit[measure] for fit in runs_fits] for measure in runs_fits[0]} for name, runs_fits in fits.items()}
    names = list(runs)
    print(f"\n{arguments.corpus.name}, --strip-headers, NMF stand-in at {arguments.num_topics} topics, "
          f"medians (range) of {arguments.repetitions} repetitions (split and fit seeds 0..{arguments.repetitions - 1}); "
          f"load average {os.getloadavg()[0]:.1f} at the end\n")
    print_table_head(names)
    for measure, form in (("debris", "{:g}"), ("uniqueness", "{:.3f}"), ("coherence", "{:.3f}"), ("purity", "{:.3f}"),
                          ("phrases", "{:g}"), ("vocabulary phrases", "{:g}"), ("documents kept", "{:,.0f}")):
        label = {"debris": "debris words in the top 10s", "phrases": "phrases in the top 10s",
                 "vocabulary phrases": "phrases in the vocabulary", "coherence": "NPMI coherence",
                 "uniqueness": "topic uniqueness", "purity": "label purity",
                 "documents kept": "documents kept (the others too short or empty)"}[measure]
        print(f"| {label} | " + " | ".join(summary(results[name][measure], form) for name in names) + " |")
    print_speed_rows(timings)
    seen = {name: sorted({word for words in results[name]["words"] for row in words for word in row if word in DEBRIS}) for name in names}
    print("| debris words seen (any repetition) | " + " | ".join(" ".join(seen[name]) or "-" for name in names) + " |")
    if arguments.show_topics:
        for name in names:
            print(f"\n{name} (seed 0):")
            for number, words in enumerate(results[name]["words"][0]):
                print(f"  {number:2d} " + " ".join(words))
    return 0


if __name__ == "__main__":
    sys.exit(main())
