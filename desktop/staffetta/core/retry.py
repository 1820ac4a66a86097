"""When to try again: pure functions of attempt counts, server hints and an injected RNG."""

from __future__ import annotations

import random
from typing import NamedTuple


class RetryPolicy(NamedTuple):
    """Exponential backoff, capped, never giving up: a day-long outage must still deliver.

    ``base`` doubles per attempt up to ``cap``. Delivery retries use *full jitter* (a uniform draw
    below the exponential bound) so many waiting posts don't retry in lockstep. Probes of a platform
    that is down use *equal jitter* (between half the bound and the bound), which keeps them to at
    most one per half backoff period while still spreading them out.
    """

    base: float = 2.0
    cap: float = 300.0
    # Consecutive transient failures that mark an endpoint down (circuit breaker opens).
    breaker_threshold: int = 3
    # How long a lease protects a delivery from other processes if its owner stops answering.
    lease_seconds: float = 600.0
    # Largest wait we accept from a server's Retry-After (a bogus header must not park posts).
    max_server_wait: float = 6 * 3600.0

    def exponential(self, attempt: int) -> float:
        """The bound for the ``attempt``-th consecutive failure (1-based), capped."""
        exponent = min(max(attempt, 1) - 1, 32)
        return float(min(self.cap, self.base * (2**exponent)))

    def retry_delay(self, attempt: int, rng: random.Random, retry_after: float | None) -> float:
        """Seconds until a delivery that failed transiently may be tried again."""
        if retry_after is not None:
            # Honour the server exactly, plus a sliver of jitter (5 %, at most 0.25 s) so a burst
            # doesn't reconvene in lockstep without wasting much of a short rate-limit window.
            wait = min(max(0.0, retry_after), self.max_server_wait)
            return wait + rng.uniform(0.0, min(0.25, 0.05 * wait + 0.01))
        return rng.uniform(0.0, self.exponential(attempt))

    def probe_delay(self, probes: int, rng: random.Random) -> float:
        """Seconds until the next health probe of a platform that has failed ``probes`` times."""
        bound = self.exponential(probes + 1)
        return rng.uniform(bound / 2, bound)
