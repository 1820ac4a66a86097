"""The Bluesky channel against the sandbox PDS over real HTTP: connecting through the handle's DID
document, sessions kept in the keyring and renewed, facets, images, link cards, idempotent record
keys, reconciling unknown outcomes, threads, and the platform's error shapes.

The same flows run against a real PDS in ``test_bluesky_pds.py``."""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels import bluesky_api as api
from staffetta.channels.bluesky import BlueskyChannel
from staffetta.channels.bluesky_session import open_session
from staffetta.core.channel import DeliveryContext, Outcome, PublishResult
from staffetta.core.clock import FakeClock, SystemClock
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    SecretStoreError,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer

NAME = "bluesky"
POLICY = RetryPolicy(base=2.0, cap=300.0, breaker_threshold=3)


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


def settings_for(sb: SandboxServer, username: str = "demo", **extra: Any) -> dict[str, Any]:
    url = sb.platform_url(NAME)
    return {"handle": f"{username}.test", "service": url, "plc_url": f"{url}/plc", **extra}


def creates(sb: SandboxServer, nsid: str = "com.atproto.repo.createRecord") -> list[Any]:
    """The status of each request to ``nsid`` (None = no answer)."""
    return [r["status"] for r in sb.requests(NAME) if r["path"] == f"/xrpc/{nsid}"]


def png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> str:
    PILImage.new("RGB", size, colour).save(path, "PNG")
    return str(path)


def jpeg_with_gps(path: Path, size: tuple[int, int] = (120, 80)) -> str:
    picture = PILImage.new("RGB", size, (10, 120, 200))
    exif = PILImage.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (45.0, 26.0, 0.0)}  # GPS latitude
    picture.save(path, "JPEG", exif=exif)
    return str(path)


# --- the channel alone, as the engine calls it --------------------------------------------------


class Harness:
    """Builds DeliveryContexts the way the engine does, with an in-memory keyring secret."""

    def __init__(
        self, sb: SandboxServer, post: Post, *, clock: Any = None, **settings: Any
    ) -> None:
        self.sb = sb
        self.channel = BlueskyChannel()
        self.post = post
        self.clock = clock or SystemClock()
        self.secret: str = sb.issue_token(NAME, "demo")
        did = sb.platform(NAME).auth.account("demo").did  # type: ignore[attr-defined]
        url = sb.platform_url(NAME)
        self.account = Account(
            "bluesky-1", NAME, "Demo", {**settings_for(sb), "did": did, "pds_url": url, **settings}
        )
        self.checkpoints: list[dict[str, Any]] = []
        self.on_checkpoint: Callable[[dict[str, Any]], None] = lambda _c: None
        now = self.clock.now()
        self.delivery = Delivery(
            id=41,
            post_id=1,
            account_id=self.account.id,
            state=State.SENDING,
            idempotency_key=f"key-{time.monotonic_ns()}",
            not_before=now,
            next_attempt_at=now,
            attempts=1,
            first_attempt_at=now,
        )

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(json.loads(json.dumps(checkpoint)))
        self.on_checkpoint(checkpoint)

    def update_secret(self, value: str) -> None:
        self.secret = value

    def ctx(self, http: httpx.AsyncClient, *, attempt: int = 1) -> DeliveryContext:
        checkpoint = self.checkpoints[-1] if self.checkpoints else {}
        delivery = replace(self.delivery, attempts=attempt, checkpoint=checkpoint)
        return DeliveryContext(
            post=self.post,
            account=self.account,
            delivery=delivery,
            secret=self.secret,
            http=http,
            clock=self.clock,
            save_checkpoint=self.save,
            update_secret=self.update_secret,
        )

    async def run(
        self, call: Callable[[DeliveryContext], Awaitable[Any]], *, attempt: int = 1
    ) -> Any:
        async with httpx.AsyncClient(timeout=5.0) as http:
            return await call(self.ctx(http, attempt=attempt))

    async def sign_in(self) -> None:
        """Start the session the way a first delivery would, so faults hit the post itself."""
        async with httpx.AsyncClient(timeout=5.0) as http:
            session = await open_session(
                http,
                self.account.settings["pds_url"],
                self.account.settings["did"],
                self.secret,
                self.clock,
                self.update_secret,
            )
            await session.access_token()

    async def publish(self, *, attempt: int = 1) -> PublishResult:
        return await self.run(self.channel.publish, attempt=attempt)  # type: ignore[no-any-return]


