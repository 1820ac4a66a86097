"""The Discord channel against the sandbox webhook API over real HTTP (and a linked web page on
127.0.0.1 for the link card; ``httpx.MockTransport`` for peer failures the sandbox cannot play)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.discord import DiscordChannel
from staffetta.core.channel import DeliveryContext, Outcome, PublishResult, Reconciled
from staffetta.core.clock import SystemClock
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.sandbox import SandboxServer

NAME = "discord"
EMOJI = "😀"
PAGE = (
    "<!doctype html><html><head><title>Fallback title</title>"
    '<meta property="og:title" content="Spring &amp; the new site">'
    '<meta property="og:description" content="What changed, and why.">'
    '<meta property="og:image" content="/cover.png">'
    '<meta property="og:site_name" content="Example Journal">'
    "</head><body><p>Hello</p></body></html>"
)


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


@pytest.fixture
def page() -> Iterator[str]:
    """A web page on 127.0.0.1 with Open Graph tags, as the post's link."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/posts/spring"
    server.shutdown()
    server.server_close()
    thread.join()


def make_account(sb: SandboxServer, **settings: Any) -> Account:
    return Account("discord-1", "discord", "Hook", {"server": sb.platform_url(NAME), **settings})


def webhook_url(sb: SandboxServer) -> str:
    return f"{sb.platform_url(NAME)}/api/webhooks/{sb.issue_token(NAME)}"


def png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> str:
    PILImage.new("RGB", size, colour).save(path, "PNG")
    return str(path)


class Harness:
    def __init__(
        self,
        sb: SandboxServer,
        post: Post,
        *,
        channel: DiscordChannel | None = None,
        account: Account | None = None,
        url: str | None = None,
    ) -> None:
        self.sb = sb
        self.post = post
        self.channel = channel or DiscordChannel()
        self.account = account or make_account(sb)
        self.url = url or webhook_url(sb)
        self.checkpoints: list[dict[str, Any]] = []
        self.delivery = Delivery(1, 1, self.account.id, State.SENDING, "key", 0.0, 0.0, 1)

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(dict(checkpoint))

    def ctx(self, http: httpx.AsyncClient, delivery: Delivery | None = None) -> DeliveryContext:
        delivery = delivery or self.delivery
        if self.checkpoints:
            delivery = replace(delivery, checkpoint=self.checkpoints[-1])
        return DeliveryContext(
            self.post, self.account, delivery, self.url, http, SystemClock(), self.save
        )

    async def publish(self) -> PublishResult:
        async with httpx.AsyncClient(timeout=10.0) as http:
            return await self.channel.publish(self.ctx(http))

    async def reconcile(self, delivery: Delivery | None = None) -> Reconciled:
        async with httpx.AsyncClient(timeout=10.0) as http:
            return await self.channel.reconcile(self.ctx(http, delivery))

    def executes(self) -> int:
        return sum(
            1
            for r in self.sb.requests(NAME)
            if r["method"] == "POST" and "/messages/" not in r["path"]
        )


# --- connecting ---------------------------------------------------------------------------------


def test_verify_gets_the_webhook_and_names_its_channel(sb: SandboxServer) -> None:
    url = webhook_url(sb)
    channel = DiscordChannel()

    async def verify(account: Account, secret: str | None = url) -> str:
        async with httpx.AsyncClient(timeout=5.0) as http:
            return await channel.verify(http, account, secret)

    assert run(lambda: verify(make_account(sb))) == "#1100000000000000002"
    token = url.rsplit("/", 1)[1]
    with pytest.raises(AuthError, match="Invalid Webhook Token") as wrong:
        run(lambda: verify(make_account(sb), url.replace(token, "x" + token[1:])))
    assert token[1:] not in str(wrong.value)
    with pytest.raises(InputError, match=r"account's server is https://discord\.com"):
        run(lambda: verify(Account("d", "discord", "D", {}), url))
    with pytest.raises(InputError, match="leave the server empty"):
        run(lambda: verify(make_account(sb), f"https://discord.com/api/webhooks/1/{token}"))
    sb.revoke_tokens(NAME)  # the webhook is deleted in Discord
    with pytest.raises(AuthError, match="Unknown Webhook") as gone:
        run(lambda: verify(make_account(sb)))
    assert "Create a new webhook" in str(gone.value)
    assert all(token not in r["path"] for r in sb.requests(NAME))


