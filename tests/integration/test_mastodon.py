"""The Mastodon channel against a real sandbox Mastodon over HTTP (and a few error shapes that the
sandbox cannot produce, against ``httpx.MockTransport``)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels import mastodon_api
from staffetta.channels.mastodon import MastodonChannel
from staffetta.channels.mastodon_connect import (
    authorize_url,
    begin_oob_connect,
    connect_with_oauth,
    connect_with_oob_code,
    connect_with_token,
    exchange_code,
    register_app,
)
from staffetta.core.channel import DeliveryContext, Outcome, PublishResult
from staffetta.core.clock import FakeClock, SystemClock
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.oauth import LoopbackReceiver, OAuthError, Pkce, new_state
from staffetta.sandbox import SandboxServer

NAME = "mastodon"
CHANNEL = MastodonChannel()


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


def make_account(sb: SandboxServer, **settings: Any) -> Account:
    return Account(
        "acct-1", "mastodon", "Demo", {"instance_url": sb.platform_url(NAME), **settings}
    )


class Harness:
    """Builds DeliveryContexts the way the engine would, and records checkpoints."""

    def __init__(self, sb: SandboxServer, post: Post, *, clock: Any = None, key: str = "") -> None:
        self.sb = sb
        self.post = post
        self.account = make_account(sb)
        self.clock = clock or SystemClock()
        self.token = sb.issue_token(NAME)
        self.checkpoints: list[dict[str, Any]] = []
        self.on_checkpoint: Callable[[dict[str, Any]], None] = lambda _c: None
        self.delivery = Delivery(
            id=1,
            post_id=1,
            account_id=self.account.id,
            state=State.SENDING,
            idempotency_key=key or f"staffetta-{time.monotonic_ns()}",
            not_before=0.0,
            next_attempt_at=0.0,
            attempts=1,
            first_attempt_at=self.clock.now(),
        )

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(dict(checkpoint))
        self.on_checkpoint(checkpoint)

    def ctx(self, http: httpx.AsyncClient, *, resume: bool = False) -> DeliveryContext:
        delivery = self.delivery
        if resume and self.checkpoints:
            delivery = replace(delivery, checkpoint=self.checkpoints[-1])
        return DeliveryContext(
            post=self.post,
            account=self.account,
            delivery=delivery,
            secret=self.token,
            http=http,
            clock=self.clock,
            save_checkpoint=self.save,
        )

    async def publish(self, *, resume: bool = False, http_timeout: float = 10.0) -> PublishResult:
        async with httpx.AsyncClient(timeout=http_timeout) as http:
            return await CHANNEL.publish(self.ctx(http, resume=resume))


def png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> str:
    PILImage.new("RGB", size, colour).save(path, "PNG")
    return str(path)


# --- instance URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  Mastodon.Social/ ", "https://mastodon.social"),
        ("https://example.org/social/", "https://example.org/social"),
        ("https://example.org:8443", "https://example.org:8443"),
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
        ("http://127.8.9.10", "http://127.8.9.10"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_instance_urls_are_normalised(raw: str, expected: str) -> None:
    assert mastodon_api.normalise_instance_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("http://mastodon.social", "unencrypted"),
        ("http://192.168.1.10:3000", "unencrypted"),
        ("", "Enter your Mastodon server"),
        ("ftp://mastodon.social", "starts with https://"),
        ("https://", "no server name"),
        ("not a server", "not a valid server name"),
        ("mastodon", "not a complete server name"),
        ("@me@mastodon.social", "looks like a handle"),
        ("https://me@mastodon.social", "user name"),
        ("https://mastodon.social:99999", "not a valid server address"),
        ("https://mastodon.social/?x=1", "without"),
    ],
)
def test_bad_instance_urls_are_refused_clearly(raw: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        mastodon_api.normalise_instance_url(raw)


def test_plain_http_to_a_remote_host_is_refused_before_any_request() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={})

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(InputError, match="https://"):
                await connect_with_token(http, "http://mastodon.example", "tok")
            account = Account("a", "mastodon", "A", {"instance_url": "http://mastodon.example"})
            with pytest.raises(InputError):
                await CHANNEL.refresh_settings(http, account)

    run(scenario)
    assert calls == []


# --- settings, health, credentials ----------------------------------------------------------------


def test_limits_are_read_from_the_instance(sb: SandboxServer) -> None:
    sb.configure(NAME, max_characters=1000)
    account = make_account(sb)
    assert CHANNEL.preview(Post(body="a" * 600), account).limit == 500  # nothing cached yet

    async def scenario() -> dict[str, Any]:
        async with httpx.AsyncClient() as http:
            return await CHANNEL.refresh_settings(http, account)

    settings = run(scenario)
    assert settings["max_characters"] == 1000
    assert settings["characters_reserved_per_url"] == 23
    assert settings["max_media_attachments"] == 4
    assert settings["description_limit"] == 1500
    assert "image/png" in settings["supported_mime_types"]
    cached = replace(account, settings={**account.settings, **settings})
    p = CHANNEL.preview(Post(body="a" * 600), cached)
    assert p.limit == 1000
    assert not p.problems


def test_v1_instance_fallback() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/instance":
            return httpx.Response(404, json={"error": "Record not found"})
        assert request.url.path == "/api/v1/instance"
        return httpx.Response(200, json={"uri": "old.example", "max_toot_chars": 5000})

    async def scenario() -> dict[str, Any]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            account = Account("a", "mastodon", "A", {"instance_url": "old.example"})
            return await CHANNEL.refresh_settings(http, account)

    assert run(scenario) == {"max_characters": 5000, "domain": "old.example"}


def test_probe_and_verify(sb: SandboxServer) -> None:
    account = make_account(sb)
    token = sb.issue_token(NAME)

    async def scenario() -> None:
        async with httpx.AsyncClient() as http:
            await CHANNEL.probe(http, account)
            handle = await CHANNEL.verify(http, account, token)
            assert handle == f"@demo@{mastodon_api.host_of(sb.platform_url(NAME))}"
            with pytest.raises(AuthError, match="reconnect"):
                await CHANNEL.verify(http, account, "not-a-token")
            sb.set_fault(NAME, "503")
            with pytest.raises(TransientError, match="unhealthy"):
                await CHANNEL.probe(http, account)
            sb.set_fault(NAME, "down")
            with pytest.raises(TransientError, match="Could not reach"):
                await CHANNEL.probe(http, account)

    run(scenario)


# --- publishing -----------------------------------------------------------------------------------


def test_publish_text(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="Hello from Staffetta https://example.org", content_warning="cw"))
    result = run(h.publish)
    posts = sb.posts(NAME)
    assert len(posts) == 1
    assert result.remote_id == posts[0]["id"]
    assert result.url == posts[0]["url"]
    assert posts[0]["spoiler_text"] == "cw"
    assert posts[0]["visibility"] == "public"
    sent = [r for r in sb.requests(NAME) if r["path"] == "/api/v1/statuses"]
    assert sent[0]["idempotency_key"] == h.delivery.idempotency_key


def test_publish_two_images_through_processing(sb: SandboxServer, tmp_path: Path) -> None:
    sb.configure(NAME, processing_polls=2)  # 202, then 206 twice, then 200
    images = (
        Image(png(tmp_path / "red.png", (220, 20, 20)), alt="A red square"),
        Image(png(tmp_path / "blue.png", (20, 20, 220)), alt="A blue square"),
    )
    clock = FakeClock(time.time())
    h = Harness(sb, Post(body="Two squares", images=images), clock=clock)
    started = clock.now()
    result = run(h.publish)

    uploads = sb.uploads(NAME)
    assert [u["description"] for u in uploads] == ["A red square", "A blue square"]
    assert all(u["content_type"] == "image/png" for u in uploads)
    posts = sb.posts(NAME)
    assert len(posts) == 1
    assert result.remote_id == posts[0]["id"]
    assert [m["id"] for m in posts[0]["media_attachments"]] == [u["id"] for u in uploads]
    polls = [r for r in sb.requests(NAME) if r["path"].startswith("/api/v1/media/")]
    assert [r["status"] for r in polls] == [206, 206, 200, 206, 206, 200]
    assert clock.now() > started  # waited with the injected clock, not for real
    assert h.checkpoints[-1]["media_ids"] == [u["id"] for u in uploads]
    assert h.checkpoints[-1]["pending_media"] == []


def test_a_retry_reuses_uploaded_media(sb: SandboxServer, tmp_path: Path) -> None:
    images = (
        Image(png(tmp_path / "a.png", (1, 2, 3)), alt="one"),
        Image(png(tmp_path / "b.png", (4, 5, 6)), alt="two"),
    )
    h = Harness(sb, Post(body="resume", images=images), clock=FakeClock(time.time()))

    def fail_the_status_post(checkpoint: dict[str, Any]) -> None:
        if len(checkpoint["media_ids"]) == 2 and not checkpoint["pending_media"]:
            sb.set_fault(NAME, "503", count=1)

    h.on_checkpoint = fail_the_status_post
    with pytest.raises(TransientError, match="HTTP 503"):
        run(h.publish)
    assert len(sb.uploads(NAME)) == 2
    assert sb.posts(NAME) == []

    h.on_checkpoint = lambda _c: None
    result = run(lambda: h.publish(resume=True))
    assert len(sb.uploads(NAME)) == 2  # nothing uploaded twice
    assert len(sb.posts(NAME)) == 1
    assert len(sb.posts(NAME)[0]["media_attachments"]) == 2
    assert result.remote_id == sb.posts(NAME)[0]["id"]


def test_commit_drop_then_idempotent_replay(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="exactly once"))
    sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    with pytest.raises(UnknownOutcome):
        run(h.publish)
    assert len(sb.posts(NAME)) == 1  # it did go out

    async def reconcile() -> Any:
        async with httpx.AsyncClient() as http:
            return await CHANNEL.reconcile(h.ctx(http))

    verdict = run(reconcile)
    assert verdict.outcome is Outcome.RETRY_SAFE
    assert "Idempotency-Key" in verdict.evidence
    result = run(h.publish)
    posts = sb.posts(NAME)
    assert len(posts) == 1
    assert result.remote_id == posts[0]["id"]


def test_reconcile_after_the_key_expired_finds_the_post(sb: SandboxServer) -> None:
    clock = FakeClock(time.time())
    h = Harness(
        sb, Post(body="Hi @friend@elsewhere.example, see https://example.org/x"), clock=clock
    )
    # Some unrelated older and newer posts on the same account.
    other = Harness(sb, Post(body="something else"))
    run(other.publish)
    sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    with pytest.raises(UnknownOutcome):
        run(h.publish)
    run(Harness(sb, Post(body="a later post")).publish)
    sent = next(p for p in sb.posts(NAME) if p["text"].startswith("Hi @friend"))

    # Two hours later the Idempotency-Key no longer protects a resend.
    sb.set_clock_offset(7200)
    clock.advance(7200)

    async def reconcile() -> Any:
        async with httpx.AsyncClient() as http:
            return await CHANNEL.reconcile(h.ctx(http))

    verdict = run(reconcile)
    assert verdict.outcome is Outcome.SENT
    assert verdict.remote_id == sent["id"]
    assert verdict.url == sent["url"]


def test_reconcile_after_the_key_expired_when_nothing_went_out(sb: SandboxServer) -> None:
    clock = FakeClock(time.time())
    run(Harness(sb, Post(body="an older post")).publish)
    h = Harness(sb, Post(body="never arrived"), clock=clock)
    sb.set_fault(NAME, "503", count=1)
    with pytest.raises(TransientError):
        run(h.publish)
    sb.set_clock_offset(3 * 3600)
    clock.advance(3 * 3600)

    async def reconcile() -> Any:
        async with httpx.AsyncClient() as http:
            ctx = h.ctx(http)
            ctx.account = replace(ctx.account, settings={**ctx.account.settings, "account_id": "1"})
            return await CHANNEL.reconcile(ctx)

    verdict = run(reconcile)
    assert verdict.outcome is Outcome.NOT_SENT
    paths = [r["path"] for r in sb.requests(NAME)]
    assert "/api/v1/accounts/verify_credentials" not in paths  # the cached id was used


def test_reconcile_when_the_server_is_unreachable_is_transient(sb: SandboxServer) -> None:
    clock = FakeClock(time.time())
    h = Harness(sb, Post(body="x"), clock=clock)
    clock.advance(7200)
    sb.set_fault(NAME, "down")

    async def reconcile() -> Any:
        async with httpx.AsyncClient() as http:
            return await CHANNEL.reconcile(h.ctx(http))

    with pytest.raises(TransientError):
        run(reconcile)


# --- errors ---------------------------------------------------------------------------------------


def test_revoked_token_is_an_auth_error(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body="hello"))
    sb.revoke_tokens(NAME)
    with pytest.raises(AuthError, match="reconnect the account") as caught:
        run(h.publish)
    assert h.token not in str(caught.value)


def test_validation_failure_is_permanent_with_the_platform_message(sb: SandboxServer) -> None:
    sb.configure(NAME, max_characters=10)
    h = Harness(sb, Post(body="far too long for ten characters"))
    with pytest.raises(PermanentError, match="Text character limit of 10 exceeded"):
        run(h.publish)


def test_rate_limited_honours_retry_after(sb: SandboxServer) -> None:
    sb.set_fault(NAME, "429", retry_after=42)
    h = Harness(sb, Post(body="slow down"))
    with pytest.raises(RateLimited) as caught:
        run(h.publish)
    assert caught.value.retry_after == 42


def test_rate_limit_window_reset(sb: SandboxServer) -> None:
    sb.set_rate_limit(NAME, 1, window=120)
    h = Harness(sb, Post(body="first"))
    run(h.publish)
    h2 = Harness(sb, Post(body="second"))
    with pytest.raises(RateLimited) as caught:
        run(h2.publish)
    assert caught.value.retry_after is not None
    assert 100 <= caught.value.retry_after <= 120


def test_down_is_transient_not_unknown(sb: SandboxServer) -> None:
    sb.set_fault(NAME, "down")
    h = Harness(sb, Post(body="anyone there?"))
    with pytest.raises(TransientError) as caught:
        run(h.publish)
    assert not isinstance(caught.value, UnknownOutcome)


def test_server_errors_are_transient(sb: SandboxServer) -> None:
    for mode in ("503", "500"):
        sb.set_fault(NAME, mode, count=1)
        with pytest.raises(TransientError, match=f"HTTP {mode}"):
            run(Harness(sb, Post(body=f"during {mode}")).publish)
    assert sb.posts(NAME) == []


def test_no_answer_after_sending_is_unknown(sb: SandboxServer) -> None:
    sb.set_fault(NAME, "timeout", writes_only=True)
    h = Harness(sb, Post(body="into the void"))
    with pytest.raises(UnknownOutcome):
        run(lambda: h.publish(http_timeout=0.5))


def _mock(status: int, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("POST", "https://m.example/"), **kwargs)


def test_error_shapes() -> None:
    now = 1_800_000_000.0
    # Mastodon's X-RateLimit-Reset is an ISO 8601 timestamp, not epoch seconds.
    iso_reset = "2027-01-15T08:00:30.000Z"
    reset_epoch = datetime.fromisoformat("2027-01-15T08:00:30+00:00").timestamp()
    limited = mastodon_api.classify_response(
        _mock(429, json={"error": "Too many requests"}, headers={"X-RateLimit-Reset": iso_reset}),
        reset_epoch - 90,
    )
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == pytest.approx(90)

    revoked = mastodon_api.classify_response(
        _mock(403, json={"error": "The access token was revoked"}), now
    )
    assert isinstance(revoked, AuthError)
    scopes = mastodon_api.classify_response(
        _mock(403, json={"error": "This action is outside the authorized scopes"}), now
    )
    assert isinstance(scopes, AuthError)  # reconnecting grants the missing scopes
    forbidden = mastodon_api.classify_response(
        _mock(403, json={"error": "Your login is currently disabled"}), now
    )
    assert type(forbidden) is PermanentError
    assert "Your login is currently disabled" in str(forbidden)
    described = mastodon_api.classify_response(
        _mock(401, json={"error": "invalid_token", "error_description": "The token expired"}), now
    )
    assert isinstance(described, AuthError)
    assert "The token expired" in str(described)
    gateway = mastodon_api.classify_response(
        _mock(502, text="<html>Bad gateway</html>", headers={"content-type": "text/html"}), now
    )
    assert type(gateway) is TransientError
    assert "<html>" not in str(gateway)
    missing = mastodon_api.classify_response(_mock(404, json={"error": "Record not found"}), now)
    assert type(missing) is PermanentError


# --- connecting -----------------------------------------------------------------------------------


async def scripted_browser(url: str) -> None:
    """What a user's browser does: open the page, follow the redirect to our loopback listener."""
    async with httpx.AsyncClient(follow_redirects=True) as browser:
        page = await browser.get(url)
    assert page.status_code == 200
    assert "close this tab and return to Staffetta" in page.text


