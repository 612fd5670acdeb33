"""Virtual time: Wait states and retry intervals are recorded, not slept."""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field

from tests.harness import gate


@dataclass(frozen=True)
class Pause:
    execution_arn: str | None
    state: str | None
    seconds: float
    reason: str  # "wait" (a Wait state) or "retry" (a Retry interval)
    at: datetime.datetime


@dataclass
class VirtualClock:
    pauses: list[Pause] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def pause(self, seconds: float, reason: str) -> None:
        execution_arn, state = gate.position()
        with self._lock:
            self.pauses.append(Pause(execution_arn, state, float(seconds), reason,
                                     datetime.datetime.now(datetime.timezone.utc)))

