"""Command-line option types shared by training.prepare, term_counts, report and compare."""

from __future__ import annotations

import argparse
import os
import re
from typing import Callable


def document_frequency_bound(text: str) -> int | float:
    """A whole number is a count of documents, a number with a point a fraction of them."""
    if re.fullmatch(r"\d+", text):
        return int(text)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a document count nor a fraction between 0 and 1")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction between 0 and 1 (exclusive)")
    return value


def npmi_threshold(text: str) -> float:
    """A normalized PMI a phrase must reach: above 0 (more often together than by chance) up to 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an NPMI threshold above 0 and at most 1")
    return value


def at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= {minimum}")
        return value

    return parse


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """Where the documents are and how to read them."""
    parser.add_argument("--input", nargs="+", required=True, metavar="PATH", help="JSON Lines (.jsonl[.gz]), CSV (.csv[.gz]) or plain-text files, or folders of them")
    parser.add_argument("--text-field", default="text", help="JSON field / CSV column of the text (default text)")
    parser.add_argument("--id-field", default="id", help="JSON field / CSV column of the document id (default id)")
    parser.add_argument("--label-field", default="label", help="JSON field / CSV column of the label (default label)")
    parser.add_argument("--strip-headers", action="store_true", help="drop e-mail/news headers, quoted replies and signatures")
    parser.add_argument("--no-clean-text", dest="clean_text", action="store_false",
                        help="keep e-mail addresses, URLs, host names, contraction fragments and numeric table rows (cleaned by default)")
    parser.add_argument("--workers", type=at_least(1), default=_usable_cpus(), help="tokenizing processes (default: the usable CPUs)")


def add_vocabulary_options(parser: argparse.ArgumentParser) -> None:
    """How the vocabulary is chosen from the counts."""
    parser.add_argument("--vocab-size", type=at_least(1), default=2000, help="most frequent words kept (default 2000)")
    parser.add_argument("--min-df", type=document_frequency_bound, default=2, help="drop words in fewer documents: a count, or a fraction with a point (default 2)")
    parser.add_argument("--max-df", type=document_frequency_bound, default=0.95, help="drop words in more documents: a count, or a fraction (default 0.95)")
    parser.add_argument("--num-topics", type=at_least(2), help="fail if the vocabulary has fewer words than this")
    parser.add_argument("--stop-words", nargs="+", default=[], metavar="WORD",
                        help="more stop words (never vocabulary words); commas separate words too")
    parser.add_argument("--stop-words-file", action="append", default=[], metavar="FILE",
                        help="a UTF-8 file of stop words, one a line (# starts a comment); may be repeated")
    parser.add_argument("--no-default-stop-words", dest="default_stop_words", action="store_false",
                        help="use only the given stop words, not the built-in English list")
