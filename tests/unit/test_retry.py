"""Retry and rate-limit rules: pure functions, tested alone."""

from __future__ import annotations

import random

import httpx
import pytest

from staffetta.core.channel import classify_status, classify_transport_error, retry_after_seconds
from staffetta.core.errors import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.retry import RetryPolicy

POLICY = RetryPolicy(base=2.0, cap=300.0)
NOW = 1_800_000_000.0


def test_backoff_doubles_then_stays_at_the_cap() -> None:
    bounds = [POLICY.exponential(n) for n in range(1, 12)]
    assert bounds[:5] == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert bounds[-1] == 300.0
    assert POLICY.exponential(10_000) == 300.0  # a day-long outage neither overflows nor gives up


def test_full_jitter_stays_below_the_bound_and_spreads() -> None:
    rng = random.Random(1)
    delays = [POLICY.retry_delay(6, rng, None) for _ in range(500)]
    assert all(0.0 <= d <= 64.0 for d in delays)
    assert min(delays) < 10
    assert max(delays) > 54


def test_server_retry_after_is_never_shortened() -> None:
    rng = random.Random(2)
    for retry_after in (0.5, 1.0, 30.0, 120.0):
        delays = [POLICY.retry_delay(1, rng, retry_after) for _ in range(200)]
        assert all(retry_after <= d <= retry_after + 0.25 for d in delays)


def test_absurd_retry_after_is_clamped() -> None:
    assert POLICY.retry_delay(1, random.Random(3), 10**9) <= POLICY.max_server_wait + 0.25


def test_probes_keep_at_least_half_a_backoff_period_apart() -> None:
    rng = random.Random(4)
    for probes in range(0, 20):
        bound = POLICY.exponential(probes + 1)
        delay = POLICY.probe_delay(probes, rng)
        assert bound / 2 <= delay <= bound <= POLICY.cap


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "https://x.test"))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "120"}, 120.0),
        ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, None),  # a date in the past: 0
        ({"X-RateLimit-Reset": str(int(NOW + 90))}, 90.0),  # epoch seconds (Mastodon, X)
        ({"RateLimit-Reset": "45"}, 45.0),  # a delta (IETF draft)
        ({"X-RateLimit-Reset": "2027-01-15T08:00:30.000Z"}, None),  # ISO timestamp (Mastodon)
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], expected: float | None) -> None:
    seconds = retry_after_seconds(_response(429, **headers), NOW)
    if "Retry-After" in headers and expected is None:
        assert seconds == 0.0
    elif "X-RateLimit-Reset" in headers and expected is None:
        assert seconds is not None
        assert seconds > 0
    else:
        assert seconds == expected


def test_status_classification() -> None:
    assert isinstance(
        classify_status(_response(429, **{"Retry-After": "7"}), "P", "", NOW), RateLimited
    )
    assert classify_status(_response(429, **{"Retry-After": "7"}), "P", "", NOW).retry_after == 7
    assert isinstance(classify_status(_response(503), "P", "", NOW), TransientError)
    assert isinstance(classify_status(_response(401), "P", "bad token", NOW), AuthError)
    refused = classify_status(_response(422), "P", "Text can't be blank", NOW)
    assert isinstance(refused, PermanentError)
    assert str(refused) == "P said: Text can't be blank"


def test_transport_errors_split_on_whether_the_request_left() -> None:
    request = httpx.Request("POST", "https://x.test")
    refused = classify_transport_error(httpx.ConnectError("refused", request=request), "P")
    dropped = classify_transport_error(httpx.RemoteProtocolError("gone", request=request), "P")
    timed_out = classify_transport_error(httpx.ReadTimeout("slow", request=request), "P")
    assert type(refused) is TransientError
    assert isinstance(dropped, UnknownOutcome)
    assert isinstance(timed_out, UnknownOutcome)