def test_oauth_end_to_end(sb: SandboxServer) -> None:
    base = sb.platform_url(NAME)
    receivers: list[LoopbackReceiver] = []

    def receiver_factory() -> LoopbackReceiver:
        receivers.append(LoopbackReceiver())
        return receivers[-1]

    async def scenario() -> Any:
        async with httpx.AsyncClient() as http:
            connected = await connect_with_oauth(
                http,
                base,
                open_browser=scripted_browser,
                receiver_factory=receiver_factory,  # type: ignore[arg-type]
                timeout=10,
            )
            account = Account("new", "mastodon", "Demo", connected.settings)
            assert await CHANNEL.verify(http, account, connected.token) == connected.handle
            return connected

    connected = run(scenario)
    host = mastodon_api.host_of(base)
    assert connected.handle == f"@demo@{host}"
    assert connected.settings["instance_url"] == base
    assert connected.settings["account_id"] == connected.account_id
    assert connected.settings["max_characters"] == 500
    assert connected.token not in repr(connected)
    assert connected.app is not None
    assert connected.app.client_secret not in repr(connected)
    assert "client_secret" not in connected.settings
    assert not receivers[0].listening
    paths = [r["path"] for r in sb.requests(NAME)]
    assert paths[:3] == ["/api/v1/apps", "/oauth/authorize", "/oauth/token"]


