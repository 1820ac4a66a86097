"""The Buttondown channel against the sandbox Buttondown over HTTP, through the real Engine with
simulated time (there is no Buttondown server to install; the sandbox follows its documented API).

What a user relies on: the e-mail arrives as written (subject, Markdown body, images uploaded and
shown with their alt text, tags); it stays a draft unless the account says to send; a request
whose answer was lost is replayed under the same idempotency key and never makes a second e-mail,
and after the key's window the e-mail is found by its metadata instead; a revoked key asks to
reconnect in Buttondown's words.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.buttondown import DELIVERY_KEY, IDEMPOTENCY_WINDOW, ButtondownChannel
from staffetta.channels.registry import load_channels
from staffetta.core.channel import DeliveryContext, Fix, Outcome
from staffetta.core.clock import FakeClock
from staffetta.core.engine import Engine
from staffetta.core.errors import PermanentError, UnknownOutcome
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer
from staffetta.sandbox.buttondown import ButtondownPlatform

NAME = "buttondown"
POLICY = RetryPolicy(base=2.0, cap=300.0, breaker_threshold=5)
BODY = """## What changed

Staffetta now sends **newsletters** through Buttondown, *written once*.

- one post, every channel
- your readers, [your address](https://example.org/news)
"""


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


@dataclass
class World:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    secrets: SecretStore
    engine: Engine

    @property
    def platform(self) -> ButtondownPlatform:
        platform = self.sandbox.platform(NAME)
        assert isinstance(platform, ButtondownPlatform)
        return platform

    def account(self, **settings: str) -> Account:
        values = {"api_url": self.sandbox.platform_url(NAME), "status": "draft", **settings}
        account = self.store.add_account(NAME, "Letters", values)
        self.secrets.set(account.id, self.sandbox.issue_token(NAME, "jane"))
        return account

    def delivery(self) -> Delivery:
        (delivery,) = self.store.deliveries()
        return delivery

    def writes(self, path: str) -> int:
        return sum(
            1 for r in self.sandbox.requests(NAME) if r["method"] == "POST" and r["path"] == path
        )

    async def run_until_idle(self, *, max_steps: int = 200) -> None:
        for _ in range(max_steps):
            await self.engine.run_once()
            wake = self.engine.next_wakeup()
            if wake is None:
                return
            self.clock.advance_to(wake)
        raise AssertionError("the engine never became idle")


@pytest.fixture
async def world(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    store = Store.open(tmp_path / "outbox.sqlite3", clock)
    secrets = SecretStore(MemoryKeyring())
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        engine = Engine(
            store, load_channels(), secrets, http, clock, rng=random.Random(5), policy=POLICY
        )
        yield World(sandbox, store, clock, secrets, engine)
    store.close()


def picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (120, 80)) -> str:
    PILImage.new("RGB", size, colour).save(path)
    return str(path)


def two_images(folder: Path) -> tuple[Image, Image]:
    return (
        Image(picture(folder / "sunrise.png", (250, 140, 20)), alt="Sunrise [over] the bay"),
        Image(picture(folder / "desk.jpg", (20, 60, 160)), alt="A desk with a laptop"),
    )


# --- the e-mail -----------------------------------------------------------------------------------


async def test_a_post_arrives_as_written(world: World, tmp_path: Path) -> None:
    account = world.account()
    post = Post(
        title="Spring news",
        body=BODY,
        images=two_images(tmp_path),
        tags=("news", "staffetta"),
        link="https://example.org/spring",
    )
    world.store.enqueue(post, [account.id])

    await world.run_until_idle()

    delivery = world.delivery()
    assert delivery.state is State.SENT, delivery.last_error
    (email,) = world.sandbox.posts(NAME)
    assert delivery.remote_id == email["id"]
    assert delivery.remote_url == email["absolute_url"]
    assert email["subject"] == "Spring news"
    assert email["status"] == "draft"  # the account's default: nothing e-mailed yet
    assert email["metadata"] == {DELIVERY_KEY: delivery.idempotency_key, "tags": "news, staffetta"}
    body = email["body"]
    assert body.startswith(BODY.strip())
    first, second = world.sandbox.uploads(NAME)
    assert f"![Sunrise \\[over\\] the bay]({first['image']})" in body
    assert f"![A desk with a laptop]({second['image']})" in body
    assert body.rstrip().endswith("<https://example.org/spring>")
    async with httpx.AsyncClient() as http:
        shown = await http.get(first["image"])
    with PILImage.open(io.BytesIO(shown.content)) as image:
        assert image.size == (120, 80)
        assert image.convert("RGB").getpixel((5, 5)) == (250, 140, 20)
    assert second["content_type"] == "image/jpeg"


async def test_sending_is_the_accounts_explicit_choice(world: World) -> None:
    account = world.account(status="about_to_send")
    world.store.enqueue(Post(title="Out now", body="Hello readers."), [account.id])

    await world.run_until_idle()

    assert world.delivery().state is State.SENT
    (email,) = world.sandbox.posts(NAME)
    assert email["status"] == "sent"


async def test_a_body_opening_with_a_rule_is_not_taken_for_front_matter(world: World) -> None:
    account = world.account()
    world.store.enqueue(Post(title="Rule", body="---\n\ntitle: not yaml\n\n---\n"), [account.id])

    await world.run_until_idle()

    assert world.delivery().state is State.SENT, world.delivery().last_error
    assert world.sandbox.posts(NAME)[0]["body"].startswith("* * *\n")


# --- never twice ----------------------------------------------------------------------------------


async def test_a_lost_answer_is_replayed_never_duplicated(world: World) -> None:
    account = world.account(status="about_to_send")
    world.sandbox.set_fault(NAME, "commit_drop", count=1, writes_only=True)  # committed, no answer
    world.store.enqueue(Post(title="Exactly once", body="Hi."), [account.id])

    await world.run_until_idle()

    delivery = world.delivery()
    assert delivery.state is State.SENT
    (email,) = world.sandbox.posts(NAME)
    assert delivery.remote_id == email["id"]
    assert world.writes("/v1/emails") == 2  # the resend...
    assert world.platform.replays == 1  # ...got the first answer back


class LoseAnswer(httpx.AsyncBaseTransport):
    """Forwards every request to the real server, but for the ``nth`` one matching ``method`` and
    ``path`` the answer is lost on the way back (a ReadError), as when Staffetta is killed or the
    network drops mid-request."""

    def __init__(self, method: str, path: str, nth: int = 1) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.method, self.path, self.left = method, path, nth

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == self.method and request.url.path == self.path:
            self.left -= 1
            if self.left == 0:
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("connection lost", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def harness(
    sandbox: SandboxServer, http: httpx.AsyncClient, post: Post, clock: FakeClock, **settings: str
) -> tuple[DeliveryContext, list[dict[str, Any]]]:
    """A DeliveryContext as the engine builds it, resumable from the checkpoints it saved."""
    saved: list[dict[str, Any]] = []

    async def save(values: dict[str, Any]) -> None:
        saved.append(dict(values))
        ctx.delivery = replace(ctx.delivery, checkpoint=dict(values))

    values = {"api_url": sandbox.platform_url(NAME), **settings}
    account = Account("bd-1", NAME, "Letters", values)
    delivery = Delivery(1, 1, account.id, State.SENDING, "delivery-key-1", 0.0, 0.0)
    token = sandbox.issue_token(NAME)
    ctx = DeliveryContext(post, account, delivery, token, http, clock, save)
    return ctx, saved


async def test_after_the_key_window_the_email_is_found_by_its_metadata(
    sandbox: SandboxServer,
) -> None:
    channel, clock = ButtondownChannel(), FakeClock()
    post = Post(title="Found later", body="Hi.")
    async with httpx.AsyncClient(transport=LoseAnswer("POST", "/v1/emails")) as http:
        ctx, _saved = harness(sandbox, http, post, clock)
        with pytest.raises(UnknownOutcome):
            await channel.publish(ctx)
        clock.advance(IDEMPOTENCY_WINDOW + 60)
        verdict = await channel.reconcile(ctx)
    (email,) = sandbox.posts(NAME)
    assert verdict.outcome is Outcome.SENT
    assert verdict.remote_id == email["id"]
    assert verdict.url == email["absolute_url"]
    assert sum(1 for r in sandbox.requests(NAME) if r["path"] == "/v1/emails") == 2  # POST, GET


async def test_an_image_whose_answer_was_lost_is_not_uploaded_twice(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    channel, clock = ButtondownChannel(), FakeClock()
    post = Post(title="Pictures", body="Two.", images=two_images(tmp_path))
    async with httpx.AsyncClient(transport=LoseAnswer("POST", "/v1/images", nth=2)) as http:
        ctx, saved = harness(sandbox, http, post, clock)
        with pytest.raises(UnknownOutcome):
            await channel.publish(ctx)
        assert len(saved[-1]["images"]) == 1  # the first image is kept
        verdict = await channel.reconcile(ctx)
        assert verdict.outcome is Outcome.NOT_SENT
        result = await channel.publish(ctx)
    uploads = [r for r in sandbox.requests(NAME) if r["path"] == "/v1/images"]
    assert len(uploads) == 3  # image 1, image 2 (answer lost), image 2 again
    assert len(sandbox.uploads(NAME)) == 2  # Buttondown kept one record per picture
    (email,) = sandbox.posts(NAME)
    assert result.remote_id == email["id"]
    assert email["body"].count("![") == 2


async def test_a_revoked_key_asks_to_reconnect(world: World) -> None:
    account = world.account()
    world.sandbox.revoke_tokens(NAME)
    world.store.enqueue(Post(title="Hello", body="Hi."), [account.id])

    await world.run_until_idle()

    assert world.delivery().state is State.NEEDS_RECONNECT
    paused = world.store.account(account.id)
    assert paused is not None
    assert "Buttondown refused the API key" in paused.paused_reason
    assert "Unauthorized" in paused.paused_reason


async def test_rate_limit_is_waited_out(world: World) -> None:
    account = world.account()
    world.sandbox.set_fault(NAME, "429", retry_after=120, count=1, writes_only=True)
    world.store.enqueue(Post(title="Hello", body="Hi."), [account.id])
    start = world.clock.now()

    await world.engine.run_once()

    delivery = world.delivery()
    assert delivery.state is State.WAITING
    assert delivery.next_attempt_at >= start + 120


# --- the channel on its own -----------------------------------------------------------------------


def context(
    sandbox: SandboxServer, http: httpx.AsyncClient, checkpoint: dict[str, Any], clock: FakeClock
) -> DeliveryContext:
    async def save(_values: dict[str, Any]) -> None:
        return None

    account = Account("bd-1", NAME, "Letters", {"api_url": sandbox.platform_url(NAME)})
    delivery = Delivery(1, 1, account.id, State.RECONCILING, "k1", 0.0, 0.0, checkpoint=checkpoint)
    token = sandbox.issue_token(NAME)
    return DeliveryContext(Post(title="T", body="B"), account, delivery, token, http, clock, save)


async def test_reconcile_without_an_email_attempt_or_a_match_is_not_sent(
    sandbox: SandboxServer,
) -> None:
    channel = ButtondownChannel()
    clock = FakeClock()
    async with httpx.AsyncClient() as http:
        never = await channel.reconcile(context(sandbox, http, {}, clock))
        assert never.outcome is Outcome.NOT_SENT
        started = {"email_started_at": clock.now()}
        recent = await channel.reconcile(context(sandbox, http, started, clock))
        assert recent.outcome is Outcome.RETRY_SAFE
        clock.advance(IDEMPOTENCY_WINDOW + 1)
        sandbox.configure(NAME, page_size=1)
        for number in range(3):  # other e-mails, over several pages
            headers = {"Authorization": f"Token {sandbox.issue_token(NAME)}"}
            await http.post(
                f"{sandbox.platform_url(NAME)}/v1/emails",
                json={"subject": f"Other {number}", "status": "draft"},
                headers=headers,
            )
        old = await channel.reconcile(context(sandbox, http, started, clock))
        assert old.outcome is Outcome.NOT_SENT


async def test_a_conflicting_replay_is_a_clear_permanent_error(sandbox: SandboxServer) -> None:
    channel = ButtondownChannel()
    async with httpx.AsyncClient() as http:
        ctx = context(sandbox, http, {}, FakeClock())
        await channel.publish(ctx)
        changed = context(sandbox, http, {}, FakeClock())
        changed.secret = ctx.secret
        changed.post = Post(title="Another title", body="B")
        with pytest.raises(PermanentError, match="seen before with other content"):
            await channel.publish(changed)
    assert len(sandbox.posts(NAME)) == 1


async def test_verify_probe_and_preview(sandbox: SandboxServer, tmp_path: Path) -> None:
    channel = ButtondownChannel()
    account = Account("bd-1", NAME, "Letters", {"api_url": sandbox.platform_url(NAME)})
    async with httpx.AsyncClient() as http:
        assert await channel.verify(http, account, sandbox.issue_token(NAME, "jane")) == "jane"
        await channel.probe(http, account)
    post = Post(title="Hi", body="*hello*", images=(Image(picture(tmp_path / "a.png", (1, 2, 3))),))
    preview = channel.preview(post, account)
    assert preview.title == "Hi"
    assert "<em>hello</em>" in preview.html
    assert [(p.code, p.blocking, p.fix) for p in preview.problems] == [
        ("missing_alt", False, Fix.ADD_ALT)
    ]
    wrong = Account("bd-1", NAME, "Letters", {"status": "send"})
    (problem,) = channel.preview(Post(title="Hi", body="x"), wrong).problems
    assert problem.blocking
    assert re.search("draft .* about_to_send", problem.message)


def test_plain_http_is_refused_except_for_this_computer() -> None:
    account = Account("bd-1", NAME, "Letters", {"api_url": "http://buttondown.example.org"})
    (problem,) = ButtondownChannel().preview(Post(title="Hi", body="x"), account).problems
    assert "https://" in problem.message
