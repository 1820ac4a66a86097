"""The WordPress channel against a REAL WordPress (Debian's package, MariaDB, ``php -S``) started
on 127.0.0.1 by tests/support/wordpress (one site for the whole session).

What only the real thing can tell: that it takes our media uploads, alt texts, terms and posts
the way we send them and gives them back the same through its own REST API; how it answers a
wrong application password; that its approval page hands a password to our loopback listener.

Without ``CI=true`` these tests are skipped, saying why, when WordPress cannot be installed or
started; on CI they fail.
"""

from __future__ import annotations

import html
import io
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.owned_common import delivery_slug
from staffetta.channels.wordpress import WordPressChannel
from staffetta.core.channel import DeliveryContext
from staffetta.core.clock import SystemClock
from staffetta.core.errors import AuthError
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.oauth import OAuthError
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.runtime import Runtime
from support.wordpress.fixture import wordpress_site  # noqa: F401 - the session fixture
from support.wordpress.server import WordPressServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

POLICY = RetryPolicy(base=0.2, cap=2.0, breaker_threshold=5)

BODY = """## What changed

Staffetta now publishes to **WordPress** with *emphasis*, [a link](https://example.org/a?b=1&c=2)
and lists:

- first point
- second point

1. one
2. two
"""


class Spy(httpx.AsyncBaseTransport):
    """Forwards every request to the real site; ``drop_answer_of`` = (method, path suffix) makes
    it lose the answer to the next such request *after* WordPress handled it."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.log: list[tuple[str, str, int | None]] = []
        self.drop_answer_of: tuple[str, str] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        path = request.url.path
        if self.drop_answer_of and (request.method, True) == (
            self.drop_answer_of[0],
            path.endswith(self.drop_answer_of[1]),
        ):
            self.drop_answer_of = None
            self.log.append((request.method, path, None))
            raise httpx.ReadError("connection reset by peer", request=request)
        self.log.append((request.method, path, response.status_code))
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    def calls(self, method: str, suffix: str) -> list[int | None]:
        return [status for m, path, status in self.log if m == method and path.endswith(suffix)]

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class World:
    site: WordPressServer
    runtime: Runtime
    http: httpx.AsyncClient
    spy: Spy

    async def connect(self, **settings: str) -> Account:
        assert self.site.credentials is not None
        return await self.runtime.connect(
            self.http,
            "wordpress",
            "",
            {"site_url": self.site.url, "username": self.site.credentials.user, **settings},
            self.site.credentials.app_password,
        )

    async def flush(self) -> None:
        await self.runtime.engine(self.http, rng=random.Random(5)).flush(wait=True)


@pytest.fixture
async def world(wordpress_site: WordPressServer, tmp_path: Path) -> AsyncIterator[World]:  # noqa: F811
    runtime = Runtime.open(
        Paths.under(tmp_path / "home"),
        secrets=SecretStore(MemoryKeyring()),
        clock=SystemClock(),
        policy=POLICY,
    )
    spy = Spy()
    async with httpx.AsyncClient(transport=spy, timeout=httpx.Timeout(60.0)) as http:
        yield World(wordpress_site, runtime, http, spy)
    runtime.close()


def photo(path: Path, colour: tuple[int, int, int]) -> str:
    picture = PILImage.new("RGB", (900, 600), colour)
    picture.paste((250, 180, 0), (300, 200, 600, 400))
    exif = PILImage.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (45.0, 26.0, 0.0)}
    picture.save(path, "JPEG", exif=exif, quality=92)
    return str(path)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append({k: v or "" for k, v in attrs})


def images_in(content: str) -> list[dict[str, str]]:
    parser = _Images()
    parser.feed(content)
    return parser.images


async def test_a_post_arrives_with_every_field_image_alt_text_and_tag(
    world: World, tmp_path: Path
) -> None:
    account = await world.connect()
    assert account.settings["handle"] == f"admin@{urlsplit(world.site.url).netloc}"
    assert account.settings["api_root"] == f"{world.site.url}/wp-json"
    assert account.settings["site_name"] == "Staffetta test blog"
    first = Image(photo(tmp_path / "one.jpg", (20, 90, 160)), alt="An orange square on blue")
    second = Image(photo(tmp_path / "two.jpg", (20, 160, 90)), alt='Green, "quoted" & more')
    post = Post(
        body=BODY, title="Hello from Staffetta", images=(first, second), tags=("POSSE", "Caffè")
    )
    world.runtime.queue(post, [account.id])
    await world.flush()

    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    stored = world.site.get(f"/wp/v2/posts/{delivery.remote_id}", context="edit")
    assert stored["status"] == "publish"
    assert stored["title"]["raw"] == "Hello from Staffetta"
    assert stored["slug"] == delivery_slug(post, delivery.idempotency_key)
    assert delivery.remote_url == stored["link"]
    content = stored["content"]["raw"]
    assert "<h2>What changed</h2>" in content
    assert "<strong>WordPress</strong>" in content
    assert "<em>emphasis</em>" in content
    assert '<a href="https://example.org/a?b=1&amp;c=2">a link</a>' in content
    assert "<li>first point</li>" in content
    assert "<ol>" in content
    # Both images in the media library with their alt text, shown in the body by their URL.
    media = [world.site.get(f"/wp/v2/media/{item['id']}", context="edit") for item in
             delivery.checkpoint["media"]]  # fmt: skip
    assert [m["alt_text"] for m in media] == [first.alt, second.alt]
    assert stored["featured_media"] == media[0]["id"]
    shown = images_in(content)
    assert [(i["src"], i["alt"]) for i in shown] == [
        (media[0]["source_url"], first.alt),
        (media[1]["source_url"], second.alt),
    ]
    picture = await world.http.get(media[0]["source_url"])
    assert picture.status_code == 200
    with PILImage.open(io.BytesIO(picture.content)) as uploaded:
        assert uploaded.size == (900, 600)
        assert not uploaded.getexif()  # camera and GPS tags gone
    tags = [world.site.get(f"/wp/v2/tags/{tag}")["name"] for tag in stored["tags"]]
    assert sorted(html.unescape(t) for t in tags) == ["Caffè", "POSSE"]
    # The application password went to the keyring, and into no file of the data folder.
    assert world.site.credentials is not None
    secret = world.site.credentials.app_password.encode()
    data = world.runtime.paths.database.parent
    assert not [f for f in data.rglob("*") if f.is_file() and secret in f.read_bytes()]


async def test_existing_tags_are_reused_and_drafts_go_to_the_default_category(
    world: World,
) -> None:
    account = await world.connect(publish_status="draft", default_category="Field notes")
    world.runtime.queue(Post(body="One", title="First", tags=("Reused",)), [account.id])
    world.runtime.queue(Post(body="Two", title="Second", tags=("reused",)), [account.id])
    await world.flush()

    deliveries = world.runtime.store.deliveries()
    assert [d.state for d in deliveries] == [State.SENT, State.SENT]
    posts = [world.site.get(f"/wp/v2/posts/{d.remote_id}", context="edit") for d in deliveries]
    assert [p["status"] for p in posts] == ["draft", "draft"]
    assert posts[0]["tags"] == posts[1]["tags"]  # matched by name, not created twice
    [category] = {tuple(p["categories"]) for p in posts}
    assert world.site.get(f"/wp/v2/categories/{category[0]}")["name"] == "Field notes"


async def test_a_post_due_later_is_scheduled_in_wordpress(world: World) -> None:
    account = await world.connect()
    channel = WordPressChannel()
    due = time.time() + 3 * 86400
    delivery = Delivery(1, 1, account.id, State.SENDING, "scheduled-key", due, due, attempts=1)

    async def save(_checkpoint: dict[str, Any]) -> None:
        return None

    ctx = DeliveryContext(
        Post(body="Later", title="Scheduled", scheduled_at=due),
        account,
        delivery,
        world.runtime.secrets.get(account.id),
        world.http,
        SystemClock(),
        save,
    )
    result = await channel.publish(ctx)
    stored = world.site.get(f"/wp/v2/posts/{result.remote_id}", context="edit")
    assert stored["status"] == "future"
    assert stored["date_gmt"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(due)))


async def test_an_answer_lost_after_the_send_is_reconciled_without_a_duplicate(
    world: World, tmp_path: Path
) -> None:
    account = await world.connect()
    image = Image(photo(tmp_path / "lost.jpg", (90, 20, 160)), alt="Purple")
    post = Post(body="Sent once, answer lost", title="Lost answer", images=(image,))
    world.runtime.queue(post, [account.id])
    media_before = len(world.site.get("/wp/v2/media", per_page=100))
    world.spy.drop_answer_of = ("POST", "/wp/v2/posts")
    await world.flush()

    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    slug = delivery_slug(post, delivery.idempotency_key)
    found = world.site.posts(slug=slug)
    assert [p["id"] for p in found] == [int(delivery.remote_id)]
    assert world.spy.calls("POST", "/wp/v2/posts") == [None]  # sent once, never again
    assert len(world.site.get("/wp/v2/media", per_page=100)) == media_before + 1
    assert [a.outcome for a in world.runtime.store.attempts(delivery.id)] == [
        State.RECONCILING.value,
        State.SENT.value,
    ]


async def test_a_wrong_application_password_asks_to_reconnect_in_wordpress_words(
    world: World,
) -> None:
    assert world.site.credentials is not None
    with pytest.raises(AuthError, match="WordPress said: "):
        await world.runtime.connect(
            world.http,
            "wordpress",
            "",
            {"site_url": world.site.url, "username": "admin"},
            "abcd efgh ijkl mnop qrst uvwx",
        )
    account = await world.connect()
    world.runtime.secrets.set(account.id, "abcd efgh ijkl mnop qrst uvwx")
    world.runtime.queue(Post(body="Never sent", title="Refused"), [account.id])
    await world.flush()

    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.NEEDS_RECONNECT
    paused = world.runtime.store.account(account.id)
    assert paused is not None
    assert "reconnect the account" in paused.paused_reason
    # What WordPress 6.1 answers a POST with a wrong application password, word for word.
    said = paused.paused_reason.split("WordPress said: ", 1)[1]
    assert said == "Sorry, you are not allowed to create posts as this user.)"
    assert "abcd" not in paused.paused_reason


# --- the browser approval flow ------------------------------------------------------------------


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and "authorize-application.php" in values.get("action", ""):
            self.inside = True
        elif (
            tag == "input" and self.inside and values.get("name") and values.get("type") != "submit"
        ):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


class Browser:
    """The user in a browser: logs in to wp-admin, reads the approval page and clicks a button,
    then follows WordPress's redirect (to Staffetta's loopback listener)."""

    def __init__(self, site: WordPressServer, button: str) -> None:
        self.site = site
        self.button = button
        self.pages: list[str] = []
        self.landed: httpx.Response | None = None

    async def open(self, url: str) -> None:
        assert self.site.credentials is not None
        self.pages.append(url)
        async with httpx.AsyncClient(timeout=60) as browser:
            browser.cookies.set("wordpress_test_cookie", "WP Cookie check")
            login = await browser.post(
                f"{self.site.url}/wp-login.php",
                data={
                    "log": self.site.credentials.user,
                    "pwd": self.site.credentials.admin_password,
                    "wp-submit": "Log In",
                    "testcookie": "1",
                    "redirect_to": url,
                },
            )
            assert login.status_code == 302, login.text[:500]
            page = await browser.get(url)
            assert page.status_code == 200, page.text[:500]
            form = _Form()
            form.feed(page.text)
            assert form.fields.get("action") == "authorize_application_password"
            answer = await browser.post(
                f"{self.site.url}/wp-admin/authorize-application.php",
                data={**form.fields, self.button: "1"},
            )
            assert answer.status_code == 302, answer.text[:500]
            self.landed = await browser.get(answer.headers["location"])


async def test_approving_in_the_browser_connects_with_a_new_application_password(
    world: World,
) -> None:
    browser = Browser(world.site, "approve")
    channel = world.runtime.channels["wordpress"]
    authorization = await channel.authorize(
        world.http, {"site_url": world.site.url + "/"}, browser.open
    )
    [page] = browser.pages
    assert page.startswith(f"{world.site.url}/wp-admin/authorize-application.php?app_name=")
    assert "success_url=http%3A%2F%2F127.0.0.1%3A" in page
    assert browser.landed is not None
    assert browser.landed.status_code == 200
    assert authorization.settings["username"] == "admin"
    assert authorization.settings["site_url"] == world.site.url
    assert authorization.secret
    assert authorization.secret not in str(authorization)
    account = await world.runtime.connect(
        world.http, "wordpress", "", authorization.settings, authorization.secret
    )
    world.runtime.queue(Post(body="Approved in the browser", title="Approved"), [account.id])
    await world.flush()
    [delivery] = world.runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    names = [p["name"] for p in world.site.get("/wp/v2/users/me/application-passwords")]
    assert "Staffetta" in names


async def test_declining_in_the_browser_says_so(world: World) -> None:
    browser = Browser(world.site, "reject")
    channel = world.runtime.channels["wordpress"]
    with pytest.raises(OAuthError, match="declined"):
        await channel.authorize(world.http, {"site_url": world.site.url}, browser.open)
    assert browser.landed is not None
    assert browser.landed.status_code == 400