def test_channel_authorize_runs_the_browser_sign_in(sb: SandboxServer) -> None:
    """The Channel hook the CLI and the UI call: same flow, result ready for keyring + settings."""
    assert MastodonChannel.browser_sign_in

    async def scenario() -> Any:
        async with httpx.AsyncClient() as http:
            settings = {"instance_url": sb.platform_url(NAME) + "/"}
            return await CHANNEL.authorize(http, settings, scripted_browser)

    authorization = run(scenario)
    assert authorization.settings["instance_url"] == sb.platform_url(NAME)
    assert authorization.settings["handle"].startswith("@demo@")
    assert authorization.secret not in repr(authorization)
    account = make_account(sb)

    async def verify() -> str:
        async with httpx.AsyncClient() as http:
            return await CHANNEL.verify(http, account, authorization.secret)

    assert run(verify) == authorization.settings["handle"]


def test_sandbox_rejects_a_wrong_pkce_verifier(sb: SandboxServer) -> None:
    base = sb.platform_url(NAME)

    async def scenario() -> None:
        async with httpx.AsyncClient() as http, LoopbackReceiver() as receiver:
            app = await register_app(http, base, receiver.redirect_uri)
            pkce, state = Pkce.generate(), new_state()
            url = authorize_url(
                base, app.client_id, receiver.redirect_uri, state=state,
                code_challenge=pkce.challenge,
            )  # fmt: skip
            waiting = asyncio.create_task(receiver.wait_for_code(state, 10))
            await scripted_browser(url)
            code = await waiting
            with pytest.raises(OAuthError, match="did not accept the sign-in") as caught:
                await exchange_code(
                    http,
                    app,
                    code,
                    redirect_uri=receiver.redirect_uri,
                    code_verifier=Pkce.generate().verifier,
                )
            assert code not in str(caught.value)
            assert app.client_secret not in str(caught.value)

    run(scenario)