def test_probe_asks_the_gateway_without_credentials(sb: SandboxServer) -> None:
    async def probe() -> None:
        async with httpx.AsyncClient(timeout=5.0) as http:
            await DiscordChannel().probe(http, make_account(sb))

    run(probe)
    assert sb.requests(NAME)[-1]["path"] == "/api/v10/gateway"
    sb.set_fault(NAME, "500")
    with pytest.raises(TransientError, match="HTTP 500"):
        run(probe)
    sb.set_fault(NAME, "down")
    with pytest.raises(TransientError, match="Could not reach Discord"):
        run(probe)


# --- publishing ---------------------------------------------------------------------------------


def test_text_link_card_emoji_and_images_with_alt_text(
    sb: SandboxServer, page: str, tmp_path: Path
) -> None:
    images = (
        Image(png(tmp_path / "red.png", (200, 0, 0)), alt="A red square on white"),
        Image(png(tmp_path / "blue.png", (0, 0, 200), (30, 60))),
    )
    body = f"**Spring** is here {EMOJI} — details: {page} @everyone"
    harness = Harness(sb, Post(body=body, title="Spring", link=page, images=images))
    result = run(harness.publish)

    (message,) = sb.posts(NAME)
    assert message["content"] == body
    assert result.remote_id == message["id"]
    assert result.url == (
        f"{sb.platform_url(NAME)}/channels/1100000000000000001/1100000000000000002/{message['id']}"
    )
    (card,) = message["embeds"]
    assert card == {
        "type": "rich",
        "url": page,
        "title": "Spring & the new site",
        "description": "What changed, and why.",
        "thumbnail": {"url": page.rsplit("/posts/", 1)[0] + "/cover.png"},
        "author": {"name": "Example Journal"},
    }
    assert message["allowed_mentions"] == {"parse": []}  # nobody is pinged by a cross-post
    first, second = message["attachments"]
    assert first["description"] == "A red square on white"
    assert "description" not in second
    assert [(a["width"], a["height"]) for a in message["attachments"]] == [(64, 48), (30, 60)]
    assert [u["description"] for u in sb.uploads(NAME) if "description" in u] == [
        "A red square on white"
    ]
    assert harness.checkpoints[-1]["message_id"] == message["id"]
    assert harness.checkpoints[-1]["card"]["title"] == "Spring & the new site"


def test_an_unreachable_page_still_gets_a_card_and_cards_can_be_off(sb: SandboxServer) -> None:
    post = Post(body="New post", title="My title", link="http://127.0.0.1:9/gone")
    run(Harness(sb, post).publish)
    run(Harness(sb, post, account=make_account(sb, link_card="off")).publish)
    with_card, without = sb.posts(NAME)
    assert with_card["embeds"] == [{"type": "rich", "url": post.link, "title": "My title"}]
    assert without["embeds"] == []
    assert without["flags"] == 4  # SUPPRESS_EMBEDS: no unfurl


def test_counts_at_the_limit_match_the_sandbox(sb: SandboxServer) -> None:
    exactly = Post(body=EMOJI * 2000)
    assert DiscordChannel().preview(exactly, make_account(sb)).count == 2000
    run(Harness(sb, exactly).publish)
    over = Post(body=EMOJI * 2001)
    assert DiscordChannel().preview(over, make_account(sb)).blocking
    with pytest.raises(PermanentError, match="content: Must be 2000 or fewer in length"):
        run(Harness(sb, over).publish)
    assert [len(m["content"]) for m in sb.posts(NAME)] == [2000]


def test_files_over_the_size_limit_are_refused_permanently(
    sb: SandboxServer, tmp_path: Path
) -> None:
    sb.configure(NAME, max_file_bytes=100)
    post = Post(body="big", images=(Image(png(tmp_path / "a.png", (1, 2, 3), (300, 300))),))
    with pytest.raises(PermanentError, match="too large"):
        run(Harness(sb, post).publish)


