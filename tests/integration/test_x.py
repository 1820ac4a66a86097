"""The X channel against the sandbox X API over real HTTP: OAuth with PKCE through a scripted
browser, tokens renewed before they expire, images through the v2 media upload, threads as reply
chains resumed after a failure, rate-limit headers, duplicate refusals and lost answers settled
by looking at the account's posts, and outages through the engine."""

from __future__ import annotations

import asyncio
import json
import random
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.registry import load_channels
from staffetta.channels.x_channel import XChannel
from staffetta.channels.x_oauth import AppTokens
from staffetta.core.channel import DeliveryContext, Outcome
from staffetta.core.clock import FakeClock, SystemClock
from staffetta.core.engine import Engine
from staffetta.core.errors import AuthError, RateLimited, TransientError, UnknownOutcome
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.oauth import OAuthError
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer

NAME = "x"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(scenario())


class Harness:
    """DeliveryContexts as the engine builds them, the keyring secret kept in memory."""

    def __init__(self, sb: SandboxServer, post: Post, **settings: Any) -> None:
        self.sb = sb
        self.channel = XChannel()
        self.post = post
        grant = sb.platform(NAME).issue_grant("demo")  # type: ignore[attr-defined]
        now = SystemClock().now()
        self.secret = AppTokens().with_grant(grant, now).dump()
        me = sb.platform(NAME).users["demo"]  # type: ignore[attr-defined]
        self.account = Account(
            "x-1",
            NAME,
            "Demo",
            {
                "api_url": sb.platform_url(NAME),
                "client_id": "sandbox-x-client",
                "user_id": me["id"],
                "username": "demo",
                "handle": "@demo",
                **settings,
            },
        )
        self.checkpoints: list[dict[str, Any]] = []
        self.saved: list[str] = []
        self.delivery = Delivery(
            id=7,
            post_id=1,
            account_id="x-1",
            state=State.SENDING,
            idempotency_key="k",
            not_before=now,
            next_attempt_at=now,
            attempts=1,
            first_attempt_at=now,
        )

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(json.loads(json.dumps(checkpoint)))

    def update_secret(self, value: str) -> None:
        self.saved.append(value)
        self.secret = value

    def run(self, call: Callable[[DeliveryContext], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            async with httpx.AsyncClient(timeout=5.0) as http:
                checkpoint = self.checkpoints[-1] if self.checkpoints else {}
                ctx = DeliveryContext(
                    post=self.post,
                    account=self.account,
                    delivery=replace(self.delivery, checkpoint=checkpoint),
                    secret=self.secret,
                    http=http,
                    clock=SystemClock(),
                    save_checkpoint=self.save,
                    update_secret=self.update_secret,
                )
                return await call(ctx)

        return asyncio.run(go())

    def publish(self) -> Any:
        return self.run(self.channel.publish)

    def reconcile(self) -> Any:
        return self.run(self.channel.reconcile)


def tweets(sb: SandboxServer) -> list[dict[str, Any]]:
    return sb.posts(NAME)


def creates(sb: SandboxServer) -> int:
    return sum(1 for r in sb.requests(NAME) if (r["method"], r["path"]) == ("POST", "/2/tweets"))


# --- connecting ---------------------------------------------------------------------------------


async def scripted_browser(url: str) -> None:
    """What the user's browser does: open X's page, follow the redirect to our listener."""
    async with httpx.AsyncClient(follow_redirects=True) as browser:
        page = await browser.get(url)
    assert page.status_code == 200
    assert "close this tab and return to Staffetta" in page.text


def test_oauth_with_pkce_end_to_end(sb: SandboxServer) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    sb.configure(NAME, redirect_uri=redirect)
    settings = {"client_id": "sandbox-x-client", "redirect_uri": redirect}
    settings["api_url"] = sb.platform_url(NAME)

    async def scenario() -> Any:
        async with httpx.AsyncClient() as http:
            authorization = await XChannel().authorize(http, settings, scripted_browser)
            account = Account("x-1", NAME, "", authorization.settings)
            handle = await XChannel().verify(http, account, authorization.secret)
            return authorization, handle

    authorization, handle = run(scenario)
    assert handle == "@demo"
    assert authorization.settings["handle"] == "@demo"
    assert authorization.settings["redirect_uri"] == redirect
    tokens = AppTokens.load(authorization.secret)
    assert tokens.access_token
    assert tokens.refresh_token  # offline.access was asked for
    assert tokens.expires_at > SystemClock().now() + 7000
    assert tokens.access_token not in json.dumps(authorization.settings)
    assert authorization.secret not in repr(authorization)
    paths = [r["path"] for r in sb.requests(NAME)]
    assert paths[:3] == ["/i/oauth2/authorize", "/2/oauth2/token", "/2/users/me"]


def test_a_confidential_app_signs_in_with_its_secret(sb: SandboxServer) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    sb.configure(NAME, redirect_uri=redirect, client_secret="s3cret")
    base = {"client_id": "sandbox-x-client", "redirect_uri": redirect}
    base["api_url"] = sb.platform_url(NAME)

    async def sign_in(settings: dict[str, Any]) -> Any:
        async with httpx.AsyncClient() as http:
            return await XChannel().authorize(http, settings, scripted_browser)

    with pytest.raises(OAuthError, match="did not accept the sign-in") as refused:
        run(lambda: sign_in(base))
    assert "s3cret" not in str(refused.value)
    authorization = run(lambda: sign_in({**base, "client_secret": "s3cret"}))
    assert AppTokens.load(authorization.secret).client_secret == "s3cret"  # for refreshes
    assert "client_secret" not in authorization.settings


def test_the_callback_must_be_the_registered_one(sb: SandboxServer) -> None:
    port = free_port()
    sb.configure(NAME, redirect_uri=f"http://127.0.0.1:{port}/callback")
    settings = {"client_id": "sandbox-x-client", "api_url": sb.platform_url(NAME)}
    settings["redirect_uri"] = f"http://127.0.0.1:{port}/other"

    seen: list[int] = []

    async def opener(url: str) -> None:
        async with httpx.AsyncClient() as browser:
            page = await browser.get(url)
        seen.append(page.status_code)  # X shows its error page; nothing comes back
        raise OAuthError("The user closed the page.")

    async def scenario() -> Any:
        async with httpx.AsyncClient() as http:
            return await XChannel().authorize(http, settings, opener)

    with pytest.raises(OAuthError, match="closed the page"):
        run(scenario)
    assert seen == [400]
    assert [r["path"] for r in sb.requests(NAME)] == ["/i/oauth2/authorize"]


# --- publishing ---------------------------------------------------------------------------------


def picture(tmp_path: Path, name: str = "photo.png") -> str:
    path = tmp_path / name
    PILImage.new("RGB", (64, 48), (200, 30, 30)).save(path)
    return str(path)


def test_a_post_with_an_image_and_its_description(sb: SandboxServer, tmp_path: Path) -> None:
    sb.configure(NAME, processing_polls=1)
    post = Post(body="Hello from Staffetta", images=(Image(picture(tmp_path), "A red square"),))
    harness = Harness(sb, post)
    result = harness.publish()
    (tweet,) = tweets(sb)
    assert tweet["source_text"] == "Hello from Staffetta"
    assert result.remote_id == tweet["id"]
    assert result.url == f"{sb.platform_url(NAME)}/demo/status/{tweet['id']}"
    (upload,) = sb.uploads(NAME)
    assert upload["alt"] == "A red square"
    assert tweet["media_ids"] == [upload["id"]]
    assert harness.checkpoints[-1]["media_ids"] == [upload["id"]]
    paths = [r["path"] for r in sb.requests(NAME)]
    assert "/2/media/upload" in paths  # processing was polled


def test_a_thread_resumes_after_the_part_that_failed(sb: SandboxServer) -> None:
    post = Post(body="One\n\n---\n\nTwo\n\n---\n\nThree")
    harness = Harness(sb, post)
    sb.set_fault(NAME, "503", count=1)  # nothing gets through at first
    with pytest.raises(TransientError):
        harness.publish()
    assert tweets(sb) == []
    posted: list[int] = []

    # Part 2 fails once X has taken part 1: the resumed delivery posts parts 2 and 3 only.
    original = harness.save

    async def fail_after_first(checkpoint: dict[str, Any]) -> None:
        await original(checkpoint)
        if len(checkpoint.get("parts", [])) == 1 and not posted:
            posted.append(1)
            sb.set_fault(NAME, "503", count=1)

    harness.save = fail_after_first  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        harness.publish()
    result = harness.publish()
    one, two, three = tweets(sb)
    assert [t["source_text"] for t in (one, two, three)] == ["One 1/3", "Two 2/3", "Three 3/3"]
    assert (two["in_reply_to"], three["in_reply_to"]) == (one["id"], two["id"])
    assert result.remote_id == one["id"]


def test_tokens_are_renewed_before_they_expire(sb: SandboxServer) -> None:
    harness = Harness(sb, Post(body="Fresh"))
    old = AppTokens.load(harness.secret)
    harness.secret = replace(old, expires_at=SystemClock().now() + 30).dump()  # nearly expired
    harness.publish()
    assert [r["path"] for r in sb.requests(NAME)][:2] == ["/2/oauth2/token", "/2/tweets"]
    (saved,) = harness.saved
    new = AppTokens.load(saved)
    assert new.refresh_token != old.refresh_token  # X rotates refresh tokens
    assert new.expires_at > SystemClock().now() + 7000
    # The old refresh token is spent: only the saved one works now.
    assert sb.platform(NAME).refresh_tokens.keys() == {new.refresh_token}  # type: ignore[attr-defined]


def test_an_expired_token_is_renewed_on_401_and_a_revoked_one_needs_the_user(
    sb: SandboxServer,
) -> None:
    harness = Harness(sb, Post(body="After expiry"))
    sb.platform(NAME).expire_tokens()  # type: ignore[attr-defined]
    harness.publish()
    assert len(harness.saved) == 1
    assert len(tweets(sb)) == 1
    sb.revoke_tokens(NAME)
    harness.post = Post(body="After revocation")
    with pytest.raises(AuthError, match="reconnect"):
        harness.publish()
    assert len(tweets(sb)) == 1


def test_rate_limit_headers_hold_the_next_post(sb: SandboxServer) -> None:
    sb.configure(NAME, post_limit=1, post_window=900)
    harness = Harness(sb, Post(body="First"))
    harness.publish()
    harness.post = Post(body="Second")
    with pytest.raises(RateLimited) as waiting:
        harness.publish()
    assert creates(sb) == 1  # not even sent: X said the window was used up
    assert waiting.value.retry_after is not None
    assert 800 < waiting.value.retry_after <= 900
    # A 429 from X itself waits until its reset too.
    sb.configure(NAME, post_limit=None)
    sb.set_fault(NAME, "429", retry_after=42, count=1)
    with pytest.raises(RateLimited) as limited:
        Harness(sb, Post(body="Third")).publish()
    assert limited.value.retry_after == pytest.approx(42, abs=2)


def test_a_duplicate_refusal_finds_the_post_already_there(sb: SandboxServer) -> None:
    Harness(sb, Post(body="Said once & https://example.org/a")).publish()
    (first,) = tweets(sb)
    harness = Harness(sb, Post(body="Said once & https://example.org/a"))
    result = harness.publish()
    assert result.remote_id == first["id"]  # X refused the repeat; the first one is it
    assert len(tweets(sb)) == 1


def test_a_duplicate_that_cannot_be_found_is_for_the_user(sb: SandboxServer) -> None:
    Harness(sb, Post(body="Hidden twin")).publish()
    sb.configure(NAME, read_posts=False)
    harness = Harness(sb, Post(body="Hidden twin"))
    with pytest.raises(UnknownOutcome, match="duplicate"):
        harness.publish()
    verdict = harness.reconcile()
    assert verdict.outcome is Outcome.UNKNOWN
    assert "would not list the account's recent posts" in verdict.evidence


def test_a_lost_answer_is_settled_from_the_account_posts(sb: SandboxServer) -> None:
    harness = Harness(sb, Post(body="Did it arrive?"))
    sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    with pytest.raises(UnknownOutcome):
        harness.publish()
    verdict = harness.reconcile()
    (tweet,) = tweets(sb)
    assert (verdict.outcome, verdict.remote_id) == (Outcome.SENT, tweet["id"])
    nothing = Harness(sb, Post(body="Never sent"))
    assert nothing.reconcile().outcome is Outcome.NOT_SENT


def test_an_outage_holds_the_post_and_it_goes_out_once(sb: SandboxServer, tmp_path: Path) -> None:
    async def scenario() -> list[State]:
        clock = FakeClock()
        store = Store.open(tmp_path / "outbox.sqlite3", clock)
        secrets = SecretStore(MemoryKeyring())
        grant = sb.platform(NAME).issue_grant("demo")  # type: ignore[attr-defined]
        me = sb.platform(NAME).users["demo"]  # type: ignore[attr-defined]
        settings = {"api_url": sb.platform_url(NAME), "client_id": "sandbox-x-client"}
        account = store.add_account(NAME, "X", {**settings, "user_id": me["id"]})
        secrets.set(account.id, AppTokens().with_grant(grant, SystemClock().now()).dump())
        sb.set_fault(NAME, "down")
        store.enqueue(Post(body="Through the outage"), [account.id])
        async with httpx.AsyncClient(timeout=5.0) as http:
            engine = Engine(
                store, load_channels(), secrets, http, clock, rng=random.Random(1),
                policy=RetryPolicy(base=2.0, cap=300.0, breaker_threshold=3),
            )  # fmt: skip
            for _ in range(8):
                await engine.run_once()
                clock.advance_to(engine.next_wakeup() or clock.now())
            held = [d.state for d in store.deliveries()]
            sb.set_fault(NAME, "up")
            for _ in range(20):
                await engine.run_once()
                wake = engine.next_wakeup()
                if wake is None:
                    break
                clock.advance_to(wake)
        states = held + [d.state for d in store.deliveries()]
        store.close()
        return states

    held, final = run(scenario)
    assert held is State.DOWN
    assert final is State.SENT
    assert [t["source_text"] for t in tweets(sb)] == ["Through the outage"]
