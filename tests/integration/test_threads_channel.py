"""The Threads channel against the sandbox Meta over HTTP: text, link previews, pictures fetched
from the public folder with alt text, threads of replies resumed part by part after a crash,
the 500-character count with emoji as UTF-8 bytes, limits, throttling and expiry."""

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

from staffetta.channels.meta_auth import MetaSecret
from staffetta.channels.threads_channel import ThreadsChannel
from staffetta.core.channel import DeliveryContext, Outcome, PublishResult
from staffetta.core.clock import FakeClock
from staffetta.core.errors import AuthError, PermanentError, RateLimited, UnknownOutcome
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.sandbox import SandboxServer
from staffetta.sandbox.meta import DEFAULT_APP_ID, DEFAULT_APP_SECRET, MetaPlatform

NAME = "meta"
CHANNEL = ThreadsChannel()
THREE_PARTS = "The first part, with a picture.\n\n---\n\nThe second part.\n---\nThe third part."
NUMBERED = ["The first part, with a picture. 1/3", "The second part. 2/3", "The third part. 3/3"]


class Crash(BaseException):
    """The process dies here (raised from a checkpoint write, after it is durable)."""


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


@pytest.fixture
def public(tmp_path: Path) -> Path:
    folder = tmp_path / "public"
    folder.mkdir()
    return folder


@pytest.fixture
def sb(public: Path) -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME], options={NAME: {"files_dir": str(public)}}) as server:
        yield server


def png(path: Path, size: tuple[int, int] = (600, 400)) -> str:
    PILImage.new("RGB", size, (20, 120, 60)).save(path, "PNG")
    return str(path)