# --- rate limits --------------------------------------------------------------------------------


def test_a_used_up_window_makes_the_next_post_wait_without_a_request(sb: SandboxServer) -> None:
    sb.configure(NAME, rate_limit=[2, 30])
    channel, url = DiscordChannel(), webhook_url(sb)
    run(Harness(sb, Post(body="one"), channel=channel, url=url).publish)
    run(Harness(sb, Post(body="two"), channel=channel, url=url).publish)  # Remaining: 0
    third = Harness(sb, Post(body="three"), channel=channel, url=url)
    sent_before = third.executes()
    with pytest.raises(RateLimited, match="resets in") as waiting:
        run(third.publish)
    assert waiting.value.retry_after is not None
    assert 25 < waiting.value.retry_after <= 30
    assert third.executes() == sent_before  # nothing was sent to be refused

    # Another process (no memory of the headers) gets Discord's 429 and its retry_after.
    fresh = Harness(sb, Post(body="three"), url=url)
    with pytest.raises(RateLimited, match="this webhook") as limited:
        run(fresh.publish)
    assert limited.value.retry_after is not None
    assert 25 < limited.value.retry_after <= 30
    assert [m["content"] for m in sb.posts(NAME)] == ["one", "two"]


def test_a_global_429_and_a_bare_one(sb: SandboxServer) -> None:
    reply = httpx.Response(
        429,
        json={"message": "You are being rate limited.", "retry_after": 1.5, "global": True},
        headers={"Retry-After": "2", "X-RateLimit-Global": "true"},
    )
    url = f"https://discord.com/api/webhooks/1/{'t' * 60}"

    async def publish() -> None:
        transport = httpx.MockTransport(lambda _request: reply)
        async with httpx.AsyncClient(transport=transport) as http:
            harness = Harness(sb, Post(body="x"), account=Account("d", "discord", "D", {}), url=url)
            harness.channel._hooks["1"] = {"guild_id": "1", "channel_id": "2", "name": "h"}
            await harness.channel.publish(harness.ctx(http))

    with pytest.raises(RateLimited, match="global limit") as limited:
        run(publish)
    assert limited.value.retry_after == 1.5
    sb.set_fault(NAME, "429", retry_after=7, count=1, writes_only=True)
    with pytest.raises(RateLimited) as bare:
        run(Harness(sb, Post(body="x")).publish)
    assert bare.value.retry_after == 7


# --- failures and reconciling -------------------------------------------------------------------


def test_down_is_transient_and_a_lost_answer_is_unknown(sb: SandboxServer) -> None:
    harness = Harness(sb, Post(body="hello"))
    sb.set_fault(NAME, "down")
    with pytest.raises(TransientError, match="Could not reach Discord") as down:
        run(harness.publish)
    assert not isinstance(down.value, UnknownOutcome)
    sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    with pytest.raises(UnknownOutcome, match="did not answer"):
        run(harness.publish)
    assert [m["content"] for m in sb.posts(NAME)] == ["hello"]


def test_reconcile_looks_up_the_stored_message_id(sb: SandboxServer) -> None:
    harness = Harness(sb, Post(body="kept"))
    result = run(harness.publish)
    verdict = run(harness.reconcile)
    assert (verdict.outcome, verdict.remote_id, verdict.url) == (
        Outcome.SENT,
        result.remote_id,
        result.url,
    )
    # Someone deleted it: say so, and let the user decide.
    with httpx.Client() as http:
        reply = http.delete(f"{harness.url}/messages/{result.remote_id}")
        assert reply.status_code == 204
    gone = run(harness.reconcile)
    assert gone.outcome is Outcome.UNKNOWN
    assert f"message {result.remote_id}" in gone.evidence
    assert "deleted" in gone.evidence
    assert harness.executes() == 1


