"""The Bluesky channel against a REAL PDS (``@atproto/pds`` with an in-memory PLC directory),
installed with npm and started on 127.0.0.1 by this module (see tests/support/pds_server.py).

What only a real server can tell: that it accepts our records, TIDs, facets, blobs and reply refs;
how it answers a second create at a taken record key; that a token it signed and then sees
expired comes back as 400 ``ExpiredToken``; that connecting finds the account's server through
its DID document on the PLC directory.

The first run installs Node 22 and the PDS (~2 minutes, cached afterwards). Without ``CI=true``
these tests are skipped, saying why, when the server cannot be installed; on CI they fail.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels import bluesky_api as api
from staffetta.channels.bluesky import BlueskyChannel
from staffetta.core.channel import DeliveryContext
from staffetta.core.clock import FakeClock, SystemClock
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from support.pds_server import Account as PdsAccount
from support.pds_server import PdsServer, PdsUnavailable, install

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

POLICY = RetryPolicy(base=1.0, cap=30.0, breaker_threshold=5)


@pytest.fixture(scope="module")
def pds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PdsServer]:
    try:
        server = PdsServer(install(), tmp_path_factory.mktemp("pds")).start()
    except PdsUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, so the real Bluesky PDS must run, but: {exc}", pytrace=False)
        pytest.skip(
            f"Real Bluesky PDS tests skipped (allowed only because CI is not 'true'): the PDS "
            f"could not be installed or started: {exc}"
        )
    try:
        yield server
    finally:
        server.stop()


class Spy(httpx.AsyncBaseTransport):
    """Forwards every request to the real server over the network, recording what came back;
    ``drop_answer_of`` makes it lose the answer to the next request to that XRPC method *after*
    the server has handled it (a connection cut during the send, as seen by the client)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.log: list[tuple[str, int | None, str]] = []  # (nsid, status, error name)
        self.drop_answer_of: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        nsid = request.url.path.removeprefix("/xrpc/")
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        if nsid == self.drop_answer_of:
            self.drop_answer_of = None
            self.log.append((nsid, None, ""))
            raise httpx.ReadError("connection reset by peer", request=request)
        error = ""
        if response.status_code >= 400:
            try:
                error = str(json.loads(body).get("error", ""))
            except ValueError:
                error = ""
        self.log.append((nsid, response.status_code, error))
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    def calls(self, nsid: str) -> list[tuple[int | None, str]]:
        return [(status, error) for name, status, error in self.log if name == nsid]

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class World:
    pds: PdsServer
    runtime: Runtime
    http: httpx.AsyncClient
    spy: Spy

    def settings(self, who: PdsAccount) -> dict[str, Any]:
        # The handle is resolved by the PDS itself (it knows its own .test handles), the DID
        # document comes from the local PLC directory and names the PDS.
        return {"handle": who.handle, "service": self.pds.url, "plc_url": self.pds.plc_url}

    async def connect(self, who: PdsAccount) -> Account:
        password = self.pds.create_app_password(who)
        return await self.runtime.connect(
            self.http, "bluesky", who.handle, self.settings(who), password
        )

    async def flush(self) -> None:
        engine = self.runtime.engine(self.http, rng=random.Random(3))
        await engine.flush(wait=True)


@pytest.fixture
async def world(pds: PdsServer, tmp_path: Path) -> AsyncIterator[World]:
    runtime = Runtime.open(
        Paths.under(tmp_path / "home"),
        secrets=SecretStore(MemoryKeyring()),
        clock=SystemClock(),
        policy=POLICY,
    )
    spy = Spy()
    async with httpx.AsyncClient(transport=spy, timeout=httpx.Timeout(30.0)) as http:
        yield World(pds, runtime, http, spy)
    runtime.close()


def photo_with_gps(path: Path) -> str:
    picture = PILImage.new("RGB", (1500, 1000), (20, 90, 160))
    picture.paste((250, 180, 0), (500, 300, 1000, 700))
    exif = PILImage.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (45.0, 26.0, 0.0)}
    picture.save(path, "JPEG", exif=exif, quality=95)
    return str(path)


