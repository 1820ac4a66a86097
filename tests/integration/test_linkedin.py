"""The LinkedIn channel against the sandbox over real HTTP: the sign-in with the app's secret
through a scripted browser, the 60-day token's reminder and expiry, the Posts API headers and
little text, images with alt text, the article card, duplicates and lost answers."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels import linkedin_api
from staffetta.channels.linkedin_channel import LinkedInChannel
from staffetta.channels.x_oauth import AppTokens
from staffetta.core.channel import DeliveryContext, Outcome
from staffetta.core.clock import FakeClock, SystemClock
from staffetta.core.errors import AuthError, TransientError, UnknownOutcome
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.oauth import OAuthError
from staffetta.sandbox import SandboxServer

NAME = "linkedin"
DAY = 86400.0


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


async def scripted_browser(url: str) -> None:
    async with httpx.AsyncClient(follow_redirects=True) as browser:
        page = await browser.get(url)
    assert page.status_code == 200
    assert "close this tab and return to Staffetta" in page.text


def member(sb: SandboxServer) -> str:
    return f"urn:li:person:{sb.platform(NAME).member_id}"  # type: ignore[attr-defined]


class Harness:
    def __init__(self, sb: SandboxServer, post: Post, **settings: Any) -> None:
        self.sb = sb
        self.channel = LinkedInChannel()
        self.post = post
        now = SystemClock().now()
        grant = sb.platform(NAME).issue_grant()  # type: ignore[attr-defined]
        self.secret = AppTokens(client_secret="sandbox-li-secret").with_grant(grant, now).dump()
        self.account = Account(
            "linkedin-1",
            NAME,
            "Me",
            {"api_url": sb.platform_url(NAME), "member_urn": member(sb), **settings},
        )
        self.checkpoints: list[dict[str, Any]] = []
        self.delivery = Delivery(
            id=3, post_id=1, account_id="linkedin-1", state=State.SENDING, idempotency_key="k",
            not_before=now, next_attempt_at=now, attempts=1, first_attempt_at=now,
        )  # fmt: skip

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(json.loads(json.dumps(checkpoint)))

    def run(self, call: Callable[[DeliveryContext], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            async with httpx.AsyncClient(timeout=5.0) as http:
                checkpoint = self.checkpoints[-1] if self.checkpoints else {}
                return await call(
                    DeliveryContext(
                        post=self.post,
                        account=self.account,
                        delivery=replace(self.delivery, checkpoint=checkpoint),
                        secret=self.secret,
                        http=http,
                        clock=SystemClock(),
                        save_checkpoint=self.save,
                    )
                )

        return asyncio.run(go())


def test_sign_in_with_the_apps_secret_end_to_end(sb: SandboxServer) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    sb.configure(NAME, redirect_uri=redirect)
    settings = {"client_id": "sandbox-li-client", "redirect_uri": redirect}
    settings["api_url"] = sb.platform_url(NAME)

    async def sign_in(extra: dict[str, Any]) -> Any:
        async with httpx.AsyncClient() as http:
            return await LinkedInChannel().authorize(http, {**settings, **extra}, scripted_browser)

    with pytest.raises(OAuthError, match="Client ID and Client Secret"):
        run(lambda: sign_in({}))
    authorization = run(lambda: sign_in({"client_secret": "sandbox-li-secret"}))
    assert authorization.settings["author_urn"] == member(sb)
    assert authorization.settings["handle"] == "Demo Member"
    expires = authorization.settings["token_expires_at"]
    assert 59 * DAY < expires - SystemClock().now() <= 60 * DAY  # kept, not secret
    tokens = AppTokens.load(authorization.secret)
    assert tokens.client_secret == "sandbox-li-secret"
    assert "sandbox-li-secret" not in json.dumps(authorization.settings)
    # A reconnect gives authorize the stored secret in place of the typed one.
    again = run(lambda: sign_in({"client_secret": authorization.secret}))
    assert AppTokens.load(again.secret).access_token != tokens.access_token


def test_a_wrong_secret_is_refused_without_showing_it(sb: SandboxServer) -> None:
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    sb.configure(NAME, redirect_uri=redirect)
    settings = {"client_id": "sandbox-li-client", "redirect_uri": redirect,
                "api_url": sb.platform_url(NAME), "client_secret": "not-it"}  # fmt: skip

    async def scenario() -> Any:
        async with httpx.AsyncClient() as http:
            return await LinkedInChannel().authorize(http, settings, scripted_browser)

    with pytest.raises(OAuthError, match="did not accept the sign-in") as refused:
        run(scenario)
    assert "not-it" not in str(refused.value)


def test_a_post_reaches_readers_as_written(sb: SandboxServer) -> None:
    text = "Launch day (finally)! Thanks @team_lead & [everyone] — #opensource #release_2"
    harness = Harness(sb, Post(body=text))
    result = harness.run(harness.channel.publish)
    (entry,) = sb.posts(NAME)
    assert entry["text"] == text
    assert not entry["truncated"]
    assert entry["hashtags"] == ["opensource", "release_2"]
    assert entry["version"] == linkedin_api.LINKEDIN_VERSION
    assert result.remote_id == entry["id"]
    assert result.url == f"{sb.platform_url(NAME)}/feed/update/{entry['id']}/"


def test_images_with_alt_text_and_a_page_as_author(sb: SandboxServer, tmp_path: Path) -> None:
    paths = []
    for n in range(2):
        paths.append(tmp_path / f"p{n}.png")
        PILImage.new("RGB", (30 + n, 20), (n * 90, 40, 40)).save(paths[-1])
    post = Post(
        body="Two pictures",
        images=(Image(str(paths[0]), "First"), Image(str(paths[1]), "")),
        link="https://example.org/ignored-when-images",
    )
    harness = Harness(sb, post, organization="2414183")
    harness.run(harness.channel.publish)
    (entry,) = sb.posts(NAME)
    assert entry["author"] == "urn:li:organization:2414183"
    images = entry["content"]["multiImage"]["images"]
    assert [i.get("altText") for i in images] == ["First", None]
    assert len(sb.uploads(NAME)) == 2
    assert harness.checkpoints[-1]["image_urns"] == [i["id"] for i in images]


def test_a_link_becomes_an_article_card(sb: SandboxServer) -> None:
    page = f"{sb.platform_url(NAME)}/no-such-page"  # unreadable: the post's title stands in
    harness = Harness(sb, Post(title="My essay", body="Read it", link=page))
    harness.run(harness.channel.publish)
    (entry,) = sb.posts(NAME)
    assert entry["content"] == {"article": {"source": page, "title": "My essay"}}


def test_the_token_reminder_and_its_expiry(sb: SandboxServer) -> None:
    clock = FakeClock(start=1_800_000_000.0)
    channel = LinkedInChannel(clock)
    account = Account("l", NAME, "Me", {"token_expires_at": clock.now() + 30 * DAY})
    assert channel.account_warning(account, clock.now()) == ""
    clock.advance(24 * DAY)
    warning = channel.account_warning(account, clock.now())
    assert warning.startswith("LinkedIn's sign-in lapses on ")
    preview = channel.preview(Post(body="Hi"), account)
    assert [(p.code, p.blocking) for p in preview.problems] == [("sign_in_lapses", False)]
    clock.advance(7 * DAY)
    assert "lapsed" in channel.account_warning(account, clock.now())

    harness = Harness(sb, Post(body="Too late"))
    harness.secret = replace(AppTokens.load(harness.secret), expires_at=1.0).dump()
    with pytest.raises(AuthError, match="lasts 60 days"):
        harness.run(harness.channel.publish)
    assert sb.posts(NAME) == []  # nothing was sent with a lapsed token
    sb.revoke_tokens(NAME)
    harness = Harness(sb, Post(body="Revoked"))
    sb.revoke_tokens(NAME)
    with pytest.raises(AuthError, match="reconnect"):
        harness.run(harness.channel.publish)


def test_a_duplicate_names_the_post_already_there(sb: SandboxServer) -> None:
    first = Harness(sb, Post(body="Same words")).run(LinkedInChannel().publish)
    again = Harness(sb, Post(body="Same words")).run(LinkedInChannel().publish)
    assert again.remote_id == first.remote_id
    assert len(sb.posts(NAME)) == 1


def test_a_lost_answer_is_found_or_left_to_the_user(sb: SandboxServer) -> None:
    harness = Harness(sb, Post(body="Lost (answer)"))
    sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    with pytest.raises(UnknownOutcome):
        harness.run(harness.channel.publish)
    verdict = harness.run(harness.channel.reconcile)
    (entry,) = sb.posts(NAME)
    assert (verdict.outcome, verdict.remote_id) == (Outcome.SENT, entry["id"])

    missing = Harness(sb, Post(body="Never arrived"))
    verdict = missing.run(missing.channel.reconcile)
    assert verdict.outcome is Outcome.UNKNOWN
    assert "20 most recent posts" in verdict.evidence
    sb.configure(NAME, read_posts=False)
    verdict = missing.run(missing.channel.reconcile)
    assert verdict.outcome is Outcome.UNKNOWN
    assert "would not list the author's posts" in verdict.evidence


def test_outages_are_transient(sb: SandboxServer) -> None:
    sb.set_fault(NAME, "down")
    harness = Harness(sb, Post(body="Later"))
    with pytest.raises(TransientError):
        harness.run(harness.channel.publish)

    async def probe() -> None:
        async with httpx.AsyncClient() as http:
            await LinkedInChannel().probe(http, harness.account)

    with pytest.raises(TransientError):
        run(probe)
    sb.set_fault(NAME, "up")
    run(probe)  # a 401 without a token still means LinkedIn is up
