"""Topics of new documents from the pipeline's endpoint.

Reads JSON Lines (`{"id": ..., "text": "..."}` a line; `-` for stdin) or `--text` arguments, sends
them in as few requests as the 6 MB payload limit allows, and writes one JSON line per document,
in input order: `{"id", "topic_weights", "dominant_topics": [{"topic", "weight", "words"}]}`, or
`{"id", "error"}` for a document that got no answer. Exit status 0 when every document was
answered, 1 when some were not, 2 when the run could not start (e.g. the endpoint is not InService).
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from typing import Any, TextIO

import boto3

from ntm_client.batching import DEFAULT_DOCUMENTS_PER_REQUEST, MAX_PAYLOAD_BYTES, Batch, batches, instance
from ntm_client.documents import Document, DocumentError, from_texts, read_json_lines
from ntm_client.endpoint import EndpointError, TopicEndpoint
from ntm_client.progress import ProgressBar
from ntm_client.topic_words import load_topic_words

HELP = "topic weights and dominant topics of new documents"
# A whole batch refused for one of these may be one bad document: each is then asked alone.
_PER_DOCUMENT_ERRORS = {"ModelError", "ValidationError"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", required=True, help="the endpoint's name (the stack's endpoint_name)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", metavar="FILE", help="JSON Lines of documents, or - for stdin")
    source.add_argument("--text", action="append", metavar="TEXT", help="a document's text (repeat for more)")
    parser.add_argument("--output", metavar="FILE", default="-", help="where the JSON Lines go (default stdout)")
    parser.add_argument("--topics", metavar="FILE_OR_S3_URI",
                        help="the run's report/topics.json, to name each dominant topic's top words")
    parser.add_argument("--dominant", type=int, default=3, help="dominant topics listed per document (default 3)")
    parser.add_argument("--words", type=int, default=8, help="top words listed per dominant topic (default 8)")
    parser.add_argument("--text-field", default="text", help="the JSON field holding the text (default text)")
    parser.add_argument("--id-field", default="id", help="the JSON field holding the id (default id)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_DOCUMENTS_PER_REQUEST,
                        help=f"most documents per request (default {DEFAULT_DOCUMENTS_PER_REQUEST})")
    parser.add_argument("--max-payload-bytes", type=int, default=MAX_PAYLOAD_BYTES, help=argparse.SUPPRESS)
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar on stderr (default: when stderr is a terminal)")


def dominant_topics(weights: list[float], count: int, words: list[list[str]] | None, word_count: int) -> list[dict]:
    order = sorted(range(len(weights)), key=lambda topic: (-weights[topic], topic))[:count]
    return [{"topic": topic, "weight": weights[topic], **({"words": words[topic][:word_count]} if words else {})}
            for topic in order]


class _Writer:
    def __init__(self, output: TextIO, arguments: argparse.Namespace, words: list[list[str]] | None) -> None:
        self._output, self._arguments, self._words = output, arguments, words
        self.answered = self.failed = 0

    def answer(self, document: Document, weights: list[float]) -> None:
        self.answered += 1
        line = {"id": document.id, "topic_weights": weights,
                "dominant_topics": dominant_topics(weights, self._arguments.dominant, self._words, self._arguments.words)}
        self._output.write(json.dumps(line, ensure_ascii=False) + "\n")

    def error(self, document_id: object, message: str) -> None:
        self.failed += 1
        self._output.write(json.dumps({"id": document_id, "error": message}, ensure_ascii=False) + "\n")


def _ask(endpoint: TopicEndpoint, batch: Batch, writer: _Writer) -> None:
    try:
        answers = endpoint.topic_weights(batch.body())
    except EndpointError as error:
        if error.code in _PER_DOCUMENT_ERRORS and len(batch.documents) > 1:
            for document in batch.documents:
                _ask(endpoint, Batch([document], [instance(document)]), writer)
            return
        for document in batch.documents:
            writer.error(document.id, str(error))
        return
    if len(answers) != len(batch.documents):
        for document in batch.documents:
            writer.error(document.id, f"the endpoint answered {len(answers)} documents for {len(batch.documents)}")
        return
    for document, weights in zip(batch.documents, answers):
        writer.answer(document, weights)


def run(arguments: argparse.Namespace, session: Any = None) -> int:
    session = session or boto3.session.Session(region_name=arguments.region)
    endpoint = TopicEndpoint(session.client("sagemaker-runtime"), session.client("sagemaker"), arguments.endpoint)
    with ExitStack() as stack:
        try:
            endpoint.require_in_service()
            words = load_topic_words(arguments.topics, session.client("s3")) if arguments.topics else None
            if arguments.text:
                items = from_texts(arguments.text)
            elif arguments.input == "-":
                items = read_json_lines(sys.stdin.buffer, arguments.text_field, arguments.id_field)
            else:
                items = read_json_lines(stack.enter_context(open(arguments.input, "rb")), arguments.text_field, arguments.id_field)
            output = sys.stdout if arguments.output == "-" else stack.enter_context(open(arguments.output, "w", encoding="utf-8"))
        except (EndpointError, OSError, ValueError, KeyError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        writer = _Writer(output, arguments, words)
        progress = ProgressBar(enabled=arguments.progress)
        for item in batches(items, arguments.max_payload_bytes, arguments.batch_size):
            if isinstance(item, DocumentError):
                writer.error(item.id, item.error)
            else:
                _ask(endpoint, item, writer)
            progress.update(writer.answered + writer.failed, writer.failed)
            output.flush()
        progress.finish(writer.answered + writer.failed, writer.failed)
    print(f"{writer.answered:,} documents answered, {writer.failed:,} failed; {endpoint.requests:,} requests "
          f"({endpoint.retries:,} retried), {endpoint.bytes_sent:,} bytes sent", file=sys.stderr)
    return 1 if writer.failed else 0