def rkey_of(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def covered(text: str, facet: dict[str, Any]) -> str:
    return text.encode()[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode()


async def test_post_with_link_mention_hashtag_emoji_and_image(world: World, tmp_path: Path) -> None:
    alice, bob = world.pds.create_account("alice"), world.pds.create_account("bob")
    account = await world.connect(alice)
    assert account.settings["did"] == alice.did
    assert account.settings["pds_url"] == world.pds.url  # from the DID document on the PLC

    text = (
        f"Ciao @{bob.handle} 👋🏽👨‍👩‍👧 — 日本語テキスト, read https://example.org/päge?x=1 "
        "#Café #POSSE ✨"
    )
    image = Image(photo_with_gps(tmp_path / "photo.jpg"), alt="An orange square on blue")
    world.runtime.queue(Post(body=text, images=(image,)), [account.id])
    await world.flush()

    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    record = world.pds.get_post(alice.did, rkey_of(delivery.remote_id))
    assert record["uri"] == delivery.remote_id
    value = record["value"]
    # Links are posted shortened, as Bluesky's own app does; the facet keeps the whole URL.
    posted = text.replace("https://example.org/päge?x=1", "example.org/päge?x=1")
    assert value["text"] == posted
    assert [(covered(posted, f), f["features"]) for f in value["facets"]] == [
        (f"@{bob.handle}", [{"$type": "app.bsky.richtext.facet#mention", "did": bob.did}]),
        (
            "example.org/päge?x=1",
            [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/päge?x=1"}],
        ),
        ("#Café", [{"$type": "app.bsky.richtext.facet#tag", "tag": "Café"}]),
        ("#POSSE", [{"$type": "app.bsky.richtext.facet#tag", "tag": "POSSE"}]),
    ]
    [shown] = value["embed"]["images"]
    assert shown["alt"] == "An orange square on blue"
    assert shown["aspectRatio"] == {"width": 1500, "height": 1000}
    blob = world.pds.get_blob(alice.did, shown["image"]["ref"]["$link"])
    assert len(blob) == shown["image"]["size"] <= api.DEFAULT_IMAGE_BYTES
    with PILImage.open(io.BytesIO(blob)) as uploaded:
        assert uploaded.size == (1500, 1000)
        assert not uploaded.getexif()  # camera and GPS tags gone
    # The record key is the one fixed when the post was queued.
    assert rkey_of(delivery.remote_id) == api.delivery_rkey(
        delivery.not_before, delivery.id, delivery.idempotency_key
    )
    # The session went to the keyring, and nowhere else.
    secret = json.loads(world.runtime.secrets.get(account.id) or "{}")
    assert secret["access_jwt"]
    assert secret["refresh_jwt"]
    assert "jwt" not in json.dumps(world.runtime.store.account(account.id).settings)  # type: ignore[union-attr]


async def test_an_answer_lost_after_the_send_is_reconciled_without_a_duplicate(
    world: World,
) -> None:
    alice = world.pds.create_account("alice")
    account = await world.connect(alice)
    world.spy.drop_answer_of = "com.atproto.repo.createRecord"
    world.runtime.queue(Post(body="Sent once, answer lost 🌩️"), [account.id])
    await world.flush()

    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    posts = world.pds.list_posts(alice.did)
    assert [p["value"]["text"] for p in posts] == ["Sent once, answer lost 🌩️"]
    assert posts[0]["uri"] == delivery.remote_id
    assert world.spy.calls("com.atproto.repo.createRecord") == [(None, "")]
    assert world.spy.calls("com.atproto.repo.getRecord") == [(200, "")]
    assert [a.outcome for a in world.runtime.store.attempts(delivery.id)] == [
        State.RECONCILING.value,
        State.SENT.value,
    ]


def direct(
    world: World, account: Account, clock: Any, key: str, text: str, queued_at: float = 0.0
) -> DeliveryContext:
    """A delivery handed to the channel as the engine would, outside the engine."""
    now = queued_at or time.time()
    delivery = Delivery(7, 1, account.id, State.SENDING, key, now, now, attempts=1)

    async def save(_checkpoint: dict[str, Any]) -> None:
        return None

    return DeliveryContext(
        Post(body=text),
        account,
        delivery,
        world.runtime.secrets.get(account.id),
        world.http,
        clock,
        save,
        lambda secret: world.runtime.secrets.set(account.id, secret),
    )


async def test_a_second_create_at_the_same_key_is_recognised_as_sent(world: World) -> None:
    alice = world.pds.create_account("alice")
    account = await world.connect(alice)
    channel = BlueskyChannel()
    queued = time.time()
    first = await channel.publish(direct(world, account, SystemClock(), "dup", "twice?", queued))
    # As if the first answer had never been recorded: a first attempt all over again.
    again = await channel.publish(direct(world, account, SystemClock(), "dup", "twice?", queued))
    assert again == first
    assert world.spy.calls("com.atproto.repo.createRecord") == [
        (200, ""),
        (500, "InternalServerError"),  # what the PDS says about a taken record key
    ]
    assert len(world.pds.list_posts(alice.did)) == 1


async def test_an_expired_token_is_refreshed_not_a_reconnect(world: World) -> None:
    alice = world.pds.create_account("alice")
    account = await world.connect(alice)
    channel = BlueskyChannel()
    await channel.publish(direct(world, account, SystemClock(), "key-1", "first"))
    stored = json.loads(world.runtime.secrets.get(account.id) or "{}")

    # The server's own signature and an expiry in the past. Our clock lags three hours behind,
    # so only the server can tell the token expired: it answers 400 ExpiredToken.
    stored["access_jwt"] = world.pds.forge_access_token(alice.did, expires_at=time.time() - 60)
    world.runtime.secrets.set(account.id, json.dumps(stored))
    world.spy.log.clear()
    lagging = FakeClock(time.time() - 3 * 3600)
    await channel.publish(direct(world, account, lagging, "key-2", "second"))

    assert world.spy.calls("com.atproto.repo.createRecord") == [(400, "ExpiredToken"), (200, "")]
    assert world.spy.calls("com.atproto.server.refreshSession") == [(200, "")]
    assert world.spy.calls("com.atproto.server.createSession") == []
    renewed = json.loads(world.runtime.secrets.get(account.id) or "{}")
    assert renewed["access_jwt"] != stored["access_jwt"]
    assert renewed["app_password"] == stored["app_password"]
    assert [p["value"]["text"] for p in world.pds.list_posts(alice.did)] == ["second", "first"]


async def test_a_token_past_its_expiry_is_refreshed_before_it_is_used(world: World) -> None:
    alice = world.pds.create_account("alice")
    account = await world.connect(alice)
    credentials = {
        "app_password": world.runtime.secrets.get(account.id),
        "access_jwt": world.pds.forge_access_token(alice.did, expires_at=time.time() - 60),
        "refresh_jwt": "",
        "did": alice.did,
        "pds_url": world.pds.url,
    }
    world.runtime.secrets.set(account.id, json.dumps(credentials))
    world.runtime.queue(Post(body="fresh session"), [account.id])
    await world.flush()
    assert [d.state for d in world.runtime.store.deliveries()] == [State.SENT]
    # No refresh token to use: one new session, and no request with the stale token.
    assert world.spy.calls("com.atproto.server.createSession")[-1] == (200, "")
    assert world.spy.calls("com.atproto.repo.createRecord") == [(200, "")]


async def test_a_thread_is_a_reply_chain(world: World) -> None:
    alice = world.pds.create_account("alice")
    account = await world.connect(alice)
    body = "Part one 🧵\n\n---\n\nPart two\n\n---\n\nPart three #end"
    world.runtime.queue(Post(body=body), [account.id])
    await world.flush()
    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    posts = {p["uri"]: p for p in world.pds.list_posts(alice.did)}
    first = posts[delivery.remote_id]
    assert first["value"]["text"] == "Part one 🧵 1/3"
    parts = delivery.checkpoint["parts"]
    assert [posts[p["uri"]]["value"]["text"] for p in parts] == [
        "Part one 🧵 1/3",
        "Part two 2/3",
        "Part three #end 3/3",
    ]
    for previous, part in itertools.pairwise(parts):
        reply = posts[part["uri"]]["value"]["reply"]
        assert reply["root"] == {"uri": first["uri"], "cid": first["cid"]}
        assert reply["parent"] == {"uri": previous["uri"], "cid": posts[previous["uri"]]["cid"]}


# --- the sandbox answers as the real server does -------------------------------------------------


def xrpc_script(
    base: str, handle: str, password: str, expired_token: Any, noise: bytes
) -> list[tuple[int, str, str]]:
    """The same XRPC calls against a server: (status, error name, message) of each answer."""
    seen: list[tuple[int, str, str]] = []

    def call(method: str, nsid: str, token: str = "", **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kwargs.pop("headers", {}))
        response = httpx.request(
            method, f"{base}/xrpc/{nsid}", headers=headers, timeout=30, **kwargs
        )
        body = response.json() if response.content else {}
        seen.append(
            (response.status_code, str(body.get("error", "")), str(body.get("message", "")))
        )
        return dict(body)

    def post(token: str, text: str, rkey: str = "", **extra: Any) -> dict[str, Any]:
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-01-02T03:04:05Z"}
        body: dict[str, Any] = {"repo": did, "collection": "app.bsky.feed.post", "record": record}
        record.update(extra)
        if rkey:
            body["rkey"] = rkey
        return call("POST", "com.atproto.repo.createRecord", token, json=body)

    call("GET", "_health")
    call("POST", "com.atproto.server.createSession", json={"identifier": handle, "password": "x"})
    session = call(
        "POST",
        "com.atproto.server.createSession",
        json={"identifier": handle, "password": password},
    )
    did, token = session["did"], session["accessJwt"]
    post("", "no token")
    post("garbage", "bad token")
    post(expired_token(did), "expired token")
    post(token, "x" * 301)
    post(token, "👨\u200d👩\u200d👧\u200d👦" * 121)  # 121 graphemes, 3025 bytes
    rkey = api.delivery_rkey(time.time(), 1, f"k-{time.monotonic_ns()}")
    post(token, "once", rkey)
    post(token, "twice", rkey)
    call(
        "GET",
        "com.atproto.repo.getRecord",
        params={"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey},
    )
    call(
        "GET",
        "com.atproto.repo.getRecord",
        params={"repo": did, "collection": "app.bsky.feed.post", "rkey": "2222222222222"},
    )
    call("GET", "com.atproto.identity.resolveHandle", params={"handle": "nobody-here.test"})
    blob = call(
        "POST",
        "com.atproto.repo.uploadBlob",
        token,
        content=noise,
        headers={"Content-Type": "image/png"},
    )["blob"]
    image = {"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "noise"}]}
    post(token, "big image", embed=image)
    small = io.BytesIO()
    PILImage.new("RGB", (8, 8), (1, 2, 3)).save(small, "PNG")
    blob = call(
        "POST",
        "com.atproto.repo.uploadBlob",
        token,
        content=small.getvalue(),
        headers={"Content-Type": "image/png"},
    )["blob"]
    missing = {
        **blob,
        "ref": {"$link": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
    }
    post(token, "gone", embed={**image, "images": [{"image": missing, "alt": "x"}]})
    return seen


def test_the_sandbox_answers_as_the_real_pds(pds: PdsServer) -> None:
    noisy = io.BytesIO()
    size = (1000, 800)
    PILImage.frombytes("RGB", size, random.Random(9).randbytes(size[0] * size[1] * 3)).save(
        noisy, "PNG"
    )
    noise = noisy.getvalue()
    assert len(noise) > api.DEFAULT_IMAGE_BYTES

    alice = pds.create_account("conformance")
    real = xrpc_script(
        pds.url,
        alice.handle,
        pds.create_app_password(alice),
        lambda did: pds.forge_access_token(did, expires_at=time.time() - 60),
        noise,
    )
    with SandboxServer(platforms=["bluesky"]) as sb:
        password = sb.issue_token("bluesky", "conformance")

        def expired(did: str) -> str:
            sb.set_clock_offset(-3 * 3600)  # a session from three hours ago has expired since
            session = httpx.post(
                f"{sb.platform_url('bluesky')}/xrpc/com.atproto.server.createSession",
                json={"identifier": did, "password": password},
            ).json()
            sb.set_clock_offset(0)
            return str(session["accessJwt"])

        sandbox = xrpc_script(
            sb.platform_url("bluesky"), "conformance.test", password, expired, noise
        )
    names = [(status, error) for status, error, _ in real]
    assert [(status, error) for status, error, _ in sandbox] == names
    assert names == [
        (200, ""),
        (401, "AuthenticationRequired"),
        (200, ""),
        (401, "AuthMissing"),
        (400, "InvalidToken"),
        (400, "ExpiredToken"),
        (400, "InvalidRequest"),
        (400, "InvalidRequest"),
        (200, ""),
        (500, "InternalServerError"),
        (200, ""),
        (400, "RecordNotFound"),
        (400, "HandleNotFound"),
        (200, ""),
        (400, "InvalidRequest"),
        (200, ""),
        (400, "BlobNotFound"),
    ]
    for (_, _, message), (_, _, copied) in zip(real, sandbox, strict=True):
        if "too big" in message:  # what the channel reads to learn a server's image limit
            assert copied == message
