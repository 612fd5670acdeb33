"""A one-line progress bar on stderr for long inputs (only when stderr is a terminal, or asked for)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, stream: TextIO = sys.stderr, enabled: bool | None = None, every_seconds: float = 0.2) -> None:
        self._stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self._every = every_seconds
        self._started = self._last = time.monotonic()

    def update(self, done: int, failed: int, total: int | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self._every):
            return
        self._last = now
        rate = done / max(now - self._started, 1e-9)
        if total:
            filled = int(WIDTH * min(done / total, 1.0))
            bar = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {done:,}/{total:,}"
        else:
            bar = f"{done:,} documents"
        self._stream.write(f"\r{bar} ({failed:,} failed, {rate:,.0f}/s)")
        self._stream.flush()

    def finish(self, done: int, failed: int, total: int | None = None) -> None:
        if self.enabled:
            self.update(done, failed, total, force=True)
            self._stream.write("\n")
            self._stream.flush()