def test_access_denied_in_the_browser() -> None:
    """A server that answers with access_denied: the flow ends with a clear message."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/apps":
            return httpx.Response(200, json={"client_id": "cid", "client_secret": "csecret"})
        raise AssertionError(f"unexpected {request.url}")

    async def denying_browser(url: str) -> None:
        query = httpx.URL(url).params
        async with httpx.AsyncClient() as browser:
            await browser.get(
                query["redirect_uri"], params={"error": "access_denied", "state": query["state"]}
            )

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(OAuthError, match="declined"):
                await connect_with_oauth(
                    http, "mastodon.example", open_browser=denying_browser, timeout=10
                )

    run(scenario)


def test_oob_code_flow(sb: SandboxServer) -> None:
    base = sb.platform_url(NAME)

    async def scenario() -> Any:
        async with httpx.AsyncClient() as http:
            pending = await begin_oob_connect(http, base)
            assert "redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob" in pending.url
            assert "code_challenge_method=S256" in pending.url
            async with httpx.AsyncClient() as browser:
                page = await browser.get(pending.url)
            match = re.search(r'<code id="oob-code">([^<]+)</code>', page.text)
            assert match
            with pytest.raises(OAuthError):
                await connect_with_oob_code(http, pending, "wrong-code")
            return await connect_with_oob_code(http, pending, f"  {match.group(1)}\n")

    connected = run(scenario)
    assert connected.handle.startswith("@demo@")


def test_pasted_token(sb: SandboxServer) -> None:
    base = sb.platform_url(NAME)
    token = sb.issue_token(NAME)

    async def scenario() -> None:
        async with httpx.AsyncClient() as http:
            connected = await connect_with_token(http, base, f" {token} ")
            assert connected.handle == f"@demo@{mastodon_api.host_of(base)}"
            assert connected.app is None
            with pytest.raises(AuthError, match="reconnect"):
                await connect_with_token(http, base, "bogus")
            with pytest.raises(OAuthError, match="Paste an access token"):
                await connect_with_token(http, base, "   ")

    run(scenario)
