"""Time, injected: the engine asks a clock, so a test can run a six-hour outage in a second."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import asyncio
else:
    asyncio = lazy_module("asyncio")


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time and real sleeps."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to; ``sleep`` moves it forward instead of waiting.

    Tests drive the engine step by step (``run_once``, then ``advance_to(engine.next_wakeup())``)
    so hours of simulated outage take as long as the HTTP requests they cause.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)

    def advance_to(self, when: float) -> None:
        self._now = max(self._now, when)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)