def records(sb: SandboxServer) -> list[dict[str, Any]]:
    return [p["value"] for p in sb.posts(NAME)]


def covered(text: str, facet: dict[str, Any]) -> str:
    return text.encode()[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()


async def test_text_with_facets_and_images(sb: SandboxServer, tmp_path: Path) -> None:
    bob = sb.platform(NAME).auth.account("bob")  # type: ignore[attr-defined]
    text = "Ciao @bob.test 👋🏽 — 日本語 https://example.org/α?x=1 #Café @nobody.test"
    post = Post(
        body=text,
        images=(
            Image(jpeg_with_gps(tmp_path / "photo.jpg", (1200, 800)), alt="A blue field"),
            Image(png(tmp_path / "b.png", (200, 10, 10), (300, 600)), alt="A red bar"),
        ),
    )
    h = Harness(sb, post)
    result = await h.publish()

    [record] = records(sb)
    posted = text.replace("https://example.org/α?x=1", "example.org/α?x=1")  # as Bluesky's app
    assert record["text"] == posted
    assert [(covered(posted, f), f["features"][0]) for f in record["facets"]] == [
        ("@bob.test", {"$type": "app.bsky.richtext.facet#mention", "did": bob.did}),
        (
            "example.org/α?x=1",
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/α?x=1"},
        ),
        ("#Café", {"$type": "app.bsky.richtext.facet#tag", "tag": "Café"}),
    ]
    images = record["embed"]["images"]
    assert [i["alt"] for i in images] == ["A blue field", "A red bar"]
    assert [i["aspectRatio"] for i in images] == [
        {"width": 1200, "height": 800},
        {"width": 300, "height": 600},
    ]
    uploads = sb.uploads(NAME)
    assert len(uploads) == 2
    assert not any(u["has_exif"] for u in uploads)  # GPS and camera tags stripped
    assert [i["image"]["ref"]["$link"] for i in images] == [u["cid"] for u in uploads]
    assert result.remote_id == sb.posts(NAME)[0]["uri"]
    rkey = result.remote_id.rsplit("/", 1)[1]
    assert rkey == api.delivery_rkey(h.delivery.not_before, 41, h.delivery.idempotency_key)
    assert result.url == f"https://bsky.app/profile/demo.test/post/{rkey}"


async def test_big_image_is_reencoded_under_the_blob_limit(
    sb: SandboxServer, tmp_path: Path
) -> None:
    noisy = tmp_path / "noise.png"
    PILImage.frombytes("RGB", (1600, 1200), random.Random(3).randbytes(1600 * 1200 * 3)).save(noisy)
    assert noisy.stat().st_size > 4_000_000
    h = Harness(sb, Post(body="noise", images=(Image(str(noisy), alt="static"),)))
    await h.publish()
    [upload] = sb.uploads(NAME)
    assert upload["size"] <= api.DEFAULT_IMAGE_BYTES
    assert upload["size"] > api.DEFAULT_IMAGE_BYTES * 0.6  # quality kept as high as fits
    assert (upload["width"], upload["height"]) == (1600, 1200)


async def test_an_older_server_image_limit_is_learnt_from_its_refusal(
    sb: SandboxServer, tmp_path: Path
) -> None:
    # A server validating against another lexicon names its limit when it refuses the record.
    sb.configure(NAME, image_limit=300_000)
    noisy = tmp_path / "noise.png"
    PILImage.frombytes("RGB", (800, 600), random.Random(5).randbytes(800 * 600 * 3)).save(noisy)
    h = Harness(sb, Post(body="noise", images=(Image(str(noisy), alt="static"),)))
    await h.publish()
    first, second = sb.uploads(NAME)
    assert first["size"] > 300_000 >= second["size"]
    assert creates(sb) == [400, 200]
    assert records(sb)[0]["embed"]["images"][0]["image"]["ref"]["$link"] == second["cid"]
    assert h.checkpoints[-1]["max_image_bytes"] == 300_000


async def test_a_retry_reuses_uploaded_images(sb: SandboxServer, tmp_path: Path) -> None:
    post = Post(body="two", images=tuple(
        Image(png(tmp_path / f"{n}.png", (n * 50, 0, 0)), alt=str(n)) for n in range(2)
    ))  # fmt: skip
    h = Harness(sb, post)
    await h.sign_in()
    h.on_checkpoint = lambda c: (
        sb.set_fault(NAME, "503", count=1) if len(c.get("images", [])) == 1 else None
    )
    with pytest.raises(TransientError, match="HTTP 503"):
        await h.publish()  # the second upload fails
    h.on_checkpoint = lambda _c: None
    await h.publish(attempt=2)
    assert len(sb.uploads(NAME)) == 2
    assert len(records(sb)[0]["embed"]["images"]) == 2


async def test_session_is_created_once_then_reused_and_refreshed(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="one"))
    password = h.secret
    await h.publish()
    stored = json.loads(h.secret)
    assert stored["app_password"] == password
    assert stored["access_jwt"]
    assert stored["refresh_jwt"]

    # A second delivery reads the keyring again: no new session.
    h.delivery = replace(h.delivery, id=42, idempotency_key="other", checkpoint={})
    h.checkpoints.clear()
    await h.publish()
    assert creates(sb, "com.atproto.server.createSession") == [200]

    # Three hours later on the server, the access token has expired: 400 ExpiredToken, refresh,
    # then the post goes through — still without a new createSession.
    sb.set_clock_offset(3 * 3600)
    h.delivery = replace(h.delivery, id=43, idempotency_key="third")
    h.checkpoints.clear()
    await h.publish()
    assert creates(sb) == [200, 200, 400, 200]
    assert creates(sb, "com.atproto.server.refreshSession") == [200]
    assert creates(sb, "com.atproto.server.createSession") == [200]
    assert json.loads(h.secret)["access_jwt"] != stored["access_jwt"]
    assert len(records(sb)) == 3


