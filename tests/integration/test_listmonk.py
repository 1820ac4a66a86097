"""The Listmonk channel against the sandbox Listmonk over HTTP, through the real Engine with
simulated time (Listmonk needs PostgreSQL and is in no package registry here; the sandbox follows
its documented API and source).

What a user relies on: the campaign arrives as written (subject, Markdown or HTML body, images
uploaded to Listmonk's media and shown with their alt text, tags, the chosen lists); it stays a
draft unless the account says to start it; a crash between creating the draft and starting it
resumes with that draft, never a second campaign; a wrong token asks to reconnect in Listmonk's
words.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.listmonk import ListmonkChannel, campaign_name
from staffetta.channels.registry import load_channels
from staffetta.core.channel import DeliveryContext, Outcome
from staffetta.core.clock import FakeClock
from staffetta.core.engine import Engine
from staffetta.core.errors import InputError, TransientError, UnknownOutcome
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer

NAME = "listmonk"
POLICY = RetryPolicy(base=2.0, cap=300.0, breaker_threshold=5)
BODY = """## What changed

Staffetta now sends **campaigns** to Listmonk, *written once*.

- one post, every channel
- your readers, [your address](https://example.org/news)
"""


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


def settings(sandbox: SandboxServer, **changes: str) -> dict[str, str]:
    return {"url": sandbox.platform_url(NAME), "api_user": "staffetta", "lists": "1", **changes}


@dataclass
class World:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    secrets: SecretStore
    engine: Engine

    def account(self, token: str | None = None, **changes: str) -> Account:
        account = self.store.add_account(NAME, "Lists", settings(self.sandbox, **changes))
        self.secrets.set(account.id, token or self.sandbox.issue_token(NAME, "staffetta"))
        return account

    def delivery(self) -> Delivery:
        (delivery,) = self.store.deliveries()
        return delivery

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
            store, load_channels(), secrets, http, clock, rng=random.Random(9), policy=POLICY
        )
        yield World(sandbox, store, clock, secrets, engine)
    store.close()


def picture(path: Path, colour: tuple[int, int, int]) -> str:
    PILImage.new("RGB", (120, 80), colour).save(path)
    return str(path)


def two_images(folder: Path) -> tuple[Image, Image]:
    return (
        Image(picture(folder / "sunrise.png", (250, 140, 20)), alt="Sunrise over the bay"),
        Image(picture(folder / "desk.jpg", (20, 60, 160)), alt="A desk with a laptop"),
    )


def requests_to(sandbox: SandboxServer, method: str, path: str) -> int:
    return sum(1 for r in sandbox.requests(NAME) if r["method"] == method and r["path"] == path)


# --- the campaign ---------------------------------------------------------------------------------


async def test_a_post_arrives_as_written(world: World, tmp_path: Path) -> None:
    account = world.account(lists="1, 2")
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
    (campaign,) = world.sandbox.posts(NAME)
    assert delivery.remote_id == str(campaign["id"])
    assert delivery.remote_url == f"{world.sandbox.platform_url(NAME)}/admin/campaigns/1"
    assert campaign["name"] == campaign_name(post, delivery.idempotency_key)
    assert campaign["subject"] == "Spring news"
    assert [item["name"] for item in campaign["lists"]] == ["Default list", "Opt-in list"]
    assert campaign["content_type"] == "markdown"
    assert campaign["tags"] == ["news", "staffetta"]
    assert campaign["status"] == "draft"  # the account's default: nothing e-mailed yet
    body = campaign["body"]
    assert body.startswith(BODY.strip())
    first, second = world.sandbox.uploads(NAME)
    assert f"![Sunrise over the bay]({first['url']})" in body
    assert f"![A desk with a laptop]({second['url']})" in body
    assert "<https://example.org/spring>" in body
    async with httpx.AsyncClient() as http:
        shown = await http.get(first["url"])
    assert shown.headers["content-type"] == "image/png"
    assert shown.content.startswith(b"\x89PNG")


async def test_html_format_renders_the_post_with_a_text_alternative(
    world: World, tmp_path: Path
) -> None:
    account = world.account(content_type="html")
    post = Post(title="Spring news", body=BODY, images=two_images(tmp_path)[:1])
    world.store.enqueue(post, [account.id])

    await world.run_until_idle()

    (campaign,) = world.sandbox.posts(NAME)
    assert campaign["content_type"] == "html"
    assert "<h2>What changed</h2>" in campaign["body"]
    assert "<em>written once</em>" in campaign["body"]
    (media,) = world.sandbox.uploads(NAME)
    assert re.search(
        rf'<img src="{re.escape(media["url"])}" alt="Sunrise over the bay"', campaign["body"]
    )
    assert "[Image 1: Sunrise over the bay]" in campaign["altbody"]


async def test_starting_is_the_accounts_explicit_choice(world: World) -> None:
    account = world.account(status="running")
    world.store.enqueue(Post(title="Out now", body="Hello readers."), [account.id])

    await world.run_until_idle()

    assert world.delivery().state is State.SENT
    (campaign,) = world.sandbox.posts(NAME)
    assert campaign["status"] == "running"
    assert campaign["sent"] == campaign["to_send"] == 3


# --- never twice ----------------------------------------------------------------------------------


async def test_a_lost_answer_to_create_resumes_with_that_draft(world: World) -> None:
    account = world.account(status="running")
    world.sandbox.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    world.store.enqueue(Post(title="Exactly once", body="Hi."), [account.id])

    await world.run_until_idle()

    delivery = world.delivery()
    assert delivery.state is State.SENT, delivery.last_error
    (campaign,) = world.sandbox.posts(NAME)  # one campaign, found by its name
    assert campaign["status"] == "running"
    assert delivery.remote_id == str(campaign["id"])
    assert requests_to(world.sandbox, "POST", "/api/campaigns") == 1


class Interrupt(httpx.AsyncBaseTransport):
    """Forwards requests to the server; for the first one matching ``method`` and ``path`` it
    either loses the answer after the server acted (``after=True``, a ReadError) or fails before
    sending anything (a ConnectError), as a crash or a network drop would."""

    def __init__(self, method: str, path: str, *, after: bool, nth: int = 1) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.method, self.path, self.after, self.left = method, path, after, nth

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        hit = request.method == self.method and request.url.path == self.path
        if hit:
            self.left -= 1
        if hit and self.left == 0 and not self.after:
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.inner.handle_async_request(request)
        if hit and self.left == 0:
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection lost", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def harness(
    sandbox: SandboxServer, http: httpx.AsyncClient, post: Post, **changes: str
) -> tuple[DeliveryContext, list[dict[str, Any]]]:
    """A DeliveryContext as the engine builds it; a saved checkpoint is what a retry resumes."""
    saved: list[dict[str, Any]] = []

    async def save(values: dict[str, Any]) -> None:
        saved.append(dict(values))
        ctx.delivery = replace(ctx.delivery, checkpoint=dict(values))

    account = Account("lm-1", NAME, "Lists", settings(sandbox, **changes))
    delivery = Delivery(1, 1, account.id, State.SENDING, "delivery-key-1", 0.0, 0.0)
    token = sandbox.issue_token(NAME, "staffetta")
    ctx = DeliveryContext(post, account, delivery, token, http, FakeClock(), save)
    return ctx, saved


async def test_a_crash_between_create_and_start_starts_the_existing_draft(
    sandbox: SandboxServer,
) -> None:
    channel = ListmonkChannel()
    post = Post(title="Resume me", body="Hi.")
    status_path = "/api/campaigns/1/status"
    async with httpx.AsyncClient(transport=Interrupt("PUT", status_path, after=False)) as http:
        ctx, saved = harness(sandbox, http, post, status="running")
        with pytest.raises(TransientError):
            await channel.publish(ctx)
        assert saved[-1]["campaign_id"] == 1  # checkpointed right after the draft was made
        assert sandbox.posts(NAME)[0]["status"] == "draft"
        result = await channel.publish(ctx)
    (campaign,) = sandbox.posts(NAME)
    assert campaign["status"] == "running"
    assert result.remote_id == "1"
    assert requests_to(sandbox, "POST", "/api/campaigns") == 1


async def test_a_lost_answer_to_start_is_found_running(sandbox: SandboxServer) -> None:
    channel = ListmonkChannel()
    post = Post(title="Started?", body="Hi.")
    status_path = "/api/campaigns/1/status"
    async with httpx.AsyncClient(transport=Interrupt("PUT", status_path, after=True)) as http:
        ctx, _saved = harness(sandbox, http, post, status="running")
        with pytest.raises(UnknownOutcome):
            await channel.publish(ctx)
        verdict = await channel.reconcile(ctx)
    assert verdict.outcome is Outcome.SENT
    assert verdict.remote_id == "1"
    assert requests_to(sandbox, "PUT", status_path) == 1


async def test_reconcile_finds_the_draft_by_its_name_and_checkpoints_it(
    sandbox: SandboxServer,
) -> None:
    channel = ListmonkChannel()
    post = Post(title="Find me", body="Hi.")
    async with httpx.AsyncClient(
        transport=Interrupt("POST", "/api/campaigns", after=True, nth=2)
    ) as http:
        ctx, saved = harness(sandbox, http, post, status="running")
        await http.post(  # someone else's campaign with a similar name
            f"{sandbox.platform_url(NAME)}/api/campaigns",
            json={"name": "Find me", "subject": "Find me", "lists": [1]},
            headers={"Authorization": f"token staffetta:{ctx.secret}"},
        )
        with pytest.raises(UnknownOutcome):
            await channel.publish(ctx)
        assert "campaign_id" not in saved[-1]
        verdict = await channel.reconcile(ctx)
        assert verdict.outcome is Outcome.NOT_SENT  # a draft: start it, do not make another
        assert saved[-1]["campaign_id"] == 2
        await channel.publish(ctx)
    mine = [c for c in sandbox.posts(NAME) if c["name"] == saved[-1]["campaign_name"]]
    assert [c["status"] for c in mine] == ["running"]
    assert len(sandbox.posts(NAME)) == 2


async def test_an_image_whose_answer_was_lost_is_the_only_one_sent_again(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    channel = ListmonkChannel()
    post = Post(title="Pictures", body="Two.", images=two_images(tmp_path))
    async with httpx.AsyncClient(
        transport=Interrupt("POST", "/api/media", after=True, nth=2)
    ) as http:
        ctx, saved = harness(sandbox, http, post)
        with pytest.raises(UnknownOutcome):
            await channel.publish(ctx)
        assert [m["id"] for m in saved[-1]["media"]] == [1]
        assert (await channel.reconcile(ctx)).outcome is Outcome.NOT_SENT
        await channel.publish(ctx)
    assert requests_to(sandbox, "POST", "/api/media") == 3
    (campaign,) = sandbox.posts(NAME)
    media = {m["id"]: m["url"] for m in sandbox.uploads(NAME)}
    assert f"]({media[1]})" in campaign["body"]
    assert f"]({media[3]})" in campaign["body"]  # the orphan upload 2 is not referenced
    assert f"]({media[2]})" not in campaign["body"]


async def test_a_wrong_token_asks_to_reconnect(world: World) -> None:
    world.sandbox.issue_token(NAME, "staffetta")
    account = world.account(token="not-the-token")
    world.store.enqueue(Post(title="Hello", body="Hi."), [account.id])

    await world.run_until_idle()

    assert world.delivery().state is State.NEEDS_RECONNECT
    paused = world.store.account(account.id)
    assert paused is not None
    assert "invalid API credentials" in paused.paused_reason
    assert world.sandbox.posts(NAME) == []


async def test_an_outage_waits_and_recovers(world: World) -> None:
    account = world.account()
    world.sandbox.set_fault(NAME, "503", count=1, writes_only=True)
    world.store.enqueue(Post(title="Hello", body="Hi."), [account.id])

    await world.engine.run_once()
    assert world.delivery().state is State.WAITING
    await world.run_until_idle()

    assert world.delivery().state is State.SENT
    assert len(world.sandbox.posts(NAME)) == 1


# --- connecting and previewing --------------------------------------------------------------------


async def test_verify_checks_the_lists_and_refuses_unknown_ones(sandbox: SandboxServer) -> None:
    channel = ListmonkChannel()
    token = sandbox.issue_token(NAME, "staffetta")
    async with httpx.AsyncClient() as http:
        account = Account("lm-1", NAME, "Lists", settings(sandbox, lists="1,2"))
        host = sandbox.platform_url(NAME).removeprefix("http://")
        assert await channel.verify(http, account, token) == f"staffetta@{host}"
        assert channel.handle(account) == f"staffetta@{host}"
        await channel.probe(http, account)
        unknown = Account("lm-1", NAME, "Lists", settings(sandbox, lists="7"))
        with pytest.raises(InputError, match="no list with the id 7"):
            await channel.verify(http, unknown, token)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"lists": ""}, "at least one Listmonk list"),
        ({"lists": "1, weekly"}, "“weekly” is not a list id"),
        ({"status": "send"}, "draft .* running"),
        ({"content_type": "richtext"}, "markdown or html"),
        ({"url": "http://lists.example.org"}, "https://"),
        ({"api_user": ""}, "API user"),
    ],
)
def test_preview_blocks_on_settings_that_cannot_work(
    sandbox: SandboxServer, changes: dict[str, str], words: str
) -> None:
    account = Account("lm-1", NAME, "Lists", settings(sandbox, **changes))
    preview = ListmonkChannel().preview(Post(title="Hi", body="*x*"), account)
    assert preview.title == "Hi"
    assert "<em>x</em>" in preview.html
    (problem,) = preview.problems
    assert problem.blocking
    assert re.search(words, problem.message)


def test_campaign_names_are_fixed_by_the_delivery() -> None:
    post = Post(title="A very long title " * 20, body="x")
    name = campaign_name(post, "key-1")
    assert name == campaign_name(post, "key-1")
    assert name != campaign_name(post, "key-2")
    assert re.fullmatch(r".{1,150} \[staffetta-[0-9a-f]{12}\]", name)
