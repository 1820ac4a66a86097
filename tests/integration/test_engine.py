"""The delivery engine against sandbox platforms over real HTTP, with simulated time.

The clock is a FakeClock: each test steps the engine (``run_once``) and jumps the clock to the
engine's next wake-up, so a six-hour outage takes as long as the requests it causes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from staffetta.channels.registry import load_channels
from staffetta.core.clock import FakeClock
from staffetta.core.engine import Engine, EngineEvent
from staffetta.core.model import Account, Post, State
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer

POLICY = RetryPolicy(base=2.0, cap=300.0, breaker_threshold=3)
HOUR = 3600.0


@dataclass
class World:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    secrets: SecretStore
    engine: Engine
    events: list[EngineEvent]
    accounts: dict[str, Account]

    def queue(self, text: str, *names: str) -> int:
        return self.store.enqueue(Post(body=text), [self.accounts[n].id for n in names])

    def states(self, name: str) -> list[State]:
        account_id = self.accounts[name].id
        return [d.state for d in self.store.deliveries() if d.account_id == account_id]

    def status_posts(self, name: str) -> list[str]:
        return [p.get("text") or p["content"] for p in self.sandbox.posts(name)]

    def status_requests(self, name: str) -> int:
        return sum(
            1
            for r in self.sandbox.requests(name)
            if r["method"] == "POST" and r["path"].endswith("/api/v1/statuses")
        )

    async def step_until_idle(self, *, max_steps: int = 10_000) -> None:
        """Run the engine, jumping the clock to each wake-up, until nothing is left to do."""
        for _ in range(max_steps):
            await self.engine.run_once()
            wake = self.engine.next_wakeup()
            if wake is None:
                return
            self.clock.advance_to(wake)
        raise AssertionError("the engine never became idle")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=["mastodon", "mastodon2"]) as server:
        yield server


@pytest.fixture
async def world(sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    store = Store.open(tmp_path / "outbox.sqlite3", clock)
    secrets = SecretStore(MemoryKeyring())
    accounts = {}
    for name in ("mastodon", "mastodon2"):
        account = store.add_account("mastodon", name, {"instance_url": sandbox.platform_url(name)})
        secrets.set(account.id, sandbox.issue_token(name))
        accounts[name] = account
    events: list[EngineEvent] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        engine = Engine(
            store,
            load_channels(),
            secrets,
            http,
            clock,
            rng=random.Random(7),
            policy=POLICY,
            on_event=events.append,
        )
        yield World(sandbox, store, clock, secrets, engine, events, accounts)
    store.close()


@pytest.mark.parametrize("mode", ["down", "503"])
async def test_six_hour_outage(world: World, mode: str) -> None:
    world.sandbox.set_fault("mastodon", mode)
    start = world.clock.now()
    for n in range(3):
        world.queue(f"post {n} during the outage", "mastodon", "mastodon2")

    await world.engine.run_once()
    # The healthy platform is not held back by the failing one.
    assert world.states("mastodon2") == [State.SENT] * 3
    assert world.clock.now() == start

    sent_mid_outage = None
    while world.clock.now() < start + 6 * HOUR:
        if sent_mid_outage is None and world.clock.now() >= start + 3 * HOUR:
            sent_mid_outage = world.queue("queued three hours in", "mastodon2")
            queued_at = world.clock.now()
        await world.engine.run_once()
        if sent_mid_outage is not None and world.clock.now() == queued_at:
            assert world.store.deliveries(post_id=sent_mid_outage)[0].state is State.SENT
        world.clock.advance_to(world.engine.next_wakeup() or world.clock.now() + 60)

    assert set(world.states("mastodon")) == {State.DOWN}
    assert world.store.endpoint(world.accounts["mastodon"].settings["instance_url"]).is_down
    if mode == "503":
        # Three failed sends open the breaker; after that only probes, at most one per half
        # backoff period once the backoff reaches its cap.
        requests = len(world.sandbox.requests("mastodon"))
        ramp = 12  # probes while the backoff grows from 2 s to the 300 s cap
        assert requests <= POLICY.breaker_threshold + ramp + 6 * HOUR / (POLICY.cap / 2)
        assert world.status_requests("mastodon") == POLICY.breaker_threshold
        assert requests > POLICY.breaker_threshold  # it kept probing

    world.sandbox.set_fault("mastodon", "up")
    recovered = world.clock.now()
    await world.step_until_idle()

    assert world.states("mastodon") == [State.SENT] * 3
    last_sent = max(d.updated_at for d in world.store.deliveries())
    assert last_sent - recovered <= POLICY.cap
    assert sorted(world.status_posts("mastodon")) == [
        f"post {n} during the outage" for n in range(3)
    ]
    assert [e.count for e in world.events if e.kind == "platform_up"] == [3]


async def test_order_within_an_account_survives_retries(world: World) -> None:
    world.sandbox.set_fault("mastodon", "503", count=2)
    for n in range(4):
        world.queue(f"in order {n}", "mastodon")

    await world.step_until_idle()

    assert world.status_posts("mastodon") == [f"in order {n}" for n in range(4)]


async def test_retry_after_is_honoured(world: World) -> None:
    world.sandbox.set_fault("mastodon", "429", retry_after=120, count=1)
    world.queue("rate limited", "mastodon")
    start = world.clock.now()

    await world.engine.run_once()
    (delivery,) = world.store.deliveries()
    assert delivery.state is State.WAITING
    assert delivery.next_attempt_at >= start + 120

    world.clock.advance(119)
    await world.engine.run_once()
    assert world.status_requests("mastodon") == 1  # nothing before the server's time

    world.clock.advance_to(world.engine.next_wakeup() or 0)
    await world.engine.run_once()
    assert world.store.deliveries()[0].state is State.SENT
    assert world.status_requests("mastodon") == 2
    # A rate limit is not an outage.
    assert not world.store.endpoint(world.accounts["mastodon"].settings["instance_url"]).is_down


async def test_revoked_token_pauses_only_that_account(world: World) -> None:
    world.sandbox.revoke_tokens("mastodon")
    world.queue("first", "mastodon", "mastodon2")
    world.queue("second", "mastodon", "mastodon2")

    await world.step_until_idle()

    assert world.states("mastodon") == [State.NEEDS_RECONNECT] * 2
    assert world.states("mastodon2") == [State.SENT] * 2
    paused = world.store.account(world.accounts["mastodon"].id)
    assert paused is not None
    assert "reconnect" in paused.paused_reason.lower()

    # Reconnecting resumes the account; its waiting posts go out in order.
    world.secrets.set(paused.id, world.sandbox.issue_token("mastodon"))
    world.store.resume_account(paused.id)
    await world.step_until_idle()
    assert world.states("mastodon") == [State.SENT] * 2
    assert world.status_posts("mastodon") == ["first", "second"]


async def test_validation_error_fails_only_that_delivery(world: World) -> None:
    world.sandbox.configure("mastodon", max_characters=20)
    world.queue("this text is far longer than twenty characters", "mastodon", "mastodon2")
    world.queue("short one", "mastodon")

    await world.step_until_idle()

    first, second = (d for d in world.store.deliveries() if d.account_id == "mastodon-1")
    assert first.state is State.FAILED
    assert (
        "character limit" in first.last_error.lower()
        or "500" in first.last_error
        or ("validation" in first.last_error.lower())
    )
    assert second.state is State.SENT
    assert world.states("mastodon2") == [State.SENT]


async def test_unknown_outcome_is_reconciled_without_duplicate(world: World) -> None:
    world.sandbox.set_fault("mastodon", "commit_drop", count=1)
    world.queue("sent once, answer lost", "mastodon")

    await world.step_until_idle()

    (delivery,) = world.store.deliveries()
    assert delivery.state is State.SENT
    assert world.status_posts("mastodon") == ["sent once, answer lost"]
    assert world.status_requests("mastodon") == 2  # the resend replayed the Idempotency-Key
    assert delivery.remote_id == world.sandbox.posts("mastodon")[0]["id"]


async def test_scheduled_post_waits_for_its_time(world: World) -> None:
    at = world.clock.now() + 2 * HOUR
    world.store.enqueue(Post(body="later", scheduled_at=at), [world.accounts["mastodon"].id])
    world.queue("now", "mastodon")

    await world.engine.run_once()
    assert world.status_posts("mastodon") == ["now"]
    assert world.engine.next_wakeup() == at

    world.clock.advance_to(at)
    await world.engine.run_once()
    assert world.status_posts("mastodon") == ["now", "later"]


async def test_run_forever_sends_new_work_when_woken(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    from staffetta.core.clock import SystemClock

    store = Store.open(tmp_path / "outbox.sqlite3", SystemClock())
    secrets = SecretStore(MemoryKeyring())
    account = store.add_account("mastodon", "m", {"instance_url": sandbox.platform_url("mastodon")})
    secrets.set(account.id, sandbox.issue_token("mastodon"))
    sent = asyncio.Event()

    def on_event(event: EngineEvent) -> None:
        if event.state is State.SENT:
            sent.set()

    async with httpx.AsyncClient() as http:
        engine = Engine(store, load_channels(), secrets, http, SystemClock(), on_event=on_event)
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run_forever(stop))
        await asyncio.sleep(0)
        store.enqueue(Post(body="queued while running"), [account.id])
        engine.wake()
        await asyncio.wait_for(sent.wait(), timeout=10)
        stop.set()
        await asyncio.wait_for(running, timeout=10)
    assert [p.get("text") for p in sandbox.posts("mastodon")] == ["queued while running"]
    store.close()


async def test_coming_online_probes_a_down_platform_at_once(world: World) -> None:
    world.sandbox.set_fault("mastodon", "down")
    world.queue("waiting for the network", "mastodon")
    endpoint = world.accounts["mastodon"].settings["instance_url"]
    for _ in range(10):  # fail until the breaker opens
        await world.engine.run_once()
        if world.store.endpoint(endpoint).is_down:
            break
        world.clock.advance_to(world.engine.next_wakeup() or world.clock.now())
    # The next probe is scheduled in the future (1-2 s at first, up to the 300 s cap later).
    assert (world.engine.next_wakeup() or 0) > world.clock.now()

    world.sandbox.set_fault("mastodon", "up")
    await world.engine.check_now()
    assert world.engine.next_wakeup() == world.clock.now()
    await world.engine.run_once()
    assert world.states("mastodon") == [State.SENT]