async def test_a_token_about_to_expire_is_refreshed_before_use(sb: SandboxServer) -> None:
    clock = FakeClock(time.time())
    h = Harness(sb, Post(body="one"), clock=clock)
    await h.publish()
    clock.advance(2 * 3600 - 60)  # our clock: the token has a minute left
    h.delivery = replace(h.delivery, id=42, idempotency_key="other", not_before=clock.now())
    h.checkpoints.clear()
    await h.publish()
    assert creates(sb) == [200, 200]  # no 400 ExpiredToken round trip
    assert creates(sb, "com.atproto.server.refreshSession") == [200]


async def test_refused_refresh_falls_back_to_the_app_password(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="one"))
    await h.publish()
    stale = json.loads(h.secret)
    stale["refresh_jwt"] = stale["refresh_jwt"][:-4] + "AAAA"  # signature no longer matches
    stale["access_jwt"] = stale["refresh_jwt"]
    h.secret = json.dumps(stale)
    h.delivery = replace(h.delivery, id=42, idempotency_key="other")
    h.checkpoints.clear()
    await h.publish()
    assert creates(sb, "com.atproto.server.createSession") == [200, 200]
    assert len(records(sb)) == 2


async def test_revoked_app_password_needs_the_user(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="one"))
    await h.publish()
    sb.revoke_tokens(NAME)
    h.delivery = replace(h.delivery, id=42, idempotency_key="other")
    h.checkpoints.clear()
    with pytest.raises(AuthError, match="new one") as caught:
        await h.publish()
    assert "Invalid identifier or password" in str(caught.value)
    assert json.loads(h.secret)["app_password"] not in str(caught.value)


async def test_create_session_rate_limit_is_rate_limited(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="x"))
    async with httpx.AsyncClient() as http:
        for _ in range(30):
            await h.channel.verify(http, h.account, h.secret)
        with pytest.raises(RateLimited) as caught:
            await h.channel.verify(http, h.account, h.secret)
    assert caught.value.retry_after is not None
    assert 0 < caught.value.retry_after <= 301  # the reset is a whole second


# --- idempotency and unknown outcomes -------------------------------------------------------------


async def test_commit_then_drop_is_reconciled_with_get_record(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="went out, answer lost"))
    await h.sign_in()
    sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    with pytest.raises(UnknownOutcome):
        await h.publish()
    verdict = await h.run(h.channel.reconcile, attempt=2)
    assert verdict.outcome is Outcome.SENT
    assert verdict.remote_id == sb.posts(NAME)[0]["uri"]
    assert len(sb.posts(NAME)) == 1


