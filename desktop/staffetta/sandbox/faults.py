"""Fault injection and rate limiting of one sandbox instance (pure state; no sockets here)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from staffetta.sandbox.platform import Response, iso_timestamp

FAULT_MODES = ("up", "down", "503", "500", "429", "timeout", "slow", "commit_drop")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_RETRY_AFTER = 30
DEFAULT_DELAY = 1.0


@dataclass(slots=True)
class Fault:
    """The fault of one instance. ``count`` = how many more matching requests it applies to
    (``None`` = until changed); ``writes_only`` = GET/HEAD requests are served normally."""

    mode: str = "up"
    retry_after: int | None = None
    delay: float | None = None
    count: int | None = None
    writes_only: bool = False

    @classmethod
    def checked(
        cls,
        mode: str,
        *,
        retry_after: float | None = None,
        delay: float | None = None,
        count: int | None = None,
        writes_only: bool = False,
    ) -> Fault:
        """A validated fault; raises ``ValueError`` for what the sandbox cannot do."""
        mode = str(mode)
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {', '.join(FAULT_MODES)}")
        if count is not None and int(count) < 1:
            raise ValueError("count must be at least 1")
        if mode == "down" and (count is not None or writes_only):
            raise ValueError(
                "'down' refuses connections before any request is read, so it cannot count "
                "requests or tell writes from reads; use '503' or 'commit_drop' for that"
            )
        if retry_after is not None and float(retry_after) < 0:
            raise ValueError("retry_after must not be negative")
        if delay is not None and float(delay) < 0:
            raise ValueError("delay must not be negative")
        return cls(
            mode=mode,
            retry_after=None if retry_after is None else math.ceil(float(retry_after)),
            delay=None if delay is None else float(delay),
            count=None if count is None else int(count),
            writes_only=bool(writes_only),
        )

    def take(self, method: str) -> Fault:
        """The fault that applies to one request of ``method``; consumes one of ``count``."""
        if self.mode == "up" or (self.writes_only and method.upper() not in WRITE_METHODS):
            return Fault()
        applied = Fault(self.mode, self.retry_after, self.delay, None, self.writes_only)
        if self.count is not None:
            self.count -= 1
            if self.count <= 0:
                self.mode, self.count, self.writes_only = "up", None, False
        return applied

    def describe(self) -> dict[str, Any]:
        return asdict(self)


class RateLimiter:
    """A fixed window: ``limit`` requests per ``window`` seconds, starting at the first request."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit = int(limit)
        self.window = float(window)
        self.started = -math.inf
        self.used = 0

    def hit(self, now: float) -> tuple[bool, list[tuple[str, str]]]:
        """Count one request: (allowed, headers to send). A refused request counts too."""
        if now >= self.started + self.window or now < self.started:
            self.started, self.used = now, 0
        self.used += 1
        reset = self.started + self.window
        headers = [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(max(0, self.limit - self.used))),
            ("X-RateLimit-Reset", iso_timestamp(reset)),
        ]
        if self.used <= self.limit:
            return True, headers
        return False, [*headers, ("Retry-After", str(max(1, math.ceil(reset - now))))]


def too_many_requests(headers: list[tuple[str, str]]) -> Response:
    return Response.json(429, {"error": "Too many requests"}, headers)


def fault_response(fault: Fault, now: float, limit: int | None) -> Response:
    """The answer of an injected 500, 503 or 429."""
    if fault.mode == "500":
        return Response.json(500, {"error": "We're sorry, but something went wrong on our end."})
    if fault.mode == "503":
        page = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
        response = Response.text(503, page, "text/html; charset=utf-8")
        if fault.retry_after is not None:
            response.headers.append(("Retry-After", str(fault.retry_after)))
        return response
    retry_after = DEFAULT_RETRY_AFTER if fault.retry_after is None else fault.retry_after
    return too_many_requests(
        [
            ("X-RateLimit-Limit", str(limit if limit is not None else 300)),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", iso_timestamp(now + retry_after)),
            ("Retry-After", str(retry_after)),
        ]
    )
