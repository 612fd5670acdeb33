"""The counting pass: read and tokenize every document in worker processes, add up term and
document frequencies, and spool each document's tokens for the encoding pass."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from queue import Empty, Queue
from typing import Callable

from training.preparation.corpus_readers import Fields, InputFile, read_batches
from training.preparation.errors import PrepareError
from training.preparation.text_terms import TextSettings
from training.preparation.token_spool import TokenSpool
from training.preparation.tokenizer import TokenizeSettings, tokenize_batch
from training.preparation.vocabulary import TermTable

_PROGRESS_SECONDS = 5.0


class Progress:
    """A line on stderr every few seconds, so a long run shows it is moving."""

    def __init__(self, stage: str) -> None:
        self._stage = stage
        self._start = self._last = time.monotonic()

    def update(self, documents: int) -> None:
        now = time.monotonic()
        if now - self._last >= _PROGRESS_SECONDS:
            self._last = now
            rate = documents / (now - self._start)
            print(f"{self._stage}: {documents:,} documents ({rate:,.0f}/s)", file=sys.stderr, flush=True)


def _ordered_map(function: Callable, items: Iterable, workers: int) -> Iterator:
    """map() over worker processes, in order, with few items in flight so memory stays bounded
    (Pool.imap would read the whole input ahead)."""
    if workers <= 1:
        yield from map(function, items)
        return
    pool = ProcessPoolExecutor(workers)
    pending: deque = deque()
    try:
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        # Work not started is dropped when the consumer stops early (an error). Cancelling each
        # future, not shutdown(cancel_futures=True): that argument is Python 3.9+, and the
        # processing image may run 3.8.
        for future in pending:
            future.cancel()
        pool.shutdown()


def _read_ahead(items: Iterator, depth: int) -> Iterator:
    """Iterate `items` in a thread, `depth` ahead: decompressing and reading release the GIL, so
    they overlap with the main process's counting."""
    queue: Queue = Queue(depth)
    finished, stop = object(), threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put(item)
            queue.put(finished)
        except BaseException as error:  # handed to the consumer, which raises it
            queue.put(error)

    reader = threading.Thread(target=produce, daemon=True)
    reader.start()
    try:
        while True:
            item = queue.get()
            if item is finished:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # A consumer that stops early (an error) must not leave the reader blocked on a full queue.
        stop.set()
        while reader.is_alive():
            with contextlib.suppress(Empty):
                queue.get(timeout=0.01)


def count_corpus(arguments: argparse.Namespace, files: list[InputFile], spool: TokenSpool | None) -> tuple[TermTable, int]:
    """Term counts of the corpus, and how many documents held bytes that are not UTF-8."""
    table = TermTable()
    text = TextSettings(strip_headers=arguments.strip_headers, clean_text=arguments.clean_text)
    settings = TokenizeSettings(Fields(arguments.text_field, arguments.id_field, arguments.label_field), text)
    progress = Progress("counting")
    undecodable = 0
    batches = _read_ahead(read_batches(files, settings.fields), 2 * arguments.workers)
    for batch in _ordered_map(partial(tokenize_batch, settings=settings), batches, arguments.workers):
        term_ids = table.add(batch)
        if spool is not None:
            spool.append(term_ids[batch.token_ids], batch.document_lengths, batch.labelled, batch.metadata)
        undecodable += batch.undecodable_documents
        progress.update(table.documents)
    if table.documents == 0:
        raise PrepareError(f"no documents found in {', '.join(arguments.input)}")
    return table, undecodable