async def test_nothing_went_out_is_not_sent(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="never arrived"))
    await h.sign_in()
    sb.set_fault(NAME, "timeout", count=1, writes_only=True)
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.5)) as http:
        with pytest.raises(UnknownOutcome):
            await h.channel.publish(h.ctx(http))
    verdict = await h.run(h.channel.reconcile, attempt=2)
    assert verdict.outcome is Outcome.NOT_SENT
    assert "safe" in verdict.evidence
    await h.publish(attempt=2)
    assert len(sb.posts(NAME)) == 1


async def test_resending_a_post_that_went_out_never_duplicates(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="only once"))
    first = await h.publish()
    h.checkpoints.clear()
    # As if the checkpoint and the engine's memory were lost: a first attempt all over again.
    again = await h.publish()
    assert again == first
    assert creates(sb) == [200, 500]  # the taken key is refused, then looked up
    assert len(sb.posts(NAME)) == 1
    # A later attempt looks first and never even tries.
    h.checkpoints.clear()
    assert await h.publish(attempt=3) == first
    assert creates(sb) == [200, 500]


# --- threads ------------------------------------------------------------------------------------


THREAD = "First part #one\n\n---\n\nSecond part\n\n---\n\nThird part with example.org"


def chain(sb: SandboxServer) -> list[tuple[str, str | None, str | None]]:
    """(text, root uri, parent uri) of every post, oldest first."""
    found = []
    for post in sb.posts(NAME):
        reply = post["value"].get("reply") or {}
        found.append(
            (
                post["value"]["text"],
                (reply.get("root") or {}).get("uri"),
                (reply.get("parent") or {}).get("uri"),
            )
        )
    return found


async def test_thread_is_a_reply_chain_with_images_on_the_first_part(
    sb: SandboxServer, tmp_path: Path
) -> None:
    post = Post(body=THREAD, images=(Image(png(tmp_path / "a.png", (0, 90, 0)), alt="green"),))
    h = Harness(sb, post)
    result = await h.publish()
    posts = sb.posts(NAME)
    root = posts[0]["uri"]
    assert chain(sb) == [
        ("First part #one 1/3", None, None),
        ("Second part 2/3", root, root),
        ("Third part with example.org 3/3", root, posts[1]["uri"]),
    ]
    assert "embed" in posts[0]["value"]
    assert "embed" not in posts[1]["value"]
    assert "embed" not in posts[2]["value"]  # a card only for the first part
    assert result.remote_id == root
    assert [len(c["parts"]) for c in h.checkpoints if "parts" in c] == [1, 2, 3]


async def test_a_failed_part_resumes_without_reposting(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body=THREAD), link_card="off")
    h.on_checkpoint = lambda c: (
        sb.set_fault(NAME, "503", count=1, writes_only=True) if len(c["parts"]) == 1 else None
    )
    with pytest.raises(TransientError):
        await h.publish()
    assert len(sb.posts(NAME)) == 1
    h.on_checkpoint = lambda _c: None
    await h.publish(attempt=2)
    texts = [t for t, _, _ in chain(sb)]
    assert texts == ["First part #one 1/3", "Second part 2/3", "Third part with example.org 3/3"]


async def test_an_unknown_part_is_found_and_the_thread_carries_on(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body=THREAD), link_card="off")
    h.on_checkpoint = lambda c: (
        sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
        if len(c["parts"]) == 1
        else None
    )
    with pytest.raises(UnknownOutcome):
        await h.publish()
    h.on_checkpoint = lambda _c: None
    verdict = await h.run(h.channel.reconcile, attempt=2)
    assert verdict.outcome is Outcome.NOT_SENT
    assert "part 3 of 3" in verdict.evidence
    assert len(h.checkpoints[-1]["parts"]) == 2  # reconcile recorded the part it found
    await h.publish(attempt=2)
    assert len(sb.posts(NAME)) == 3
    assert creates(sb) == [200, None, 200]
    verdict = await h.run(h.channel.reconcile, attempt=3)
    assert verdict.outcome is Outcome.SENT


# --- link cards -----------------------------------------------------------------------------------


def page_server(pages: dict[str, httpx.Response]) -> httpx.MockTransport:
    """A fake web (the network peer): a page with Open Graph tags and its image."""

    def handler(request: httpx.Request) -> httpx.Response:
        return pages.get(str(request.url), httpx.Response(404, text="no such page"))

    return httpx.MockTransport(handler)