def test_reconcile_without_a_message_id_is_unknown_with_evidence(sb: SandboxServer) -> None:
    harness = Harness(sb, Post(body="lost answer"))
    sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    with pytest.raises(UnknownOutcome) as lost:
        run(harness.publish)
    delivery = replace(
        harness.delivery,
        state=State.RECONCILING,
        last_attempt_at=1_800_000_000.0,
        last_error=str(lost.value),
    )
    verdict = run(lambda: harness.reconcile(delivery))
    assert verdict.outcome is Outcome.UNKNOWN
    assert "cannot tell whether this post went out" in verdict.evidence
    assert "2027-01-15 08:00:00 UTC" in verdict.evidence
    assert "/channels/1100000000000000001/1100000000000000002" in verdict.evidence
    assert harness.executes() == 1  # reconciling never re-sends
    token = harness.url.rsplit("/", 1)[1]
    assert token not in verdict.evidence


def test_the_webhook_token_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    token = "Qw3_" + "z9Y8x7W6v5" * 6
    url = f"https://discord.com/api/webhooks/42/{token}"

    def peer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.RemoteProtocolError(f"peer closed connection for {request.url}")
        return httpx.Response(200, json={"id": "42", "guild_id": "1", "channel_id": "2"})

    async def publish() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(peer)) as http:
            channel = DiscordChannel()
            account = Account("d", "discord", "D", {})
            delivery = Delivery(1, 1, "d", State.SENDING, "k", 0.0, 0.0)

            async def save(_c: dict[str, Any]) -> None:
                pass

            ctx = DeliveryContext(
                Post(body="hi"), account, delivery, url, http, SystemClock(), save
            )
            await channel.publish(ctx)

    with caplog.at_level(logging.DEBUG), pytest.raises(UnknownOutcome) as caught:
        run(publish)
    assert "/webhooks/42/<token>" in str(caught.value)
    assert caplog.records, "httpx logged nothing: the test would prove nothing"
    for text in [str(caught.value), *(r.getMessage() for r in caplog.records)]:
        assert token not in text


# --- the sandbox webhook API itself -------------------------------------------------------------


def test_sandbox_webhook_errors_have_discords_shape(sb: SandboxServer) -> None:
    url = webhook_url(sb)
    hook_id, token = url.rsplit("/", 2)[1:]
    with httpx.Client(timeout=5.0) as http:
        assert http.get(f"{sb.platform_url(NAME)}/api/webhooks/999/{token}").json() == {
            "message": "Unknown Webhook",
            "code": 10015,
        }
        wrong = http.get(url[:-1] + ("A" if url[-1] != "A" else "B"))
        assert (wrong.status_code, wrong.json()["code"]) == (401, 50027)
        empty = http.post(url, json={"content": "  "})
        assert (empty.status_code, empty.json()["code"]) == (400, 50006)
        invalid = http.post(
            url + "?wait=true",
            json={"content": "x", "embeds": [{"title": "t" * 257}], "attachments": [{"id": 3}]},
        )
        assert invalid.status_code == 400
        errors = invalid.json()["errors"]
        assert errors["embeds"]["0"]["title"]["_errors"][0]["message"] == (
            "Must be 256 or fewer in length."
        )
        assert errors["attachments"]["0"]["id"]["_errors"][0]["code"] == "ATTACHMENT_NOT_FOUND"
        fire_and_forget = http.post(url, json={"content": "no wait"})
        assert fire_and_forget.status_code == 204
    assert [m["content"] for m in sb.posts(NAME)] == ["no wait"]
    assert all(token not in repr(entry) for entry in sb.requests(NAME))
    assert sb.requests(NAME)[-1]["path"] == f"/api/webhooks/{hook_id}/<token>"


def test_sandbox_rate_limit_headers_and_429_body(sb: SandboxServer) -> None:
    sb.configure(NAME, rate_limit=[1, 5])
    url = webhook_url(sb) + "?wait=true"
    with httpx.Client(timeout=5.0) as http:
        first = http.post(url, json={"content": "one"})
        second = http.post(url, json={"content": "two"})
    assert first.headers["x-ratelimit-remaining"] == "0"
    assert 4.9 <= float(first.headers["x-ratelimit-reset-after"]) <= 5
    assert second.status_code == 429
    body = second.json()
    assert body["global"] is False
    assert 4 < body["retry_after"] <= 5
    assert second.headers["retry-after"] == "5"
    assert second.headers["x-ratelimit-scope"] == "user"
