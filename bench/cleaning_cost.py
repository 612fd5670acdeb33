"""What the cleaning (clean_text, the default) costs, step by step, inside one process.

    .venv/bin/python bench/cleaning_cost.py [CORPUS] [--repetitions 5]

CORPUS defaults to ../shared/data/20newsgroups.jsonl.gz. Every post is stripped of its message
parts first (--strip-headers, both sides do it); then, batch by batch as the preparation's workers
cut them (1,000 posts), the steps the cleaning adds are timed next to the tokenizing both sides do,
alternating within each batch so that a busy machine slows both alike:
- anchor: `\\w\\w+` over the lower-cased text (what --no-clean-text runs);
- ours: dropping table rows and program lines (text_terms.remove_listing_lines), the joined-token
  pattern (text_terms.JOINED_TOKEN), and turning the batch's joined tokens into terms
  (tokenizer._expand_tokens, after the ids are given as on both sides).
Printed: CPU seconds of each step over the corpus, medians of the repetitions, and what the
cleaning adds to the anchor's tokenizing. The whole preparation's ratio is bench/topic_quality.py's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))
from training.preparation import text_terms, tokenizer  # noqa: E402
from training.preparation.text_cleaning import clean_message  # noqa: E402

DEFAULT_CORPUS = REPOSITORY.parent / "shared" / "data" / "20newsgroups.jsonl.gz"
BATCH = 1000


def one_pass(batches: list) -> dict:
    seconds = defaultdict(float)
    clock = time.process_time
    for batch in batches:
        started = clock()
        # Kept for the batch, as the tokenizer keeps them (holding 175,000 strings costs too).
        anchor_tokens = [text_terms.PLAIN_TOKEN.findall(text.lower()) for text in batch]
        seconds["anchor: \\w\\w+ tokens"] += clock() - started
        del anchor_tokens
        started = clock()
        kept = [text_terms.remove_listing_lines(text) for text in batch]
        seconds["tables and program lines"] += clock() - started
        started = clock()
        per_document = [text_terms.JOINED_TOKEN.findall(text.lower()) for text in kept]
        seconds["joined tokens"] += clock() - started
        ids, tokens, lengths = tokenizer.id_stream(per_document)
        started = clock()
        tokenizer._expand_tokens(ids, tokens, lengths)
        seconds["joined tokens -> terms"] += clock() - started
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repetitions", type=int, default=5)
    arguments = parser.parse_args()
    if not arguments.corpus.exists():
        parser.error(f"{arguments.corpus} not found (the 20 Newsgroups file lives in ../shared/data)")
    with gzip.open(arguments.corpus, "rt", encoding="utf-8") as stream:
        texts = [clean_message(json.loads(line)["text"] or "") for line in stream if line.strip()]
    batches = [texts[start : start + BATCH] for start in range(0, len(texts), BATCH)]
    runs = []
    for _ in range(arguments.repetitions):
        text_terms._TERMS.clear()  # each repetition judges its tokens anew, as a fresh worker would
        runs.append(one_pass(batches))
    medians = {step: statistics.median(run[step] for run in runs) for step in runs[0]}
    anchor = medians.pop("anchor: \\w\\w+ tokens")
    print(f"{len(texts):,} posts, CPU seconds, medians of {arguments.repetitions}\n")
    print("| step | CPU s |\n|---|---|")
    print(f"| anchor: `\\w\\w+` tokens | {anchor:.3f} |")
    for step, value in medians.items():
        print(f"| {step} | {value:.3f} |")
    print(f"| cleaning adds (its steps - the anchor) | {sum(medians.values()) - anchor:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