async def test_link_card_from_the_pages_metadata(sb: SandboxServer, tmp_path: Path) -> None:
    picture = tmp_path / "card.png"
    PILImage.new("RGB", (2400, 1260), (250, 200, 0)).save(picture)
    html = (
        "<html><head><meta property='og:title' content='A page'>"
        "<meta property='og:description' content='What it says'>"
        "<meta property='og:image' content='/card.png'></head><body>hi</body></html>"
    )
    web = page_server(
        {
            "https://blog.example/post": httpx.Response(
                200, text=html, headers={"Content-Type": "text/html; charset=utf-8"}
            ),
            "https://blog.example/card.png": httpx.Response(
                200, content=picture.read_bytes(), headers={"Content-Type": "image/png"}
            ),
        }
    )
    h = Harness(sb, Post(body="New post: https://blog.example/post"))
    async with httpx.AsyncClient(mounts={"https://blog.example": web}, timeout=5.0) as http:
        await h.channel.publish(h.ctx(http))
    [record] = records(sb)
    external = record["embed"]["external"]
    assert (external["uri"], external["title"], external["description"]) == (
        "https://blog.example/post",
        "A page",
        "What it says",
    )
    [thumb] = sb.uploads(NAME)
    assert external["thumb"]["ref"]["$link"] == thumb["cid"]
    assert thumb["size"] <= 1_000_000
    assert (thumb["width"], thumb["height"]) == (2000, 1050)


async def test_unreachable_page_gives_no_card_and_off_gives_none(sb: SandboxServer) -> None:
    web = page_server({})
    h = Harness(sb, Post(body="see https://blog.example/gone", link="https://blog.example/gone"))
    async with httpx.AsyncClient(mounts={"https://blog.example": web}, timeout=5.0) as http:
        await h.channel.publish(h.ctx(http))
    assert "embed" not in records(sb)[0]
    assert h.checkpoints[0] == {"card": None}  # decided once: a retry does not ask again
    off = Harness(sb, Post(body="see https://blog.example/x"), link_card="off")
    off.delivery = replace(off.delivery, id=99)
    await off.publish()
    assert "embed" not in records(sb)[1]
    assert records(sb)[1]["facets"][0]["features"][0]["uri"] == "https://blog.example/x"


# --- errors ---------------------------------------------------------------------------------------


async def test_validation_failure_is_permanent_with_the_platforms_message(
    sb: SandboxServer,
) -> None:
    h = Harness(sb, Post(body="x" * 301))
    with pytest.raises(PermanentError, match="grapheme too big"):
        await h.publish()


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("503", TransientError),
        ("500", TransientError),
        ("429", RateLimited),
        ("down", TransientError),
    ],
)
async def test_platform_faults(sb: SandboxServer, mode: str, error: type[Exception]) -> None:
    h = Harness(sb, Post(body="x"))
    sb.set_fault(NAME, mode)
    with pytest.raises(error) as caught:
        await h.publish()
    assert not isinstance(caught.value, UnknownOutcome)
    if mode == "429":
        assert isinstance(caught.value, RateLimited)
        assert caught.value.retry_after == 30
    assert sb.posts(NAME) == []


async def test_probe(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="x"))
    async with httpx.AsyncClient(timeout=5.0) as http:
        await h.channel.probe(http, h.account)
        sb.set_fault(NAME, "503")
        with pytest.raises(TransientError, match="unhealthy"):
            await h.channel.probe(http, h.account)
    assert h.channel.endpoint(h.account) == sb.platform_url(NAME)


# --- connecting and the engine, as the app does it ----------------------------------------------


@dataclass
class World:
    sb: SandboxServer
    runtime: Runtime
    clock: FakeClock
    http: httpx.AsyncClient

    async def connect(self, username: str = "demo", **extra: Any) -> Account:
        password = self.sb.issue_token(NAME, username)
        return await self.runtime.connect(
            self.http, NAME, username.title(), settings_for(self.sb, username, **extra), password
        )

    async def settle(self) -> None:
        engine = self.runtime.engine(self.http, rng=random.Random(1))
        for _ in range(100):
            await engine.run_once()
            wake = engine.next_wakeup()
            if wake is None:
                return
            self.clock.advance_to(wake)
        raise AssertionError("the engine never became idle")