@dataclass
class Harness:
    sb: SandboxServer
    public: Path
    post: Post
    clock: FakeClock = field(default_factory=lambda: FakeClock(time.time()))
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    crash_when: Callable[[dict[str, Any]], bool] = lambda _c: False

    def __post_init__(self) -> None:
        platform = self.sb.platform(NAME)
        assert isinstance(platform, MetaPlatform)
        token = platform.auth.issue("threads", "demo", self.sb.now(), long_lived=True)
        now = self.clock.now()
        self.secrets.append(MetaSecret(DEFAULT_APP_SECRET, token, now, now + 60 * 86400).dump())

    @property
    def account(self) -> Account:
        base = self.sb.platform_url(NAME)
        return Account(
            "th-1",
            "threads",
            "Demo",
            {
                "app_id": DEFAULT_APP_ID,
                "api_url": base,
                "handle": "@demo",
                "public_image_folder": str(self.public),
                "public_image_base_url": f"{base}/files",
            },
        )

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(dict(checkpoint))
        if self.crash_when(checkpoint):
            raise Crash

    def ctx(self, http: httpx.AsyncClient) -> DeliveryContext:
        delivery = Delivery(
            1, 1, "th-1", State.SENDING, "key-1", 0.0, 0.0, attempts=1,
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


def threads(sb: SandboxServer) -> list[dict[str, Any]]:
    return [p for p in sb.posts(NAME) if p["product"] == "threads"]


def count(sb: SandboxServer, ending: str) -> int:
    return sum(1 for r in sb.requests(NAME) if r["path"].endswith(ending))


# --- publishing -----------------------------------------------------------------------------------


def test_text_post_with_link_preview(sb: SandboxServer, public: Path) -> None:
    post = Post(body="New on the blog 😀", link="https://example.org/post")
    h = Harness(sb, public, post)

    result = run(h.publish)

    (published,) = threads(sb)
    assert published["text"] == "New on the blog 😀"
    assert published["media_type"] == "TEXT"
    assert published["link_attachment"] == "https://example.org/post"
    assert result.remote_id == published["id"]
    assert result.url == published["permalink"]


def test_picture_and_carousel_with_alt_text(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    one = Image(png(tmp_path / "a.png"), alt="A green field")
    run(Harness(sb, public, Post(body="One picture", images=(one,))).publish)
    two = Image(png(tmp_path / "b.png", (400, 900)), alt="A tall one")
    run(Harness(sb, public, Post(body="Two pictures", images=(one, two))).publish)

    single, carousel = threads(sb)
    assert single["media_type"] == "IMAGE"
    assert single["alt_texts"] == ["A green field"]
    assert single["images"][0]["format"] == "PNG"  # Threads takes PNG as it is
    assert carousel["media_type"] == "CAROUSEL"
    assert carousel["alt_texts"] == ["A green field", "A tall one"]
    assert single["link_attachment"] == ""


def test_thread_of_replies_in_order(sb: SandboxServer, public: Path, tmp_path: Path) -> None:
    image = Image(png(tmp_path / "a.png"), alt="picture")
    h = Harness(sb, public, Post(body=THREE_PARTS, images=(image,)))

    result = run(h.publish)

    first, second, third = threads(sb)
    assert [p["text"] for p in (first, second, third)] == NUMBERED
    assert first["reply_to_id"] == ""
    assert second["reply_to_id"] == first["id"]
    assert third["reply_to_id"] == second["id"]
    assert first["images"]
    assert not second["images"]
    assert not third["images"]
    assert result.remote_id == first["id"]
    assert [p["id"] for p in h.checkpoints[-1]["parts"]] == [first["id"], second["id"], third["id"]]


def test_crash_in_the_middle_of_a_thread_resumes_after_the_last_part(
    sb: SandboxServer, public: Path
) -> None:
    h = Harness(sb, public, Post(body=THREE_PARTS))
    # Die right after part 2's container is durable, before it is published.
    h.crash_when = lambda c: (
        len(c.get("parts", [])) == 1 and bool(c.get("step", {}).get("publishing"))
    )

    with pytest.raises(Crash):
        run(h.publish)
    assert [p["text"] for p in threads(sb)] == NUMBERED[:1]

    h.crash_when = lambda _c: False
    assert run(h.reconcile).outcome is Outcome.NOT_SENT
    run(h.publish)

    posts = threads(sb)
    assert [p["text"] for p in posts] == NUMBERED
    assert posts[1]["reply_to_id"] == posts[0]["id"]
    assert count(sb, "/threads_publish") == 3
    assert count(sb, "/threads") == 3  # three containers: part 2's was reused


def test_lost_answer_for_a_middle_part_is_found_by_its_container(
    sb: SandboxServer, public: Path
) -> None:
    h = Harness(sb, public, Post(body=THREE_PARTS))

    def drop_second_publish(checkpoint: dict[str, Any]) -> bool:
        if len(checkpoint.get("parts", [])) == 1 and checkpoint.get("step", {}).get("publishing"):
            sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
        return False

    h.crash_when = drop_second_publish
    with pytest.raises(UnknownOutcome):
        run(h.publish)
    assert len(threads(sb)) == 2

    h.crash_when = lambda _c: False
    verdict = run(h.reconcile)
    assert verdict.outcome is Outcome.NOT_SENT  # part 2 found; part 3 still to send
    assert "went out" in verdict.evidence
    run(h.publish)

    posts = threads(sb)
    assert [p["text"] for p in posts] == NUMBERED
    assert posts[2]["reply_to_id"] == posts[1]["id"]
    assert count(sb, "/threads_publish") == 3


# --- counting and refusals ------------------------------------------------------------------------


def test_preview_counts_emoji_as_their_utf8_bytes(public: Path) -> None:
    account = Account("th-1", "threads", "Demo", {"handle": "@demo"})
    fits = "a" * 496 + "😀"  # 496 + 4 = 500
    over = "a" * 497 + "😀"  # 501
    assert CHANNEL.preview(Post(body=fits), account).count == 500
    assert not CHANNEL.preview(Post(body=fits), account).problems
    preview = CHANNEL.preview(Post(body=over), account)
    assert preview.count == 501
    assert next((p.code, p.blocking) for p in preview.problems) == ("too_long", True)
    assert preview.problems[0].fix == "split"


def test_split_into_a_thread_fits_every_part(public: Path) -> None:
    account = Account("th-1", "threads", "Demo", {"handle": "@demo"})
    long = " ".join(f"Sentence number {n} with an emoji 🎉." for n in range(40))
    post = Post(body=long)
    post.overrides[account.id] = CHANNEL.thread_text(post, account)
    preview = CHANNEL.preview(post, account)
    assert len(preview.parts) > 1
    assert all(part.count <= 500 for part in preview.parts)
    assert not [p for p in preview.problems if p.blocking]


def test_too_many_links_is_refused_before_queueing_and_by_threads(
    sb: SandboxServer, public: Path
) -> None:
    body = " ".join(f"https://example.org/{n}" for n in range(6))
    preview = CHANNEL.preview(Post(body=body), Account("th-1", "threads", "D", {}))
    assert [p.code for p in preview.problems if p.blocking] == ["too_many_links"]
    with pytest.raises(PermanentError, match="THREADS_API__LINK_LIMIT_EXCEEDED"):
        run(Harness(sb, public, Post(body=body)).publish)


def test_publishing_limit_waits(sb: SandboxServer, public: Path) -> None:
    sb.configure(NAME, threads_quota=1)
    run(Harness(sb, public, Post(body="first")).publish)
    with pytest.raises(RateLimited, match="1 posts per 24 hours"):
        run(Harness(sb, public, Post(body="second")).publish)
    assert len(threads(sb)) == 1


def test_throttled_then_through(sb: SandboxServer, public: Path) -> None:
    sb.configure(NAME, throttle={"code": 613, "count": 1, "minutes": 2})
    h = Harness(sb, public, Post(body="slowly"))
    with pytest.raises(RateLimited) as caught:
        run(h.publish)
    assert caught.value.retry_after == 120
    run(h.publish)
    assert len(threads(sb)) == 1


def test_revoked_token_needs_reconnecting(sb: SandboxServer, public: Path) -> None:
    h = Harness(sb, public, Post(body="after a password change"))
    sb.revoke_tokens(NAME)
    with pytest.raises(AuthError, match="reconnect the account"):
        run(h.publish)


def test_image_download_failure_is_permanent_with_the_reason(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    """The public folder serves the picture to us, but it vanished before Threads fetched it."""
    image = Image(png(tmp_path / "a.png"), alt="gone")
    h = Harness(sb, public, Post(body="vanished", images=(image,)))

    def remove_it(checkpoint: dict[str, Any]) -> bool:
        if checkpoint.get("image_urls") and not checkpoint.get("step"):
            for file in public.iterdir():
                file.unlink()
        return False

    h.crash_when = remove_it
    # The check before the container sees it missing and waits rather than asking Threads.
    with pytest.raises(RateLimited, match="not online yet"):
        run(h.publish)
    assert count(sb, "/threads") == 0


def test_the_link_preview_counts_as_a_link_unless_it_is_in_the_text() -> None:
    account = Account("th-1", "threads", "Demo", {"handle": "@demo"})
    five = " ".join(f"https://example.org/{n}" for n in range(5))
    other = CHANNEL.preview(Post(body=five, link="https://example.net/x"), account)
    assert [p.code for p in other.problems if p.blocking] == ["too_many_links"]
    same = CHANNEL.preview(Post(body=five, link="https://example.org/0"), account)
    assert not [p for p in same.problems if p.blocking]
