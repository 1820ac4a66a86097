"""The Micropub channel against the sandbox IndieWeb site over real HTTP: discovery, IndieAuth
with PKCE through a loopback redirect, posts with photos and alt text through the media endpoint
(or multipart without one), and what a lost answer becomes with and without ``q=source``.

There is no Micropub server to install from the registries, so the sandbox plays the site,
following the W3C Recommendation and the IndieAuth specification."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.micropub import MicropubChannel
from staffetta.channels.owned_common import delivery_slug
from staffetta.core.clock import SystemClock
from staffetta.core.errors import AuthError, InputError
from staffetta.core.model import Account, Image, Post, State
from staffetta.core.oauth import OAuthError
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer

NAME = "micropub"
POLICY = RetryPolicy(base=0.05, cap=0.2, breaker_threshold=50)
BODY = "## Notes\n\nA *short* note with [a link](https://example.org) and:\n\n- one\n- two\n"


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


@dataclass
class World:
    sb: SandboxServer
    runtime: Runtime
    http: httpx.AsyncClient

    @property
    def site(self) -> str:
        return self.sb.platform_url(NAME)

    async def connect(self, **settings: str) -> Account:
        return await self.runtime.connect(
            self.http, NAME, "", {"site_url": self.site, **settings}, self.sb.issue_token(NAME)
        )

    async def flush(self) -> None:
        await self.runtime.engine(self.http, rng=random.Random(2)).flush(wait=True)

    def requests(self, method: str, path: str) -> list[dict[str, Any]]:
        return [r for r in self.sb.requests(NAME) if (r["method"], r["path"]) == (method, path)]


@pytest.fixture
async def world(sb: SandboxServer, tmp_path: Path) -> AsyncIterator[World]:
    runtime = Runtime.open(
        Paths.under(tmp_path / "home"),
        secrets=SecretStore(MemoryKeyring()),
        clock=SystemClock(),
        policy=POLICY,
    )
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as http:
        yield World(sb, runtime, http)
    runtime.close()


def png(path: Path, colour: tuple[int, int, int]) -> str:
    PILImage.new("RGB", (120, 80), colour).save(path, "PNG")
    return str(path)


def two_images(tmp_path: Path) -> tuple[Image, Image]:
    return (
        Image(png(tmp_path / "a.png", (200, 30, 30)), alt="A red field"),
        Image(png(tmp_path / "b.png", (30, 30, 200)), alt="A blue sea"),
    )


async def test_connecting_finds_the_endpoints_in_link_headers_and_html(world: World) -> None:
    account = await world.connect()
    assert account.settings["micropub_endpoint"] == f"{world.site}/micropub"  # relative <link>
    assert account.settings["token_endpoint"] == f"{world.site}/token"  # absolute <link>
    assert account.settings["authorization_endpoint"] == f"{world.site}/auth"  # Link header
    assert account.settings["handle"] == urlsplit(world.site).netloc


async def test_a_post_arrives_with_title_html_tags_and_photos_with_alt(
    world: World, tmp_path: Path
) -> None:
    account = await world.connect()
    first, second = two_images(tmp_path)
    post = Post(body=BODY, title="Hello IndieWeb", images=(first, second), tags=("posse", "notes"))
    world.runtime.queue(post, [account.id])
    await world.flush()

    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    [entry] = world.sb.posts(NAME)
    assert delivery.remote_url == entry["url"]  # the Location header
    slug = delivery_slug(post, delivery.idempotency_key)
    assert entry["url"].endswith(f"/{slug}")  # mp-slug honoured
    props = entry["properties"]
    assert props["name"] == ["Hello IndieWeb"]
    html = props["content"][0]["html"]
    assert "<h2>Notes</h2>" in html
    assert "<em>short</em>" in html
    assert '<a href="https://example.org">a link</a>' in html
    assert "<li>one</li>" in html
    assert props["category"] == ["posse", "notes"]
    uploads = world.sb.uploads(NAME)
    assert [p["alt"] for p in props["photo"]] == ["A red field", "A blue sea"]
    assert [p["value"] for p in props["photo"]] == [u["url"] for u in uploads]
    assert len(world.requests("POST", "/media")) == 2
    page = await world.http.get(entry["url"])
    assert 'alt="A blue sea"' in page.text
    # The token went to the keyring, and into no file of the data folder.
    token = (world.runtime.secrets.get(account.id) or "").encode()
    data = world.runtime.paths.database.parent
    assert token
    assert not [f for f in data.rglob("*") if f.is_file() and token in f.read_bytes()]


async def test_without_a_media_endpoint_the_photos_go_as_files_with_their_alt(
    world: World, tmp_path: Path
) -> None:
    world.sb.configure(NAME, media_endpoint=False)
    account = await world.connect()
    post = Post(body="Files", title="Multipart", images=two_images(tmp_path), tags=("a",))
    world.runtime.queue(post, [account.id])
    await world.flush()

    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    [entry] = world.sb.posts(NAME)
    assert [p["alt"] for p in entry["properties"]["photo"]] == ["A red field", "A blue sea"]
    assert entry["properties"]["content"] == ["Files"]
    assert entry["properties"]["category"] == ["a"]
    assert world.requests("POST", "/media") == []


async def test_a_lost_answer_is_found_with_q_source_and_never_posted_twice(
    world: World, tmp_path: Path
) -> None:
    account = await world.connect()
    post = Post(body="Once", title="Only once", images=two_images(tmp_path)[:1])
    world.runtime.queue(post, [account.id])
    world.sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)  # the media upload
    await world.flush()
    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    assert len(world.sb.posts(NAME)) == 1

    world.runtime.queue(Post(body="Twice?", title="Second"), [account.id])
    world.sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)  # the post itself
    await world.flush()
    entries = world.sb.posts(NAME)
    assert [e["properties"]["name"] for e in entries] == [["Only once"], ["Second"]]
    second = world.runtime.store.deliveries()[1]
    assert second.state is State.SENT, second.last_error
    assert second.remote_url == entries[1]["url"]
    assert len(world.requests("POST", "/micropub")) == 2  # never resent
    assert [a.outcome for a in world.runtime.store.attempts(second.id)] == [
        State.RECONCILING.value,
        State.SENT.value,
    ]


async def test_the_post_url_pattern_is_used_when_the_server_lists_no_posts(world: World) -> None:
    world.sb.configure(NAME, listing=False)
    account = await world.connect(
        post_url=f"{world.sb.platform_url(NAME)}/{{year}}/{{month}}/{{slug}}"
    )
    world.runtime.queue(Post(body="Lost", title="Pattern"), [account.id])
    world.sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    await world.flush()
    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    assert len(world.sb.posts(NAME)) == 1
    assert len(world.requests("POST", "/micropub")) == 1


async def test_without_a_listing_or_a_pattern_a_lost_answer_is_left_to_the_user(
    world: World,
) -> None:
    world.sb.configure(NAME, listing=False)
    account = await world.connect()
    world.runtime.queue(Post(body="Lost", title="Unknown"), [account.id])
    world.sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    await world.flush()
    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.UNCONFIRMED
    assert "Address of a post" in delivery.last_error


async def test_without_q_source_a_lost_answer_is_left_to_the_user(world: World) -> None:
    world.sb.configure(NAME, source=False)
    account = await world.connect()
    world.runtime.queue(Post(body="Lost", title="No way to know"), [account.id])
    world.sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    await world.flush()
    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.UNCONFIRMED
    assert "no way to look posts up (no q=source)" in delivery.last_error
    assert "No way to know" in delivery.last_error
    assert len(world.sb.posts(NAME)) == 1  # it did go out; the user decides
    assert len(world.requests("POST", "/micropub")) == 1


async def test_a_revoked_token_asks_to_reconnect_with_the_sites_words(world: World) -> None:
    account = await world.connect()
    world.sb.revoke_tokens(NAME)
    world.runtime.queue(Post(body="Refused", title="Revoked"), [account.id])
    await world.flush()
    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.NEEDS_RECONNECT
    paused = world.runtime.store.account(account.id)
    assert paused is not None
    assert "reconnect the account" in paused.paused_reason
    assert "The access token is invalid or was revoked." in paused.paused_reason
    with pytest.raises(AuthError, match="invalid or was revoked"):
        await world.runtime.verify_account(world.http, account.id)


async def test_a_site_without_micropub_is_refused_with_a_reason(world: World) -> None:
    with pytest.raises(InputError, match="answered HTTP 404"):
        await world.runtime.connect(world.http, NAME, "", {"site_url": f"{world.site}/nope"}, "t")
    account = await world.connect()
    world.runtime.queue(Post(body="A page", title="No links here"), [account.id])
    await world.flush()
    page = world.sb.posts(NAME)[0]["url"]  # a post's page names no endpoints
    with pytest.raises(InputError, match="does not name a Micropub endpoint"):
        await world.runtime.connect(world.http, NAME, "", {"site_url": page}, "t")


# --- IndieAuth in the browser ---------------------------------------------------------------------


class Browser:
    """Follows the authorization endpoint's redirect to Staffetta's loopback listener."""

    def __init__(self, tamper: Any = None) -> None:
        self.pages: list[str] = []
        self.tamper = tamper

    async def open(self, url: str) -> None:
        self.pages.append(url)
        async with httpx.AsyncClient(timeout=10) as browser:
            answer = await browser.get(url)
            assert answer.status_code == 302, answer.text
            location = answer.headers["location"]
            if self.tamper is not None:
                location = self.tamper(location)
            await browser.get(location)


async def test_signing_in_with_indieauth_and_pkce_connects_the_site(world: World) -> None:
    browser = Browser()
    channel = world.runtime.channels[NAME]
    authorization = await channel.authorize(world.http, {"site_url": world.site}, browser.open)
    [page] = browser.pages
    query = {k: v[0] for k, v in parse_qs(urlsplit(page).query).items()}
    assert page.startswith(f"{world.site}/auth?")
    assert query["code_challenge_method"] == "S256"
    assert query["response_type"] == "code"
    assert query["me"] == f"{world.site}/"
    assert query["scope"] == "create media"
    assert urlsplit(query["client_id"]).hostname == "127.0.0.1"
    assert query["redirect_uri"].startswith(query["client_id"])
    assert authorization.settings["me"] == f"{world.site}/"
    assert authorization.settings["micropub_endpoint"] == f"{world.site}/micropub"
    account = await world.runtime.connect(
        world.http, NAME, "", authorization.settings, authorization.secret
    )
    world.runtime.queue(Post(body="Signed in", title="IndieAuth"), [account.id])
    await world.flush()
    assert world.runtime.store.deliveries()[0].state is State.SENT


async def test_a_forged_state_ends_the_sign_in(world: World) -> None:
    def forge(location: str) -> str:
        return location.replace("state=", "state=forged")

    channel = world.runtime.channels[NAME]
    with pytest.raises(OAuthError, match="state mismatch"):
        await channel.authorize(world.http, {"site_url": world.site}, Browser(forge).open)


def test_the_sandbox_token_endpoint_checks_the_pkce_verifier(sb: SandboxServer) -> None:
    base = sb.platform_url(NAME)
    client = "http://127.0.0.1:9/"
    answer = httpx.get(
        f"{base}/auth",
        params={
            "response_type": "code",
            "client_id": client,
            "redirect_uri": client + "callback",
            "state": "s",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
    )
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    refused = httpx.post(
        f"{base}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client,
            "redirect_uri": client + "callback",
            "code_verifier": "y" * 43,
        },
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_the_channel_is_registered_as_owned() -> None:
    channel = MicropubChannel()
    assert channel.group.value == "owned"
    assert channel.limits(Account("m", NAME, "m")).uses_title