@pytest.fixture
async def world(sb: SandboxServer, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock(time.time())
    runtime = Runtime.open(
        Paths.under(tmp_path / "home"),
        secrets=SecretStore(MemoryKeyring()),
        clock=clock,
        policy=POLICY,
    )
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
        yield World(sb, runtime, clock, http)
    runtime.close()


async def test_connect_resolves_the_pds_and_keeps_the_password_in_the_keyring(
    world: World, tmp_path: Path
) -> None:
    account = await world.connect("demo")
    did = world.sb.platform(NAME).auth.account("demo").did  # type: ignore[attr-defined]
    assert account.settings["did"] == did
    assert account.settings["pds_url"] == world.sb.platform_url(NAME)
    assert account.settings["handle"] == "demo.test"
    secret = world.runtime.secrets.get(account.id)
    assert secret is not None
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()


async def test_connect_refuses_clearly(world: World) -> None:
    with pytest.raises(InputError, match=r"could not find the handle nobody\.test"):
        await world.runtime.connect(
            world.http, NAME, "x", settings_for(world.sb, "nobody"), "pass-word"
        )
    world.sb.issue_token(NAME, "demo")
    with pytest.raises(AuthError, match="refused the app password"):
        await world.runtime.connect(world.http, NAME, "x", settings_for(world.sb), "wrong")
    with pytest.raises(InputError, match="secret"):
        await world.runtime.connect(
            world.http, NAME, "x", {**settings_for(world.sb), "app_password": "p"}, None
        )
    assert world.runtime.store.accounts() == []


async def test_engine_delivers_posts_in_order_with_one_session(world: World) -> None:
    account = await world.connect("demo")
    await world.connect("bob")
    for n in range(3):
        world.runtime.queue(Post(body=f"post {n} for @bob.test"), [account.id])
    await world.settle()
    deliveries = world.runtime.store.deliveries()
    assert [d.state for d in deliveries] == [State.SENT] * 3
    assert [r["text"] for r in records(world.sb)] == [f"post {n} for @bob.test" for n in range(3)]
    assert all(
        r["facets"][0]["features"][0]["$type"].endswith("#mention") for r in records(world.sb)
    )
    # One sign-in when connecting, one for the first delivery; the others reuse the keyring's.
    assert creates(world.sb, "com.atproto.server.createSession") == [200, 200, 200]
    assert [d.remote_id for d in deliveries] == [p["uri"] for p in world.sb.posts(NAME)]
    # The session lives in the keyring only: not in the outbox, settings or any other file.
    session = json.loads(world.runtime.secrets.get(account.id) or "{}")
    secrets = [session[k].encode() for k in ("app_password", "access_jwt", "refresh_jwt")]
    files = [path for path in world.runtime.paths.data.parent.rglob("*") if path.is_file()]
    assert "outbox.sqlite3" in {path.name for path in files}
    for path in files:
        assert not any(secret in path.read_bytes() for secret in secrets), path


async def test_engine_reconciles_an_answer_lost_after_the_commit(world: World) -> None:
    account = await world.connect("demo")
    world.runtime.queue(Post(body="first"), [account.id])
    await world.settle()
    world.sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    world.runtime.queue(Post(body="the answer is lost"), [account.id])
    await world.settle()
    _first, second = world.runtime.store.deliveries()
    assert second.state is State.SENT
    assert second.remote_id == world.sb.posts(NAME)[1]["uri"]
    assert [r["text"] for r in records(world.sb)] == ["first", "the answer is lost"]
    assert creates(world.sb) == [200, None]  # reconciled with getRecord, never sent again


async def test_engine_pauses_the_account_when_the_app_password_is_revoked(world: World) -> None:
    account = await world.connect("demo")
    world.sb.revoke_tokens(NAME)
    world.runtime.queue(Post(body="after revocation"), [account.id])
    await world.settle()
    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.NEEDS_RECONNECT
    assert "reconnect" in delivery.last_error
    assert world.runtime.store.account(account.id).paused_reason  # type: ignore[union-attr]


async def test_a_keyring_that_refuses_the_session_does_not_stop_the_post(
    sb: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    h = Harness(sb, Post(body="keyring locked meanwhile"))

    def locked(_value: str) -> None:
        raise SecretStoreError("The keyring is locked.")

    h.update_secret = locked  # type: ignore[method-assign]
    await h.publish()
    assert len(sb.posts(NAME)) == 1
    assert "could not keep the Bluesky session" in caplog.text
    assert "SecretStoreError" in caplog.text
