"""Telegram and Discord through the real Engine against the sandbox, with simulated time.

What a user relies on: posts arrive with their formatting and alt text, rate limits are waited
out, an outage holds the posts and releases them, an answer lost after sending becomes
*unconfirmed* and is never re-sent on its own, and the bot token / webhook URL appear nowhere
but the keyring.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.registry import load_channels
from staffetta.core.clock import FakeClock
from staffetta.core.engine import Engine, EngineEvent
from staffetta.core.model import Account, Image, Post, State
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer

POLICY = RetryPolicy(base=2.0, cap=300.0, breaker_threshold=3)
PLATFORMS = ("telegram", "discord")
PIECE = 12  # a leaked piece of a secret this long is as good as the secret
EMOJI = "😀"


@dataclass
class World:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    secrets: SecretStore
    engine: Engine
    events: list[EngineEvent]
    accounts: dict[str, Account]
    credentials: dict[str, str]
    home: Path

    def queue(self, name: str, post: Post) -> int:
        return self.store.enqueue(post, [self.accounts[name].id])

    def states(self, name: str) -> list[State]:
        account_id = self.accounts[name].id
        return [d.state for d in self.store.deliveries() if d.account_id == account_id]

    def sends(self, name: str) -> int:
        """Publishing requests that reached the platform (refused ones included)."""
        if name == "telegram":
            methods = ("/sendMessage", "/sendPhoto", "/sendMediaGroup")
            return sum(1 for r in self.sandbox.requests(name) if r["path"].endswith(methods))
        return sum(
            1
            for r in self.sandbox.requests(name)
            if r["method"] == "POST" and "/messages/" not in r["path"]
        )

    def texts(self, name: str) -> list[str]:
        return [
            p.get("text") or p.get("caption") or p.get("content") or "" for p in self.posts(name)
        ]

    def posts(self, name: str) -> list[dict[str, Any]]:
        return self.sandbox.posts(name)

    async def step_until_idle(self, *, max_steps: int = 10_000) -> None:
        for _ in range(max_steps):
            await self.engine.run_once()
            wake = self.engine.next_wakeup()
            if wake is None:
                return
            self.clock.advance_to(wake)
        raise AssertionError("the engine never became idle")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=list(PLATFORMS)) as server:
        yield server


@pytest.fixture
async def world(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    home = tmp_path / "home"
    home.mkdir()
    store = Store.open(home / "outbox.sqlite3", clock)
    secrets = SecretStore(MemoryKeyring())
    telegram_url, discord_url = sandbox.platform_url("telegram"), sandbox.platform_url("discord")
    credentials = {
        "telegram": sandbox.issue_token("telegram"),
        "discord": f"{discord_url}/api/webhooks/{sandbox.issue_token('discord')}",
    }
    settings = {
        "telegram": {"channel": "@staffetta_sandbox", "api_url": telegram_url},
        "discord": {"server": discord_url},
    }
    accounts = {}
    for name in PLATFORMS:
        account = store.add_account(name, f"{name} sandbox", settings[name])
        secrets.set(account.id, credentials[name])
        accounts[name] = account
    events: list[EngineEvent] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        engine = Engine(
            store,
            load_channels(),
            secrets,
            http,
            clock,
            rng=random.Random(3),
            policy=POLICY,
            on_event=events.append,
        )
        yield World(sandbox, store, clock, secrets, engine, events, accounts, credentials, home)
    store.close()


def png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> str:
    PILImage.new("RGB", size, colour).save(path, "PNG")
    return str(path)


def utf16_slice(text: str, offset: int, length: int) -> str:
    return text.encode("utf-16-le")[2 * offset : 2 * (offset + length)].decode("utf-16-le")


# --- a post arrives as written ------------------------------------------------------------------


async def test_telegram_album_with_formatted_caption(world: World, tmp_path: Path) -> None:
    images = (
        Image(png(tmp_path / "a.png", (200, 0, 0)), alt="Red"),
        Image(png(tmp_path / "b.png", (0, 200, 0)), alt="Green"),
    )
    body = f"{EMOJI} **Launch day** at [our site](https://example.org/launch) #news"
    world.queue("telegram", Post(body=body, images=images, link="https://example.org/launch"))

    await world.step_until_idle()

    (delivery,) = world.store.deliveries()
    first, second = world.posts("telegram")
    assert delivery.state is State.SENT
    assert delivery.remote_id == str(first["message_id"])
    assert delivery.remote_url.endswith(f"/staffetta_sandbox/{first['message_id']}")
    assert first["caption"] == f"{EMOJI} Launch day at our site #news"
    caption = first["caption"]
    assert [
        (e["type"], utf16_slice(caption, e["offset"], e["length"]))
        for e in first["caption_entities"]
    ] == [("bold", "Launch day"), ("text_link", "our site")]
    assert second["media_group_id"] == first["media_group_id"]
    assert world.sends("telegram") == 1


async def test_discord_message_with_card_and_alt_text(world: World, tmp_path: Path) -> None:
    images = (Image(png(tmp_path / "a.png", (0, 0, 200)), alt="A blue square"),)
    post = Post(
        body=f"{EMOJI} **Launch day** https://example.org/launch",
        title="Launch day",
        link="http://127.0.0.1:9/unreachable",
        images=images,
    )
    world.queue("discord", post)

    await world.step_until_idle()

    (delivery,) = world.store.deliveries()
    (message,) = world.posts("discord")
    assert delivery.state is State.SENT
    assert delivery.remote_id == message["id"]
    assert delivery.remote_url.endswith(f"/1100000000000000002/{message['id']}")
    assert message["content"] == post.body
    assert message["embeds"][0]["title"] == "Launch day"
    assert [a.get("description") for a in message["attachments"]] == ["A blue square"]


# --- waiting for the platform -------------------------------------------------------------------


@pytest.mark.parametrize("name", PLATFORMS)
async def test_a_429_is_waited_out(world: World, name: str) -> None:
    world.sandbox.set_fault(name, "429", retry_after=120, count=1, writes_only=True)
    world.queue(name, Post(body="rate limited"))
    start = world.clock.now()

    await world.engine.run_once()
    (delivery,) = world.store.deliveries()
    assert delivery.state is State.WAITING
    assert delivery.next_attempt_at >= start + 120

    world.clock.advance(119)
    await world.engine.run_once()
    assert world.sends(name) == 1  # nothing before the platform's time

    await world.step_until_idle()
    assert world.states(name) == [State.SENT]
    assert world.sends(name) == 2
    assert world.texts(name) == ["rate limited"]


async def test_telegram_flood_control_retry_after_is_honoured(world: World) -> None:
    world.sandbox.configure("telegram", flood_limit=1, flood_window=60)
    world.queue("telegram", Post(body="first"))
    world.queue("telegram", Post(body="second"))
    start = world.clock.now()

    await world.engine.run_once()
    first, second = world.store.deliveries()
    assert (first.state, second.state) == (State.SENT, State.WAITING)
    assert second.next_attempt_at >= start + 59
    assert "Too Many Requests" in second.last_error

    world.sandbox.set_clock_offset(61)  # the same minute passes for Telegram
    await world.step_until_idle()
    assert world.texts("telegram") == ["first", "second"]
    assert world.sends("telegram") == 3


async def test_discord_rate_limit_headers_are_honoured_before_a_429(world: World) -> None:
    world.sandbox.configure("discord", rate_limit=[1, 30])
    world.queue("discord", Post(body="first"))
    world.queue("discord", Post(body="second"))
    start = world.clock.now()

    await world.engine.run_once()
    first, second = world.store.deliveries()
    assert (first.state, second.state) == (State.SENT, State.WAITING)
    assert second.next_attempt_at >= start + 29
    assert world.sends("discord") == 1  # it waited instead of drawing a 429

    world.sandbox.set_clock_offset(31)
    await world.step_until_idle()
    assert [p["content"] for p in world.posts("discord")] == ["first", "second"]
    assert world.sends("discord") == 2


@pytest.mark.parametrize("name", PLATFORMS)
async def test_down_then_up_delivers_everything_once_in_order(world: World, name: str) -> None:
    world.sandbox.set_fault(name, "down")
    for n in range(3):
        world.queue(name, Post(body=f"during the outage {n}"))
    for _ in range(12):
        await world.engine.run_once()
        world.clock.advance_to(world.engine.next_wakeup() or world.clock.now() + 60)
    assert set(world.states(name)) == {State.DOWN}
    assert [e.kind for e in world.events if e.kind.startswith("platform")] == ["platform_down"]

    world.sandbox.set_fault(name, "up")
    await world.step_until_idle()

    assert world.states(name) == [State.SENT] * 3
    assert world.texts(name) == [f"during the outage {n}" for n in range(3)]
    assert world.sends(name) == 3
    assert [e.count for e in world.events if e.kind == "platform_up"] == [3]


# --- an answer lost after sending ---------------------------------------------------------------


@pytest.mark.parametrize("name", PLATFORMS)
async def test_a_lost_answer_is_unconfirmed_and_never_resent(world: World, name: str) -> None:
    world.sandbox.set_fault(name, "commit_drop", count=1, writes_only=True)
    world.queue(name, Post(body="sent once, answer lost"))
    world.queue(name, Post(body="the next post"))

    await world.step_until_idle()

    first, second = world.store.deliveries()
    assert first.state is State.UNCONFIRMED
    assert "cannot tell whether" in first.last_error
    assert "if not, send it again" in first.last_error
    assert second.state is State.SENT  # the account goes on; only that one needs the user
    assert world.texts(name) == ["sent once, answer lost", "the next post"]
    assert world.sends(name) == 2  # exactly one request for the lost one

    # The user looks and says it went out: nothing more is sent.
    assert world.store.resolve_unconfirmed(first.id, went_out=True)
    await world.step_until_idle()
    assert world.store.delivery(first.id).state is State.SENT
    assert world.sends(name) == 2


# --- secrets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PLATFORMS)
async def test_the_credential_lives_only_in_the_keyring(
    world: World, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = world.credentials[name].rsplit("/", 1)[-1]  # the token part of a webhook URL
    assert len(secret) >= 2 * PIECE
    caplog.set_level(logging.DEBUG)
    # Every kind of failure a message is made of: lost answer, outage, refused credentials.
    world.sandbox.set_fault(name, "commit_drop", count=1, writes_only=True)
    world.queue(name, Post(body="one"))
    await world.step_until_idle()
    world.sandbox.set_fault(name, "down")
    world.queue(name, Post(body="two"))
    for _ in range(6):
        await world.engine.run_once()
        world.clock.advance_to(world.engine.next_wakeup() or world.clock.now() + 60)
    world.sandbox.set_fault(name, "up")
    world.sandbox.revoke_tokens(name)
    await world.step_until_idle()
    assert world.states(name) == [State.UNCONFIRMED, State.NEEDS_RECONNECT]
    assert caplog.records

    world.store.close()  # flush the WAL so the database files hold everything
    texts = {
        "log records": "\n".join(r.getMessage() for r in caplog.records),
        "events": "\n".join(e.detail for e in world.events),
    }
    blobs = {str(p): p.read_bytes() for p in world.home.rglob("*") if p.is_file()}
    blobs.update({label: text.encode() for label, text in texts.items()})
    pieces = {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}
    leaks = [where for where, data in blobs.items() if any(p.encode() in data for p in pieces)]
    assert leaks == []
    assert world.secrets.get(world.accounts[name].id) == world.credentials[name]
