"""The Ghost channel against the sandbox Ghost over real HTTP, driven by the app's own engine.

The sandbox is where the *newsletter* is tested: a real Ghost sends bulk email only through
Mailgun. What a client must get right there — the newsletter and segment on the one request that
publishes, and never a second email after a lost answer or a crash — is checked here against the
emails the sandbox records. Everything else is also checked against a real Ghost in
test_ghost_real.py.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from staffetta.channels.ghost import GhostChannel
from staffetta.channels.owned_common import delivery_slug
from staffetta.core.channel import DeliveryContext, Outcome
from staffetta.core.clock import FakeClock, SystemClock
from staffetta.core.errors import AuthError, InputError, TransientError
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from staffetta.sandbox.ghost import GhostPlatform
from support.ghost.helpers import BODY, Rule, Spy, World, images_in, photo

NAME = "ghost"
POLICY = RetryPolicy(base=1.0, cap=5.0, breaker_threshold=5)
POSTS = r"/ghost/api/admin/posts/$"
ONE_POST = r"/ghost/api/admin/posts/[0-9a-f]{24}/$"


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


def ghost(sb: SandboxServer) -> GhostPlatform:
    platform = sb.platform(NAME)
    assert isinstance(platform, GhostPlatform)
    return platform


@pytest.fixture
async def world(sb: SandboxServer, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock(time.time())
    runtime = Runtime.open(
        Paths.under(tmp_path / "home"),
        secrets=SecretStore(MemoryKeyring()),
        clock=clock,
        policy=POLICY,
    )
    spy = Spy()
    async with httpx.AsyncClient(transport=spy, timeout=httpx.Timeout(10.0)) as http:
        yield World(runtime, http, spy, clock, sb.platform_url(NAME), sb.issue_token(NAME))
    runtime.close()


def only_delivery(world: World) -> Delivery:
    [delivery] = world.runtime.store.deliveries()
    return delivery


# --- publishing ---------------------------------------------------------------------------------


async def test_a_post_arrives_with_title_body_feature_image_images_and_tags(
    world: World, sb: SandboxServer, tmp_path: Path
) -> None:
    account = await world.connect()
    assert account.settings["handle"] == sb.platform_url(NAME).removeprefix("http://")
    assert account.settings["site_name"] == "Staffetta sandbox blog"
    first = Image(photo(tmp_path / "one.jpg", (20, 90, 160)), alt="An orange square on blue")
    second = Image(photo(tmp_path / "two.jpg", (20, 160, 90)), alt='Green, "quoted" & more')
    post = Post(body=BODY, title="Hello Ghost", images=(first, second), tags=("POSSE", "Caffè"))
    world.runtime.queue(post, [account.id])
    await world.settle()

    delivery = only_delivery(world)
    assert delivery.state is State.SENT, delivery.last_error
    [stored] = sb.posts(NAME)
    assert stored["id"] == delivery.remote_id
    assert stored["url"] == delivery.remote_url == f"{world.site_url}/{stored['slug']}/"
    assert stored["slug"] == delivery_slug(post, delivery.idempotency_key)
    assert (stored["title"], stored["status"]) == ("Hello Ghost", "published")
    assert "<h2>What changed</h2>" in stored["html"]
    assert '<a href="https://example.org/a?b=1&amp;c=2">a link</a>' in stored["html"]
    uploads = sb.uploads(NAME)
    assert [u["path"].rsplit("/", 1)[1] for u in uploads] == [
        f"{stored['slug']}-1.jpg",
        f"{stored['slug']}-2.jpg",
    ]
    urls = [f"{world.site_url}{u['path']}" for u in uploads]
    assert (stored["feature_image"], stored["feature_image_alt"]) == (urls[0], first.alt)
    assert [(i["src"], i["alt"]) for i in images_in(stored["html"])] == [(urls[1], second.alt)]
    assert [t["name"] for t in stored["tags"]] == ["POSSE", "Caffè"]
    assert stored["email"] is None
    assert ghost(sb).emails() == []
    # The body went as HTML for Ghost to convert (?source=html), in one request, as published.
    assert world.spy.calls("POST", POSTS) == [("source=html", 201)]
    assert world.spy.calls("PUT", ONE_POST) == []
    assert delivery.checkpoint["images"] == urls
    # The key's secret lives in the keyring only: no file of the data folder holds it.
    secret = world.key.split(":")[1].encode()
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path


async def test_the_newsletter_is_emailed_once_to_the_chosen_segment(
    world: World, sb: SandboxServer
) -> None:
    account = await world.connect(newsletter="default-newsletter", email_segment="status:free")
    world.runtime.queue(Post(body="For the readers", title="Weekly"), [account.id])
    await world.settle()

    delivery = only_delivery(world)
    assert delivery.state is State.SENT, delivery.last_error
    [stored] = sb.posts(NAME)
    assert stored["status"] == "published"
    assert stored["newsletter"]["slug"] == "default-newsletter"
    assert stored["email"]["recipient_filter"] == "status:free"
    [email] = ghost(sb).emails()
    assert (email["post_id"], email["newsletter"], email["email_segment"]) == (
        delivery.remote_id,
        "default-newsletter",
        "status:free",
    )
    # Created as a draft, then published with the newsletter: the one request that sends it.
    assert world.spy.calls("POST", POSTS) == [("source=html", 201)]
    assert world.spy.calls("PUT", ONE_POST) == [
        ("newsletter=default-newsletter&email_segment=status%3Afree", 200)
    ]


async def test_a_lost_answer_to_the_draft_publishes_that_draft_not_a_second_post(
    world: World, sb: SandboxServer
) -> None:
    account = await world.connect(newsletter="default-newsletter")
    world.spy.rules.append(Rule("POST", POSTS, "drop"))
    post = Post(body="Lost answer", title="Once")
    world.runtime.queue(post, [account.id])
    await world.settle()

    delivery = only_delivery(world)
    assert delivery.state is State.SENT, delivery.last_error
    assert [p["slug"] for p in sb.posts(NAME)] == [delivery_slug(post, delivery.idempotency_key)]
    assert len(ghost(sb).emails()) == 1
    assert world.spy.calls("POST", POSTS) == [("source=html", None)]  # never created again
    assert [status for _q, status in world.spy.calls("PUT", ONE_POST)] == [200]
    assert [a.outcome for a in world.runtime.store.attempts(delivery.id)] == [
        State.RECONCILING.value,
        State.SENT.value,
    ]


async def test_a_lost_answer_to_the_publish_never_sends_a_second_email(
    world: World, sb: SandboxServer
) -> None:
    account = await world.connect(newsletter="default-newsletter")
    world.spy.rules.append(Rule("PUT", ONE_POST, "drop"))
    world.runtime.queue(Post(body="Sent once", title="Once only"), [account.id])
    await world.settle()

    delivery = only_delivery(world)
    assert delivery.state is State.SENT, delivery.last_error
    assert len(sb.posts(NAME)) == 1
    assert len(ghost(sb).emails()) == 1
    assert [status for _q, status in world.spy.calls("PUT", ONE_POST)] == [None]
    assert delivery.remote_url.endswith(f"/{sb.posts(NAME)[0]['slug']}/")


async def test_a_connection_dropped_after_the_create_is_reconciled_by_slug(
    world: World, sb: SandboxServer
) -> None:
    account = await world.connect()
    # The sandbox commits the post, then closes the connection without an answer.
    sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    world.runtime.queue(Post(body="Dropped", title="Dropped"), [account.id])
    await world.settle()

    delivery = only_delivery(world)
    assert delivery.state is State.SENT, delivery.last_error
    [stored] = sb.posts(NAME)
    assert delivery.remote_id == stored["id"]
    creates = [r for r in sb.requests(NAME) if (r["method"], r["path"]) == ("POST", POSTS[:-1])]
    assert [r["status"] for r in creates] == [None]  # committed, unanswered, never sent again


class Crash(Exception):
    """The process dying at a checkpoint (what the engine would never see)."""


async def test_a_crash_between_creating_the_draft_and_publishing_it_publishes_that_draft(
    sb: SandboxServer,
) -> None:
    channel = GhostChannel()
    account = Account(
        "ghost-1",
        NAME,
        "G",
        {"site_url": sb.platform_url(NAME), "newsletter": "default-newsletter"},
    )
    key = sb.issue_token(NAME)
    saved: list[dict[str, Any]] = []

    async def dies_once_the_draft_exists(checkpoint: dict[str, Any]) -> None:
        if "post_id" in checkpoint:
            raise Crash
        saved.append(dict(checkpoint))

    async def keeps(checkpoint: dict[str, Any]) -> None:
        saved.append(dict(checkpoint))

    post = Post(body="Crash safe", title="Crash")
    delivery = Delivery(1, 1, account.id, State.SENDING, "crash-key", 0.0, 0.0, 1)
    async with httpx.AsyncClient(timeout=10.0) as http:

        def ctx(save: Any) -> DeliveryContext:
            current = replace(delivery, checkpoint=saved[-1] if saved else {})
            return DeliveryContext(post, account, current, key, http, SystemClock(), save)

        with pytest.raises(Crash):
            await channel.publish(ctx(dies_once_the_draft_exists))
        assert [p["status"] for p in sb.posts(NAME)] == ["draft"]
        assert saved[-1]["create_sent"] is True
        assert "post_id" not in saved[-1]

        # The next start: the delivery was in flight, so it is reconciled first.
        verdict = await channel.reconcile(ctx(keeps))
        assert verdict.outcome is Outcome.NOT_SENT
        assert "publishes that draft" in verdict.evidence
        assert saved[-1]["post_id"] == sb.posts(NAME)[0]["id"]
        result = await channel.publish(ctx(keeps))

        # Once published, a second reconcile (another lost answer) says it went out.
        again = await channel.reconcile(ctx(keeps))
    [stored] = sb.posts(NAME)
    assert (stored["id"], stored["status"]) == (result.remote_id, "published")
    assert len(ghost(sb).emails()) == 1
    assert again.outcome is Outcome.SENT
    assert "Its email of the newsletter Staffetta sandbox to 3 members is submitted." in (
        again.evidence
    )


async def test_a_draft_account_keeps_drafts_and_never_emails(
    world: World, sb: SandboxServer
) -> None:
    account = await world.connect(publish_status="draft")
    world.runtime.queue(Post(body="Later", title="Draft"), [account.id])
    await world.settle()

    assert only_delivery(world).state is State.SENT
    [stored] = sb.posts(NAME)
    assert stored["status"] == "draft"
    assert ghost(sb).emails() == []
    assert world.spy.calls("PUT", ONE_POST) == []


async def test_an_upload_retry_never_uploads_an_image_twice(
    world: World, sb: SandboxServer, tmp_path: Path
) -> None:
    account = await world.connect()
    images = tuple(
        Image(photo(tmp_path / f"{n}.jpg", (n * 60, 40, 90)), alt=f"Picture {n}") for n in (1, 2)
    )
    world.spy.rules.append(Rule("POST", r"/images/upload/$", 503, skip=1))  # the second image
    world.runtime.queue(Post(body="Two pictures", title="Pictures", images=images), [account.id])
    await world.settle()

    delivery = only_delivery(world)
    assert delivery.state is State.SENT, delivery.last_error
    assert delivery.attempts == 2
    statuses = [s for _q, s in world.spy.calls("POST", r"/images/upload/$")]
    assert statuses == [201, 503, 201]  # the retry sent only the image still missing
    assert len(sb.uploads(NAME)) == 2
    [stored] = sb.posts(NAME)
    assert stored["feature_image"] == delivery.checkpoint["images"][0]
    assert [i["alt"] for i in images_in(stored["html"])] == ["Picture 2"]


# --- refusals -----------------------------------------------------------------------------------


async def test_a_wrong_key_asks_to_reconnect_in_ghost_words(
    world: World, sb: SandboxServer
) -> None:
    unknown = "0123456789abcdef01234567:" + "ab" * 32
    with pytest.raises(AuthError, match=r"\(Ghost said: Unknown Admin API Key\)"):
        await world.connect(key=unknown)
    forged = world.key.split(":")[0] + ":" + "cd" * 32
    with pytest.raises(AuthError, match=r"\(Ghost said: Invalid token: invalid signature\)"):
        await world.connect(key=forged)
    with pytest.raises(InputError, match="Admin API key"):
        await world.connect(key="a-content-api-key")
    assert world.runtime.store.accounts() == []

    account = await world.connect()
    sb.revoke_tokens(NAME)
    world.runtime.queue(Post(body="Never sent", title="Refused"), [account.id])
    await world.settle()
    assert only_delivery(world).state is State.NEEDS_RECONNECT
    paused = world.runtime.store.account(account.id)
    assert paused is not None
    assert paused.paused_reason.endswith("(Ghost said: Unknown Admin API Key)")
    assert world.key.split(":")[1] not in paused.paused_reason
    assert sb.posts(NAME) == []


async def test_a_wrong_clock_is_named_when_ghost_calls_the_token_expired(
    world: World, sb: SandboxServer
) -> None:
    sb.set_clock_offset(600)  # the site is 10 minutes ahead of this computer
    with pytest.raises(AuthError, match="clock") as refused:
        await world.connect()
    assert "Invalid token: jwt expired" in str(refused.value)


async def test_connecting_checks_the_newsletter_exists_and_is_active(
    world: World, sb: SandboxServer
) -> None:
    sb.configure(
        NAME,
        newsletters=[
            {"slug": "weekly", "name": "Weekly"},
            {"slug": "old", "name": "Old", "status": "archived"},
        ],
    )
    with pytest.raises(InputError, match=r"“old” is archived.*active newsletters: weekly"):
        await world.connect(newsletter="old")
    with pytest.raises(InputError, match="“nope” does not exist"):
        await world.connect(newsletter="nope")
    with pytest.raises(InputError, match="only when it is published"):
        await world.connect(newsletter="weekly", publish_status="draft")
    account = await world.connect(newsletter="weekly")
    assert account.settings["newsletter"] == "weekly"


async def test_a_bad_segment_fails_with_ghost_words_and_sends_nothing(
    world: World, sb: SandboxServer
) -> None:
    account = await world.connect(newsletter="default-newsletter", email_segment="label:")
    world.runtime.queue(Post(body="x", title="Bad segment"), [account.id])
    await world.settle()

    delivery = only_delivery(world)
    assert delivery.state is State.FAILED
    assert delivery.last_error == (
        "Ghost refused the request: Request not understood error, cannot edit post. The email "
        "segment parameter doesn't contain a valid filter Error parsing filter"
    )
    assert [p["status"] for p in sb.posts(NAME)] == ["draft"]
    assert ghost(sb).emails() == []


async def test_ghost_trouble_waits_and_the_probe_follows_the_site(
    world: World, sb: SandboxServer
) -> None:
    account = await world.connect()
    channel = world.runtime.channels[NAME]
    sb.set_fault(NAME, "503", count=1)
    world.runtime.queue(Post(body="Later", title="Waits"), [account.id])
    await world.settle()
    delivery = only_delivery(world)
    assert delivery.state is State.SENT
    assert delivery.attempts == 2
    await channel.probe(world.http, account)
    sb.set_fault(NAME, "down")
    with pytest.raises(TransientError, match="Could not reach Ghost"):
        await channel.probe(world.http, account)
    sb.set_fault(NAME, "up")
    sb.set_fault(NAME, "500")
    with pytest.raises(TransientError, match="not answering normally"):
        await channel.probe(world.http, account)
