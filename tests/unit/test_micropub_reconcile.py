"""How a lost answer is settled on servers that answer ``q=source`` in their own shapes."""

from __future__ import annotations

from typing import Any

import httpx

from staffetta.channels.micropub import MicropubChannel
from staffetta.core.channel import DeliveryContext, Outcome
from staffetta.core.clock import FakeClock
from staffetta.core.model import Account, Delivery, Post, State

ENDPOINT = "https://a.example/micropub"


def context(http: httpx.AsyncClient, **settings: str) -> DeliveryContext:
    account = Account(
        "m-1",
        "micropub",
        "Site",
        {"site_url": "https://a.example", "micropub_endpoint": ENDPOINT, **settings},
    )
    delivery = Delivery(
        1,
        1,
        "m-1",
        State.SENDING,
        "key",
        0.0,
        0.0,
        1,
        checkpoint={"slug": "hello-1234", "date": "2026-03-04T05:06:07+00:00"},
    )

    async def save(_checkpoint: dict[str, Any]) -> None:
        return None

    return DeliveryContext(
        Post(body="b", title="Hello"), account, delivery, "token", http, FakeClock(), save
    )


def site(items: list[Any], by_url: dict[str, Any] | None = None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        q, url = request.url.params.get("q"), request.url.params.get("url")
        if q == "config":
            return httpx.Response(200, json={"q": ["config", "source"]})
        if url is not None:
            found = (by_url or {}).get(url)
            return (
                httpx.Response(200, json=found)
                if found
                else httpx.Response(400, json={"error": "invalid_request"})
            )
        return httpx.Response(200, json={"items": items})

    return httpx.MockTransport(answer)


async def test_odd_shapes_in_the_listing_do_not_break_the_search() -> None:
    items = [
        "not an entry",
        {"properties": None},
        {"properties": {"url": "https://a.example/other", "mp-slug": "other"}},
        {"properties": {"url": ["https://a.example/2026/03/hello-1234"]}},
    ]
    async with httpx.AsyncClient(transport=site(items)) as http:
        verdict = await MicropubChannel().reconcile(context(http))
    assert verdict.outcome is Outcome.SENT
    assert verdict.url == "https://a.example/2026/03/hello-1234"


async def test_a_listing_without_the_post_means_not_sent() -> None:
    async with httpx.AsyncClient(
        transport=site([{"properties": {"url": ["https://a.example/x"]}}])
    ) as http:
        verdict = await MicropubChannel().reconcile(context(http))
    assert verdict.outcome is Outcome.NOT_SENT
    assert "hello-1234" in verdict.evidence


async def test_the_expected_address_comes_from_the_pattern_and_the_first_attempts_date() -> None:
    expected = "https://a.example/2026/03/04/hello-1234"
    entry = {"type": ["h-entry"], "properties": {"name": ["Hello"]}}
    transport = site([], {expected: entry})
    async with httpx.AsyncClient(transport=transport) as http:
        ctx = context(http, post_url="https://a.example/{year}/{month}/{day}/{slug}")
        verdict = await MicropubChannel().reconcile(ctx)
    assert (verdict.outcome, verdict.url) == (Outcome.SENT, expected)
