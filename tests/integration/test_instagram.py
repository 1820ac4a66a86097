"""The Instagram channel against the sandbox Meta over HTTP: single pictures and carousels fetched
from the public image folder, alt text, padding and cropping, the two-step container flow with
a crash between creating and publishing, the publishing limit, throttling and expired tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.instagram import InstagramChannel
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
CHANNEL = InstagramChannel()


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


def meta(sb: SandboxServer) -> MetaPlatform:
    platform = sb.platform(NAME)
    assert isinstance(platform, MetaPlatform)
    return platform


def jpeg(path: Path, size: tuple[int, int], colour: tuple[int, int, int] = (200, 40, 40)) -> str:
    PILImage.new("RGB", size, colour).save(path, "JPEG", quality=90)
    return str(path)


def png(path: Path, size: tuple[int, int], colour: tuple[int, int, int] = (40, 40, 200)) -> str:
    PILImage.new("RGB", size, colour).save(path, "PNG")
    return str(path)


@dataclass
class Harness:
    """Builds DeliveryContexts the way the engine does and keeps the checkpoints and secrets."""

    sb: SandboxServer
    public: Path
    post: Post
    clock: FakeClock = field(default_factory=lambda: FakeClock(time.time()))
    settings: dict[str, Any] = field(default_factory=dict)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    crash_when: Callable[[dict[str, Any]], bool] = lambda _c: False

    def __post_init__(self) -> None:
        token = meta(self.sb).auth.issue("instagram", "demo", self.sb.now(), long_lived=True)
        now = self.clock.now()
        secret = MetaSecret(DEFAULT_APP_SECRET, token, now, now + 60 * 86400)
        self.secrets.append(secret.dump())

    @property
    def account(self) -> Account:
        base = self.sb.platform_url(NAME)
        return Account(
            "ig-1",
            "instagram",
            "Demo",
            {
                "app_id": DEFAULT_APP_ID,
                "api_url": base,
                "handle": "@demo",
                "public_image_folder": str(self.public),
                "public_image_base_url": f"{base}/files",
                **self.settings,
            },
        )

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(dict(checkpoint))
        if self.crash_when(checkpoint):
            raise Crash

    def ctx(self, http: httpx.AsyncClient) -> DeliveryContext:
        delivery = Delivery(
            id=1,
            post_id=1,
            account_id="ig-1",
            state=State.SENDING,
            idempotency_key="key-1",
            not_before=0.0,
            next_attempt_at=0.0,
            attempts=1,
            first_attempt_at=self.clock.now(),
            checkpoint=dict(self.checkpoints[-1]) if self.checkpoints else {},
        )
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


def published(sb: SandboxServer) -> list[dict[str, Any]]:
    return [p for p in sb.posts(NAME) if p["product"] == "instagram"]


def requests_to(sb: SandboxServer, ending: str) -> list[dict[str, Any]]:
    return [r for r in sb.requests(NAME) if r["path"].endswith(ending)]


# --- publishing ---------------------------------------------------------------------------------


def test_single_picture_with_caption_and_alt_text(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    image = Image(jpeg(tmp_path / "a.jpg", (1080, 1080)), alt="A red square")
    h = Harness(sb, public, Post(body="Hello #posse @friend", images=(image,)))

    result = run(h.publish)

    (post,) = published(sb)
    assert result.remote_id == post["id"]
    assert result.url == post["permalink"]
    assert post["text"] == "Hello #posse @friend"
    assert post["alt_texts"] == ["A red square"]
    assert post["images"][0]["format"] == "JPEG"
    # Instagram fetched the picture from the public folder Staffetta wrote it to.
    assert [p.suffix for p in public.iterdir()] == [".jpg"]
    assert post["images"][0]["url"].startswith(f"{sb.platform_url(NAME)}/files/staffetta-")
    # The container id was durable before the publish request left.
    publishing = next(c for c in h.checkpoints if c.get("step", {}).get("publishing"))
    assert publishing["step"]["container"]
    assert "published" not in publishing


def test_carousel_of_three_with_a_png_converted_to_jpeg(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    images = (
        Image(jpeg(tmp_path / "a.jpg", (800, 800)), alt="one"),
        Image(png(tmp_path / "b.png", (800, 1000)), alt="two"),
        Image(jpeg(tmp_path / "c.jpg", (1200, 800)), alt="three"),
    )
    h = Harness(sb, public, Post(body="Three pictures", images=images))

    run(h.publish)

    (post,) = published(sb)
    assert post["media_type"] == "CAROUSEL"
    assert post["alt_texts"] == ["one", "two", "three"]
    assert [i["format"] for i in post["images"]] == ["JPEG", "JPEG", "JPEG"]
    assert len(requests_to(sb, "/media")) == 4  # three children and the carousel
    assert h.checkpoints[-1]["step"]["children"]


@pytest.mark.parametrize(
    ("fit", "size", "expected"),
    [
        ("pad", (900, 1800), (1152, 1440)),  # 1:2 → padded to 4:5, then 1440 px at most
        ("crop", (900, 1800), (900, 1125)),  # cropped to 4:5
        ("pad", (2000, 500), (1440, 755)),  # 4:1 → padded to 1.91:1, 1440 wide
        ("crop", (2000, 500), (955, 500)),  # cropped to 1.91:1
    ],
)
def test_shapes_outside_4_5_to_1_91_are_padded_or_cropped(
    sb: SandboxServer,
    public: Path,
    tmp_path: Path,
    fit: str,
    size: tuple[int, int],
    expected: tuple[int, int],
) -> None:
    image = Image(jpeg(tmp_path / "odd.jpg", size), alt="odd shape")
    h = Harness(sb, public, Post(body="Shape", images=(image,)), settings={"image_fit": fit})

    preview = CHANNEL.preview(h.post, h.account)
    (shape,) = [p for p in preview.problems if p.code == f"image_{fit}"]
    assert not shape.blocking
    assert ("padded with white bars" if fit == "pad" else "cropped around its centre") in (
        shape.message
    )

    run(h.publish)

    fetched = published(sb)[0]["images"][0]
    assert (fetched["width"], fetched["height"]) == expected
    assert 0.8 <= fetched["width"] / fetched["height"] <= 1.91


def test_owned_copy_is_reused_instead_of_writing_another(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    """A WordPress delivery of the same post recorded where its copy of the picture is."""
    original = tmp_path / "a.jpg"
    jpeg(original, (1000, 1000))
    hosted = public / "from-wordpress.jpg"
    hosted.write_bytes(original.read_bytes())
    owned_url = f"{sb.platform_url(NAME)}/files/from-wordpress.jpg"
    h = Harness(sb, public, Post(body="Reused", images=(Image(str(original), alt="a"),)))
    wordpress = Delivery(
        2,
        1,
        "wp-1",
        State.SENT,
        "k2",
        0.0,
        0.0,
        checkpoint={"media": [{"id": 9, "url": owned_url}]},
    )

    async def scenario() -> PublishResult:
        async with httpx.AsyncClient(timeout=10) as http:
            ctx = h.ctx(http)
            ctx.other_deliveries = lambda: [wordpress]
            return await CHANNEL.publish(ctx)

    run(scenario)

    assert published(sb)[0]["images"][0]["url"] == owned_url
    assert [p.name for p in public.iterdir()] == ["from-wordpress.jpg"]  # nothing new written


# --- a crash between creating the container and publishing it -----------------------------------


def test_crash_after_the_container_resumes_with_the_same_container(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="Once", images=(image,)))
    h.crash_when = lambda c: bool(c.get("step", {}).get("publishing"))

    with pytest.raises(Crash):
        run(h.publish)
    assert published(sb) == []  # the process died before the publish request

    h.crash_when = lambda _c: False
    verdict = run(h.reconcile)
    assert verdict.outcome is Outcome.NOT_SENT
    result = run(h.publish)

    (post,) = published(sb)
    assert result.remote_id == post["id"]
    assert len(requests_to(sb, "/media")) == 1  # one container, never a second
    assert len(requests_to(sb, "/media_publish")) == 1


def test_answer_lost_after_publishing_is_found_not_sent_again(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="Lost answer", images=(image,)))

    def drop_the_publish(checkpoint: dict[str, Any]) -> bool:
        if checkpoint.get("step", {}).get("publishing"):
            sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
        return False

    h.crash_when = drop_the_publish
    with pytest.raises(UnknownOutcome):
        run(h.publish)
    (post,) = published(sb)  # it went out, the answer did not come back

    verdict = run(h.reconcile)
    assert verdict.outcome is Outcome.SENT
    assert verdict.remote_id == post["id"]
    assert verdict.url == post["permalink"]
    assert len(requests_to(sb, "/media_publish")) == 1


def test_meta_error_after_publishing_is_settled_by_the_container_status(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    """Meta answers "unknown error" (code 2) although the post went out: the retry looks first."""
    sb.configure(NAME, publish_then_error=1)
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="Went out anyway", images=(image,)))

    with pytest.raises(TransientError, match="unexpected error"):
        run(h.publish)
    result = run(h.publish)

    (post,) = published(sb)
    assert result.remote_id == post["id"]
    assert len(requests_to(sb, "/media_publish")) == 1


# --- waiting, limits and refusals ----------------------------------------------------------------


def test_container_still_processing_is_polled_with_the_injected_clock(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    sb.configure(NAME, processing_polls=3)
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="Slow", images=(image,)))
    started = h.clock.now()

    run(h.publish)

    assert len(published(sb)) == 1
    statuses = [r for r in sb.requests(NAME) if r["method"] == "GET" and r["path"].count("/") == 3]
    assert len(statuses) >= 4  # three IN_PROGRESS answers, then FINISHED
    assert h.clock.now() - started >= 1 + 2 + 3  # waited, on the fake clock


def test_publishing_limit_reached_waits(sb: SandboxServer, public: Path, tmp_path: Path) -> None:
    sb.configure(NAME, ig_quota=1)
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    run(Harness(sb, public, Post(body="first", images=(image,))).publish)

    with pytest.raises(RateLimited, match="allows 1 posts per 24 hours") as caught:
        run(Harness(sb, public, Post(body="second", images=(image,))).publish)
    assert caught.value.retry_after == pytest.approx(1800)
    assert len(published(sb)) == 1


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80002])
def test_throttling_codes_wait_for_the_usage_header(
    sb: SandboxServer, public: Path, tmp_path: Path, code: int
) -> None:
    sb.configure(NAME, throttle={"code": code, "count": 1, "minutes": 7})
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="throttled", images=(image,)))

    with pytest.raises(RateLimited, match="asked to slow down") as caught:
        run(h.publish)
    assert caught.value.retry_after == 7 * 60
    run(h.publish)  # the next attempt goes through
    assert len(published(sb)) == 1


def test_expired_token_needs_reconnecting(sb: SandboxServer, public: Path, tmp_path: Path) -> None:
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="too late", images=(image,)))
    token = MetaSecret.load(h.secrets[-1]).user_token
    sb.set_clock_offset(61 * 86400)  # Meta's clock: the 60 days are over

    with pytest.raises(AuthError, match="reconnect") as caught:
        run(h.publish)
    assert token not in str(caught.value)
    assert "Session has expired" in str(caught.value)
    assert published(sb) == []


def test_expired_on_our_clock_is_refused_before_any_request(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="too late", images=(image,)))
    h.clock.advance(61 * 86400)

    with pytest.raises(AuthError, match=r"expired on .* reconnect"):
        run(h.publish)
    assert sb.requests(NAME) == []


def test_token_is_refreshed_before_it_expires(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="fresh", images=(image,)))
    old = MetaSecret.load(h.secrets[-1])
    sb.set_clock_offset(45 * 86400)
    h.clock.advance(45 * 86400)  # 15 days left: refresh

    run(h.publish)

    new = MetaSecret.load(h.secrets[-1])
    assert len(h.secrets) == 2
    assert new.user_token != old.user_token
    assert new.app_secret == DEFAULT_APP_SECRET
    assert new.expires_at == pytest.approx(h.clock.now() + 60 * 86400, abs=120)
    assert len(published(sb)) == 1
    assert len(requests_to(sb, "/refresh_access_token")) == 1


def test_image_not_online_yet_waits_without_blaming_meta(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(
        sb,
        public,
        Post(body="not deployed", images=(image,)),
        settings={"public_image_base_url": f"{sb.platform_url(NAME)}/files/elsewhere"},
    )

    with pytest.raises(RateLimited, match="not online yet") as caught:
        run(h.publish)
    assert caught.value.retry_after == 60
    assert requests_to(sb, "/media") == []  # Meta was never asked to fetch a missing picture


def test_personal_account_is_refused_with_a_clear_message(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    sb.configure(NAME, account_type="PERSONAL")
    h = Harness(sb, public, Post(body="x"))

    async def verify() -> str:
        async with httpx.AsyncClient() as http:
            return await CHANNEL.verify(http, h.account, h.secrets[-1])

    with pytest.raises(AuthError, match="personal Instagram account"):
        run(verify)


def test_probe_tells_up_from_down(sb: SandboxServer, public: Path) -> None:
    h = Harness(sb, public, Post(body="x"))

    async def probe() -> None:
        async with httpx.AsyncClient() as http:
            await CHANNEL.probe(http, h.account)

    run(probe)  # Meta answers an unauthenticated call with a Graph error: it is up
    for mode in ("503", "down"):
        sb.set_fault(NAME, mode)
        with pytest.raises(TransientError):
            run(probe)
    sb.set_fault(NAME, "up")
    run(probe)


# --- the preview ---------------------------------------------------------------------------------


def test_preview_blocks_without_a_public_address_and_without_a_picture(tmp_path: Path) -> None:
    account = Account("ig-1", "instagram", "Demo", {"app_id": "123456", "handle": "@demo"})
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")

    without_host = CHANNEL.preview(Post(body="x", images=(image,)), account)
    (problem,) = [p for p in without_host.problems if p.code == "no_public_address"]
    assert problem.blocking
    assert "public web address" in problem.message

    no_picture = CHANNEL.preview(Post(body="x"), account)
    assert [p.code for p in no_picture.problems if p.blocking] == ["needs_image"]


def test_preview_counts_caption_hashtags_and_mentions(public: Path, tmp_path: Path) -> None:
    account = Account(
        "ig-1",
        "instagram",
        "Demo",
        {
            "handle": "@demo",
            "public_image_folder": str(public),
            "public_image_base_url": "https://example.org/img",
        },
    )
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    tags = " ".join(f"#tag{n}" for n in range(31))
    mentions = " ".join(f"@user{n}" for n in range(21))
    preview = CHANNEL.preview(Post(body=f"{tags} {mentions}", images=(image,)), account)
    codes = {p.code for p in preview.problems if p.blocking}
    assert codes == {"too_many_hashtags", "too_many_mentions"}
    assert preview.limit == 2200

    long = CHANNEL.preview(Post(body="é" * 2201, images=(image,)), account)
    assert long.count == 2201
    assert "2201 / 2200 characters — 1 over" in [p.message for p in long.problems]
    info = [p for p in long.problems if p.code == "public_images"]
    assert info
    assert not info[0].blocking
    assert "https://example.org/img/" in info[0].message


def test_validation_refusal_is_permanent_with_meta_words(
    sb: SandboxServer, public: Path, tmp_path: Path
) -> None:
    image = Image(jpeg(tmp_path / "a.jpg", (1000, 1000)), alt="a")
    h = Harness(sb, public, Post(body="x" * 2300, images=(image,)))
    with pytest.raises(PermanentError, match="Captions are 2,200 at most"):
        run(h.publish)


def test_secret_never_appears_in_settings_or_repr(sb: SandboxServer, public: Path) -> None:
    h = Harness(sb, public, Post(body="x"))
    secret = MetaSecret.load(h.secrets[-1])
    assert secret.user_token not in repr(secret)
    assert DEFAULT_APP_SECRET not in repr(secret)
    assert not any(DEFAULT_APP_SECRET in str(v) for v in h.account.settings.values())
    assert replace(secret, page_token="x").dump() != secret.dump()
