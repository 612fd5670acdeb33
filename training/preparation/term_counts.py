"""The passes of a corpus too large for one machine, as separate commands (docs/corpus-preparation.md):

    python -m training.term_counts count --input SHARD... --output counts-00.tsv [reading options]
    python -m training.term_counts vocabulary --counts counts-*.tsv --output vocab.txt [vocabulary options]
    python -m training.prepare --input SHARD... --vocabulary vocab.txt --seed N --output dataset-N

The first and last run on every instance over its share of the input, the second once over all
the count files: the vocabulary is then the one a single machine would choose from the whole
corpus. A count file is UTF-8 text: "#documents<TAB>N", then "term<TAB>tf<TAB>df" per term.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from training.common.cli_options import add_reading_options, add_vocabulary_options
from training.preparation.corpus_readers import discover
from training.preparation.counting import count_corpus
from training.preparation.errors import PrepareError
from training.preparation.stop_words import user_stop_words
from training.preparation.text_terms import TextSettings
from training.preparation.vocabulary import (
    TermTable,
    check_vocabulary,
    choose_vocabulary,
    write_vocabulary,
)

_DOCUMENTS = "#documents"


def write_counts(path: Path, table: TermTable) -> None:
    terms = table.terms
    with open(path, "w", encoding="utf-8") as counts:
        counts.write(f"{_DOCUMENTS}\t{table.documents}\n")
        for term, frequency, documents in zip(terms, table.term_frequency.tolist(), table.document_frequency.tolist()):
            counts.write(f"{term}\t{frequency}\t{documents}\n")


def read_counts(paths: list[Path]) -> TermTable:
    """The counts of several files added up, as if one run had counted all their documents."""
    table = TermTable()
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
            label, documents = lines[0].split("\t")
            rows = [line.split("\t") for line in lines[1:]]
            if label != _DOCUMENTS or any(len(row) != 3 for row in rows):
                raise ValueError("not a count file")
            numbers = np.array([row[1:] for row in rows], dtype=np.int64).reshape(-1, 2)
        except (OSError, UnicodeDecodeError, IndexError, ValueError) as error:
            raise PrepareError(f"cannot read the count file {path}: {error}") from None
        table.add_counts([row[0] for row in rows], numbers[:, 0], numbers[:, 1], int(documents))
    return table


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.term_counts", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    count = commands.add_parser("count", help="count the terms of some input files")
    add_reading_options(count)
    count.add_argument("--output", required=True, metavar="FILE", help="the count file to write")
    vocabulary = commands.add_parser("vocabulary", help="choose the vocabulary from count files")
    vocabulary.add_argument("--counts", nargs="+", required=True, metavar="FILE", help="count files, one per instance")
    vocabulary.add_argument("--output", required=True, metavar="FILE", help="the vocab.txt to write")
    add_vocabulary_options(vocabulary)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        if arguments.command == "count":
            table, _ = count_corpus(arguments, discover(arguments.input), spool=None)
            write_counts(Path(arguments.output), table)
            print(f"counted {len(table.terms):,} terms in {table.documents:,} documents -> {arguments.output}")
        else:
            table = read_counts([Path(path) for path in arguments.counts])
            text = TextSettings(default_stop_words=arguments.default_stop_words,
                                stop_words=user_stop_words(arguments.stop_words, arguments.stop_words_file))
            words = choose_vocabulary(table, arguments.vocab_size, arguments.min_df, arguments.max_df, text.all_stop_words)
            check_vocabulary(words, table, arguments)
            write_vocabulary(Path(arguments.output), words)
            print(f"chose {len(words):,} words from {table.documents:,} documents -> {arguments.output}")
    except PrepareError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
