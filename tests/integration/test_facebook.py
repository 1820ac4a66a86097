"""The Facebook Page channel against the sandbox Meta over HTTP: text, links, photos uploaded
unpublished then attached to one post with their alt text, the Page token made from the user
token, duplicates (506) and lost answers settled from the Page's feed, error codes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.facebook import FacebookPageChannel
from staffetta.channels.meta_auth import MetaSecret
from staffetta.core.channel import DeliveryContext, Outcome, PublishResult
from staffetta.core.clock import FakeClock
from staffetta.core.errors import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.sandbox import SandboxServer
from staffetta.sandbox.meta import DEFAULT_APP_ID, DEFAULT_APP_SECRET, MetaPlatform

NAME = "meta"
CHANNEL = FacebookPageChannel()


class Crash(BaseException):
    """The process dies here (raised from a checkpoint write, after it is durable)."""


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


def jpeg(path: Path, colour: tuple[int, int, int] = (10, 90, 200)) -> str:
    PILImage.new("RGB", (640, 480), colour).save(path, "JPEG")
    return str(path)


@dataclass
class Harness:
    """A signed-in user whose Page token is made on the first delivery (as after a reconnect
    from a pasted JSON secret), or given ready (``with_page``)."""

    sb: SandboxServer
    post: Post
    with_page: bool = False
    clock: FakeClock = field(default_factory=lambda: FakeClock(time.time()))
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    crash_when: Callable[[dict[str, Any]], bool] = lambda _c: False

    def __post_init__(self) -> None:
        platform = self.sb.platform(NAME)
        assert isinstance(platform, MetaPlatform)
        auth = platform.auth
        token = auth.issue("facebook", "demo", self.sb.now(), long_lived=True)
        now = self.clock.now()
        secret = MetaSecret(DEFAULT_APP_SECRET, token, now, now + 60 * 86400)
        if self.with_page:
            user = auth.user("demo")
            page = auth.page_token(auth.tokens[token], self.sb.now())
            secret = MetaSecret(DEFAULT_APP_SECRET, token, now, 0.0, page, user.page_id)
        self.secrets.append(secret.dump())

    @property
    def account(self) -> Account:
        return Account(
            "fb-1",
            "facebook",
            "Demo Page",
            {"app_id": DEFAULT_APP_ID, "api_url": self.sb.platform_url(NAME)},
        )

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(dict(checkpoint))
        if self.crash_when(checkpoint):
            raise Crash

    def ctx(self, http: httpx.AsyncClient) -> DeliveryContext:
        delivery = Delivery(
            1, 1, "fb-1", State.SENDING, "key-1", 0.0, 0.0, attempts=1,
            first_attempt_at=self.clock.now(),
            checkpoint=dict(self.checkpoints[-1]) if self.checkpoints else {},
        )  # fmt: skip
        return DeliveryContext(
            post=self.post,
            account=self.account,
            delivery=delivery,
            secret=self.secrets[-1],
            http=http,
            clock=self.clock,
            save_checkpoint=self.save,
            update_secret=self.secrets.append,
        )

    async def publish(self) -> PublishResult:
        async with httpx.AsyncClient(timeout=10) as http:
            return await CHANNEL.publish(self.ctx(http))

    async def reconcile(self) -> Any:
        async with httpx.AsyncClient(timeout=10) as http:
            return await CHANNEL.reconcile(self.ctx(http))


def posts(sb: SandboxServer) -> list[dict[str, Any]]:
    return [p for p in sb.posts(NAME) if p["product"] == "facebook"]


def count(sb: SandboxServer, ending: str, method: str = "POST") -> int:
    return sum(1 for r in sb.requests(NAME) if r["path"].endswith(ending) and r["method"] == method)


def test_text_post_and_the_page_token_kept(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="Hello, Page readers"))

    result = run(h.publish)

    (post,) = posts(sb)
    assert post["message"] == "Hello, Page readers"
    assert result.remote_id == post["id"]
    assert result.url == post["permalink_url"]
    # The Page token made from the user token went to the keyring with the app secret.
    stored = MetaSecret.load(h.secrets[-1])
    assert stored.page_token
    assert stored.page_id == post["from"]["id"]
    assert stored.app_secret == DEFAULT_APP_SECRET
    run(Harness(sb, Post(body="Second"), with_page=True).publish)
    assert count(sb, "/me/accounts", "GET") == 1


def test_link_post_gets_the_link_card(sb: SandboxServer) -> None:
    run(Harness(sb, Post(body="Read this", link="https://example.org/a"), with_page=True).publish)
    (post,) = posts(sb)
    assert post["link"] == "https://example.org/a"
    assert post["attached_media"] == []


def test_several_photos_in_one_post_with_alt_text(sb: SandboxServer, tmp_path: Path) -> None:
    images = (
        Image(jpeg(tmp_path / "a.jpg"), alt="First"),
        Image(jpeg(tmp_path / "b.jpg", (200, 10, 10)), alt="Second"),
    )
    post = Post(body="Two photos", images=images, link="https://example.org/more")
    h = Harness(sb, post, with_page=True)

    run(h.publish)

    (published,) = posts(sb)
    uploads = sb.uploads(NAME)
    assert [u["published"] for u in uploads] == [False, False]
    assert published["attached_media"] == [u["id"] for u in uploads]
    assert published["alt_texts"] == ["First", "Second"]
    # A link cannot be a card next to photos: it is in the text.
    assert published["message"] == "Two photos\n\nhttps://example.org/more"
    assert h.checkpoints[-1]["photos"] == [u["id"] for u in uploads]


def test_a_retry_never_uploads_a_photo_twice(sb: SandboxServer, tmp_path: Path) -> None:
    images = (Image(jpeg(tmp_path / "a.jpg"), alt="a"), Image(jpeg(tmp_path / "b.jpg"), alt="b"))
    h = Harness(sb, Post(body="resume", images=images), with_page=True)
    h.crash_when = lambda c: len(c.get("photos", [])) == 1

    with pytest.raises(Crash):
        run(h.publish)
    h.crash_when = lambda _c: False
    assert run(h.reconcile).outcome is Outcome.NOT_SENT
    run(h.publish)

    assert count(sb, "/photos") == 2
    assert len(posts(sb)) == 1


def test_lost_answer_is_found_in_the_page_feed(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="Did it go?"), with_page=True)

    def drop(checkpoint: dict[str, Any]) -> bool:
        if "feed_started_at" in checkpoint:
            sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
        return False

    h.crash_when = drop
    with pytest.raises(UnknownOutcome):
        run(h.publish)
    (post,) = posts(sb)

    verdict = run(h.reconcile)
    assert verdict.outcome is Outcome.SENT
    assert verdict.remote_id == post["id"]
    assert verdict.url == post["permalink_url"]


def test_nothing_in_the_feed_means_not_sent(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="Never arrived"), with_page=True)

    def refuse(checkpoint: dict[str, Any]) -> bool:
        if "feed_started_at" in checkpoint:
            sb.set_fault(NAME, "timeout", count=1, writes_only=True)
        return False

    h.crash_when = refuse

    async def short_timeout() -> None:
        async with httpx.AsyncClient(timeout=0.5) as http:
            await CHANNEL.publish(h.ctx(http))

    with pytest.raises(UnknownOutcome):
        run(short_timeout)
    assert posts(sb) == []
    assert run(h.reconcile).outcome is Outcome.NOT_SENT


def test_duplicate_refusal_506_is_settled_from_the_feed(sb: SandboxServer) -> None:
    """A resend Facebook refuses as a duplicate: the post that went out is found and reported."""
    first = Harness(sb, Post(body="Same words"), with_page=True)
    run(first.publish)
    again = Harness(sb, Post(body="Same words"), with_page=True)

    result = run(again.publish)

    (post,) = posts(sb)
    assert result.remote_id == post["id"]
    assert count(sb, "/feed") == 2  # the second was refused with 506, then looked up


def test_duplicate_of_an_older_post_fails_with_facebook_words(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="Old words"), with_page=True)
    run(h.publish)
    later = Harness(sb, Post(body="Old words"), with_page=True)
    later.clock.advance(3600)  # our attempt is an hour later than the post Facebook remembers
    with pytest.raises(
        PermanentError, match="duplicate of a recent post: Duplicate status message"
    ):
        run(later.publish)


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_throttling_waits(sb: SandboxServer, code: int) -> None:
    sb.configure(NAME, throttle={"code": code, "count": 1, "minutes": 3})
    with pytest.raises(RateLimited) as caught:
        run(Harness(sb, Post(body="busy"), with_page=True).publish)
    assert caught.value.retry_after == 180
    assert posts(sb) == []


def test_unknown_error_is_transient(sb: SandboxServer) -> None:
    sb.set_fault(NAME, "503", count=1)
    with pytest.raises(TransientError, match="HTTP 503"):
        run(Harness(sb, Post(body="later"), with_page=True).publish)


def test_revoked_sign_in_needs_reconnecting(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="x"), with_page=True)
    sb.revoke_tokens(NAME)
    with pytest.raises(AuthError, match="reconnect the account") as caught:
        run(h.publish)
    assert MetaSecret.load(h.secrets[-1]).page_token not in str(caught.value)


def test_verify_names_the_page(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="x"), with_page=True)

    async def verify() -> str:
        async with httpx.AsyncClient() as http:
            return await CHANNEL.verify(http, h.account, h.secrets[-1])

    assert run(verify) == "Demo Page"

    async def with_app_secret_only() -> str:
        async with httpx.AsyncClient() as http:
            return await CHANNEL.verify(http, h.account, DEFAULT_APP_SECRET)

    with pytest.raises(AuthError, match="Sign in with your browser"):
        run(with_app_secret_only)


def test_preview(tmp_path: Path) -> None:
    account = Account("fb-1", "facebook", "Demo Page", {"handle": "Demo Page"})
    empty = CHANNEL.preview(Post(body="  "), account)
    assert [p.code for p in empty.problems] == ["empty"]
    image = Image(jpeg(tmp_path / "a.jpg"))
    preview = CHANNEL.preview(Post(body="x", images=(image,)), account)
    assert [(p.code, p.blocking) for p in preview.problems] == [("missing_alt", False)]
    assert preview.handle == "Demo Page"
