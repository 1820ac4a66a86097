"""Instagram, a Facebook Page and Threads through the real Engine against the sandbox Meta, with
simulated time: a Meta-wide outage holds all three and each goes out once when it ends; a crash
between creating a container and publishing it resumes with the same container; throttling
waits without marking Meta down; an expired sign-in pauses the account and its posts wait; and
no secret reaches the database."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.meta_auth import MetaSecret
from staffetta.channels.registry import load_channels
from staffetta.core.clock import FakeClock
from staffetta.core.engine import PLATFORM_DOWN, PLATFORM_UP, Engine, EngineEvent
from staffetta.core.model import Account, Image, Post, State
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer
from staffetta.sandbox.meta import DEFAULT_APP_ID, DEFAULT_APP_SECRET, MetaPlatform

NAME = "meta"
POLICY = RetryPolicy(base=2.0, cap=300.0, breaker_threshold=3)
PRODUCTS = ("instagram", "facebook", "threads")


class Crash(BaseException):
    """The process dies here."""


@pytest.fixture
def public(tmp_path: Path) -> Path:
    folder = tmp_path / "public"
    folder.mkdir()
    return folder


@pytest.fixture
def sandbox(public: Path) -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME], options={NAME: {"files_dir": str(public)}}) as server:
        yield server


@dataclass
class World:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    secrets: SecretStore
    http: httpx.AsyncClient
    events: list[EngineEvent]
    accounts: dict[str, Account]
    home: Path
    owner: str = "engine-under-test"

    def engine(self) -> Engine:
        return Engine(
            self.store,
            load_channels(),
            self.secrets,
            self.http,
            self.clock,
            rng=random.Random(7),
            policy=POLICY,
            on_event=self.events.append,
            owner=self.owner,
        )

    def states(self, product: str) -> list[State]:
        account_id = self.accounts[product].id
        return [d.state for d in self.store.deliveries() if d.account_id == account_id]

    def posts(self, product: str) -> list[dict[str, Any]]:
        return [p for p in self.sandbox.posts(NAME) if p["product"] == product]

    async def step_until_idle(self, engine: Engine, *, max_steps: int = 10_000) -> None:
        for _ in range(max_steps):
            await engine.run_once()
            wake = engine.next_wakeup()
            if wake is None:
                return
            self.clock.advance_to(wake)
        raise AssertionError("the engine never became idle")


def _secret(platform: MetaPlatform, product: str, now: float, sandbox_now: float) -> str:
    auth = platform.auth
    token = auth.issue(product, "demo", sandbox_now, long_lived=True)
    if product == "facebook":
        user = auth.user("demo")
        page = auth.page_token(auth.tokens[token], sandbox_now)
        return MetaSecret(DEFAULT_APP_SECRET, token, now, 0.0, page, user.page_id).dump()
    return MetaSecret(DEFAULT_APP_SECRET, token, now, now + 60 * 86400).dump()


@pytest.fixture
async def world(sandbox: SandboxServer, public: Path, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock(time.time())
    home = tmp_path / "home"
    home.mkdir()
    store = Store.open(home / "outbox.sqlite3", clock)
    secrets = SecretStore(MemoryKeyring())
    platform = sandbox.platform(NAME)
    assert isinstance(platform, MetaPlatform)
    base = sandbox.platform_url(NAME)
    common = {"app_id": DEFAULT_APP_ID, "api_url": base, "handle": "@demo"}
    images = {"public_image_folder": str(public), "public_image_base_url": f"{base}/files"}
    settings = {
        "instagram": {**common, **images},
        "facebook": {**common, "handle": "Demo Page"},
        "threads": {**common, **images},
    }
    accounts = {}
    for product in PRODUCTS:
        account = store.add_account(product, f"{product} sandbox", settings[product])
        secrets.set(account.id, _secret(platform, product, clock.now(), sandbox.now()))
        accounts[product] = account
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        yield World(sandbox, store, clock, secrets, http, [], accounts, home)
    store.close()


def jpeg(path: Path) -> str:
    PILImage.new("RGB", (1080, 1080), (240, 120, 20)).save(path, "JPEG")
    return str(path)


def post_for_all(tmp_path: Path, body: str) -> Post:
    return Post(body=body, images=(Image(jpeg(tmp_path / f"{abs(hash(body))}.jpg"), alt=body),))


async def test_meta_outage_holds_all_three_then_each_goes_out_once(
    world: World, tmp_path: Path
) -> None:
    engine = world.engine()
    world.sandbox.set_fault(NAME, "down")  # Facebook, Instagram and Threads at once
    ids = [world.accounts[p].id for p in PRODUCTS]
    for body in ("first", "second"):
        world.store.enqueue(post_for_all(tmp_path, body), ids)
    started = world.clock.now()

    # Six simulated hours of outage.
    while world.clock.now() < started + 6 * 3600:
        await engine.run_once()
        wake = engine.next_wakeup()
        assert wake is not None
        world.clock.advance_to(wake)
    for product in PRODUCTS:
        assert world.states(product) == [State.DOWN, State.DOWN]
    down_events = {e.endpoint for e in world.events if e.kind == PLATFORM_DOWN}
    assert len(down_events) == 3  # one breaker per Meta host
    outage_requests = len(world.sandbox.requests(NAME))
    assert outage_requests == 0  # refused connections never reach the application

    world.sandbox.set_fault(NAME, "up")
    await world.step_until_idle(engine)

    for product in PRODUCTS:
        assert world.states(product) == [State.SENT, State.SENT]
        texts = [p.get("text") or p.get("message") for p in world.posts(product)]
        assert texts == ["first", "second"]  # once each, in order
    assert {e.endpoint for e in world.events if e.kind == PLATFORM_UP} == down_events
    assert world.clock.now() - started < 6 * 3600 + 600  # released within a capped backoff


async def test_crash_between_container_and_publish_through_the_engine(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ig = world.accounts["instagram"]
    world.store.enqueue(post_for_all(tmp_path, "exactly once"), [ig.id])
    save = world.store.save_checkpoint
    first_run: asyncio.Task[int] | None = None

    def save_then_die(delivery_id: int, checkpoint: dict[str, Any]) -> None:
        save(delivery_id, checkpoint)
        if checkpoint.get("step", {}).get("publishing") and first_run is not None:
            first_run.cancel()  # the process is gone: nothing of it runs again
            raise Crash

    monkeypatch.setattr(world.store, "save_checkpoint", save_then_die)
    first_run = asyncio.ensure_future(world.engine().run_once())
    with pytest.raises(asyncio.CancelledError):
        await first_run
    monkeypatch.setattr(world.store, "save_checkpoint", save)
    # What a kill leaves in the outbox: still sending, the container id durable, nothing posted.
    (left,) = world.store.deliveries()
    assert left.state is State.SENDING
    assert left.checkpoint["step"]["container"]
    assert world.posts("instagram") == []

    await world.step_until_idle(world.engine())  # the next start of Staffetta

    (delivery,) = world.store.deliveries()
    (post,) = world.posts("instagram")
    assert delivery.state is State.SENT
    assert delivery.remote_id == post["id"]
    creates = [r for r in world.sandbox.requests(NAME) if r["path"].endswith("/media")]
    assert len(creates) == 1  # the container created before the crash was the one published


async def test_throttling_waits_without_marking_meta_down(world: World) -> None:
    world.sandbox.configure(NAME, throttle={"code": 32, "count": 1, "minutes": 10})
    world.store.enqueue(Post(body="throttled"), [world.accounts["facebook"].id])
    start = world.clock.now()
    engine = world.engine()

    await engine.run_once()

    (delivery,) = world.store.deliveries()
    assert delivery.state is State.WAITING
    assert delivery.next_attempt_at >= start + 600
    assert "Page request limit reached" in delivery.last_error
    assert not [e for e in world.events if e.kind == PLATFORM_DOWN]
    await world.step_until_idle(engine)
    assert world.states("facebook") == [State.SENT]


async def test_expired_sign_in_pauses_the_account_and_its_posts_wait(world: World) -> None:
    threads = world.accounts["threads"]
    for body in ("one", "two"):
        world.store.enqueue(Post(body=body), [threads.id])
    world.clock.advance(61 * 86400)
    world.sandbox.set_clock_offset(61 * 86400)
    engine = world.engine()

    await world.step_until_idle(engine)

    assert world.states("threads") == [State.NEEDS_RECONNECT, State.NEEDS_RECONNECT]
    paused = world.store.account(threads.id)
    assert paused is not None
    assert "expired" in paused.paused_reason
    assert "reconnect" in paused.paused_reason
    assert world.posts("threads") == []

    # The user signs in again: both go out, in order.
    platform = world.sandbox.platform(NAME)
    assert isinstance(platform, MetaPlatform)
    fresh = _secret(platform, "threads", world.clock.now(), world.sandbox.now())
    world.secrets.set(threads.id, fresh)
    world.store.resume_account(threads.id)
    await world.step_until_idle(engine)
    assert [p["text"] for p in world.posts("threads")] == ["one", "two"]


async def test_refreshed_token_goes_to_the_keyring_and_nothing_secret_to_disk(
    world: World,
) -> None:
    threads = world.accounts["threads"]
    old = MetaSecret.load(world.secrets.get(threads.id))
    world.clock.advance(40 * 86400)
    world.sandbox.set_clock_offset(40 * 86400)
    world.store.enqueue(Post(body="still fresh"), [threads.id])

    await world.step_until_idle(world.engine())

    new = MetaSecret.load(world.secrets.get(threads.id))
    assert new.user_token != old.user_token
    assert world.states("threads") == [State.SENT]
    on_disk = b"".join(p.read_bytes() for p in world.home.rglob("*") if p.is_file())
    for secret in (DEFAULT_APP_SECRET, old.user_token, new.user_token):
        assert secret.encode() not in on_disk
