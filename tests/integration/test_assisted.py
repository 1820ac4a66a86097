"""Assisted posting through the real engine and store: a WhatsApp copy becomes *your turn* when
it is due (and only once WhatsApp answers), keeps its place so later copies for the same account
wait behind it, and is settled by the user — in the store, and from the command line.

The "is WhatsApp up?" check asks a sandbox server on 127.0.0.1 (its ``/health``), which stands
in for web.whatsapp.com and can be taken down for real.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from staffetta.channels.registry import load_channels
from staffetta.cli import main
from staffetta.core.clock import FakeClock
from staffetta.core.engine import DELIVERY, Engine, EngineEvent
from staffetta.core.model import Account, Image, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer

POLICY = RetryPolicy(base=2.0, cap=300.0, breaker_threshold=3)


@dataclass
class World:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    engine: Engine
    events: list[EngineEvent]
    whatsapp: Account
    blog: Account

    def states(self, account: Account) -> list[State]:
        return [d.state for d in self.store.deliveries() if d.account_id == account.id]

    async def step_until_idle(self) -> None:
        for _ in range(1000):
            await self.engine.run_once()
            wake = self.engine.next_wakeup()
            if wake is None:
                return
            self.clock.advance_to(wake)
        raise AssertionError("the engine never became idle")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=["mastodon"]) as server:
        yield server


@pytest.fixture
async def world(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    store = Store.open(tmp_path / "outbox.sqlite3", clock)
    check = sandbox.platform_url("mastodon") + "/health"
    whatsapp = store.add_account("whatsapp", "My channel", {"check_url": check})
    folder = tmp_path / "site"
    folder.mkdir()
    blog = store.add_account("static_site", "Blog", {"folder": str(folder)})
    events: list[EngineEvent] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        engine = Engine(
            store,
            load_channels(),
            SecretStore(MemoryKeyring()),
            http,
            clock,
            rng=random.Random(3),
            policy=POLICY,
            on_event=events.append,
        )
        yield World(sandbox, store, clock, engine, events, whatsapp, blog)
    store.close()


async def test_your_turn_keeps_its_place_until_the_user_settles_it(world: World) -> None:
    first = world.store.enqueue(Post(body="First **news**"), [world.whatsapp.id, world.blog.id])
    second = world.store.enqueue(Post(body="Second"), [world.whatsapp.id])
    await world.step_until_idle()

    # The owned channel went out; WhatsApp's copy waits for the user, the next one behind it.
    assert world.states(world.blog) == [State.SENT]
    assert world.states(world.whatsapp) == [State.YOUR_TURN, State.QUEUED]
    turn = [e for e in world.events if e.kind == DELIVERY and e.state is State.YOUR_TURN]
    assert len(turn) == 1
    assert turn[0].account_id == world.whatsapp.id
    assert "post it on WhatsApp yourself" in turn[0].detail
    assert world.engine.next_wakeup() is None  # nothing to do until the user acts
    mine = world.store.deliveries(post_id=first)[0]
    assert mine.attempts == 1
    assert world.store.begin_attempt(mine.id, "someone", 60) is None  # never sent by an engine

    assert world.store.confirm_assisted(mine.id, posted=True, url="https://whatsapp.com/c/1")
    assert not world.store.confirm_assisted(mine.id, posted=False)  # settled once
    await world.step_until_idle()
    settled = world.store.delivery(mine.id)
    assert (settled.state, settled.remote_url) == (State.SENT, "https://whatsapp.com/c/1")
    # Now the second copy's turn has come; skipping it cancels it.
    (next_one,) = world.store.deliveries(post_id=second)
    assert next_one.state is State.YOUR_TURN
    assert world.store.confirm_assisted(next_one.id, posted=False)
    assert world.store.delivery(next_one.id).state is State.CANCELLED


async def test_the_reminder_waits_while_whatsapp_is_down(world: World) -> None:
    world.sandbox.set_fault("mastodon", "down")
    world.store.enqueue(Post(body="During the outage"), [world.whatsapp.id, world.blog.id])
    await world.engine.run_once()
    assert world.states(world.blog) == [State.SENT]
    assert world.states(world.whatsapp) == [State.WAITING]
    for _ in range(6):  # a few failed checks open the breaker: the copy waits for WhatsApp
        world.clock.advance_to(world.engine.next_wakeup() or world.clock.now())
        await world.engine.run_once()
    assert world.states(world.whatsapp) == [State.DOWN]
    assert not any(e.state is State.YOUR_TURN for e in world.events)

    world.sandbox.set_fault("mastodon", "up")
    await world.step_until_idle()
    assert world.states(world.whatsapp) == [State.YOUR_TURN]
    assert [e.kind for e in world.events].count("platform_up") == 1


async def test_a_scheduled_copy_becomes_your_turn_at_its_time(world: World) -> None:
    start = world.clock.now()
    world.store.enqueue(Post(body="Later", scheduled_at=start + 3600), [world.whatsapp.id])
    await world.engine.run_once()
    assert world.states(world.whatsapp) == [State.SCHEDULED]
    assert world.engine.next_wakeup() == start + 3600
    await world.step_until_idle()
    assert world.states(world.whatsapp) == [State.YOUR_TURN]
    assert world.clock.now() == start + 3600


def test_the_command_line_shows_the_text_and_settles_it(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = Store.open(Paths.under(home).ensure().database)
    account = store.add_account("whatsapp", "My channel", {"check_url": "off"})
    picture = tmp_path / "cat.jpg"
    picture.write_bytes(b"not really a jpeg")
    post = Post(body="Hello *there*", images=(Image(str(picture), "A cat"),))
    store.enqueue(post, [account.id])
    (delivery,) = store.deliveries()
    store.close()

    assert main(["flush", "--wait"]) == 4  # it needs you
    out = capsys.readouterr().out
    assert f"your turn #{delivery.id} → {account.id}" in out
    assert f"staffetta assisted {delivery.id}" in out
    assert main(["status"]) == 0
    assert f"post it yourself: staffetta assisted {delivery.id}" in capsys.readouterr().out

    assert main(["assisted", str(delivery.id)]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("Hello _there_\n")
    assert "Post it on WhatsApp: https://wa.me/?text=Hello%20_there_" in shown
    assert f"Image: {picture}" in shown

    assert main(["assisted", str(delivery.id), "--skip", "--url", "x"]) == 1
    assert main(["assisted", str(delivery.id), "--posted", "--url", "https://w/1"]) == 0
    assert "sent" in capsys.readouterr().out
    assert main(["assisted", str(delivery.id), "--skip"]) == 1
    assert "not waiting for you" in capsys.readouterr().err
    store = Store.open(Paths.under(home).database)
    assert store.delivery(delivery.id).remote_url == "https://w/1"
    store.close()
