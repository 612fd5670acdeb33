"""The similarity stage's two processing jobs, as one command with two sub-commands:

    python -m training.similar index --topic-weights DIR --output DIR
    python -m training.similar neighbours --predictions DIR --documents FILE --k K --output DIR

`index` turns the NTM transform output into k-NN's training set and query rows; `neighbours`
turns k-NN's transform output into neighbours.jsonl (training.similarity.index, .neighbours).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.common.cli_options import at_least
from training.common.errors import JobInputError
from training.formats.recordio import RecordIOError
from training.similarity import index, neighbours


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.similar", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("index", help="topic vectors -> k-NN training set and query rows")
    build.add_argument("--topic-weights", type=Path, required=True, help="folder of the NTM transform output (*.out)")
    build.add_argument("--output", type=Path, required=True)
    collect = commands.add_parser("neighbours", help="k-NN transform output -> neighbours.jsonl")
    collect.add_argument("--predictions", type=Path, required=True, help="folder of the k-NN transform output (*.out)")
    collect.add_argument("--documents", type=Path, required=True, help="the dataset's documents.jsonl")
    collect.add_argument("--k", type=at_least(1), required=True, help="neighbours to keep per document")
    collect.add_argument("--output", type=Path, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "index":
            summary = index.write_index_inputs(index.load_topic_vectors(args.topic_weights), args.output)
            print(f"similar: indexed {summary['documents']} documents of {summary['num_topics']} topics into {args.output}")
        else:
            path = neighbours.collect(args.predictions, args.documents, args.k, args.output)
            print(f"similar: wrote {args.k} neighbours per document to {path}")
    except (JobInputError, RecordIOError) as error:
        print(f"similar: error: {error}", file=sys.stderr)
        return 2
    return 0
