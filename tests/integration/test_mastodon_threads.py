"""Threads on Mastodon against the sandbox: the reply chain as the server stores it, failures and
unknown outcomes in the middle of a thread, an engine cancelled mid-thread (what a kill leaves in
the outbox), and what ``staffetta preview`` shows."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.mastodon import MastodonChannel
from staffetta.channels.registry import load_channels
from staffetta.core.channel import DeliveryContext, Outcome, PublishResult, Reconciled
from staffetta.core.clock import FakeClock, SystemClock
from staffetta.core.engine import Engine
from staffetta.core.errors import TransientError, UnknownOutcome
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer
from support import Cli, write_post

NAME = "mastodon"
CHANNEL = MastodonChannel()
THREE_PARTS = "The first part, with a picture.\n\n---\n\nThe second part.\n---\nThe third part."
NUMBERED = [
    "The first part, with a picture. 1/3",
    "The second part. 2/3",
    "The third part. 3/3",
]
HOUR = 3600.0


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


class Harness:
    """Builds DeliveryContexts the way the engine does, and keeps the checkpoints it is given."""

    def __init__(self, sb: SandboxServer, post: Post, *, clock: Any = None) -> None:
        self.post = post
        self.account = Account("acct-1", NAME, "Demo", {"instance_url": sb.platform_url(NAME)})
        self.clock = clock or SystemClock()
        self.token = sb.issue_token(NAME)
        self.checkpoints: list[dict[str, Any]] = []
        self.on_checkpoint: Callable[[dict[str, Any]], None] = lambda _c: None
        self.delivery = Delivery(
            id=1,
            post_id=1,
            account_id=self.account.id,
            state=State.SENDING,
            idempotency_key=f"staffetta-{time.monotonic_ns()}",
            not_before=0.0,
            next_attempt_at=0.0,
            attempts=1,
            first_attempt_at=self.clock.now(),
        )

    async def _save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(dict(checkpoint))
        self.on_checkpoint(checkpoint)

    def _ctx(self, http: httpx.AsyncClient) -> DeliveryContext:
        checkpoint = self.checkpoints[-1] if self.checkpoints else {}
        return DeliveryContext(
            post=self.post,
            account=self.account,
            delivery=replace(self.delivery, checkpoint=checkpoint),
            secret=self.token,
            http=http,
            clock=self.clock,
            save_checkpoint=self._save,
        )

    async def publish(self) -> PublishResult:
        async with httpx.AsyncClient(timeout=10.0) as http:
            return await CHANNEL.publish(self._ctx(http))

    async def reconcile(self) -> Reconciled:
        async with httpx.AsyncClient(timeout=10.0) as http:
            return await CHANNEL.reconcile(self._ctx(http))


def status_requests(sb: SandboxServer) -> list[dict[str, Any]]:
    return [
        r for r in sb.requests(NAME) if r["method"] == "POST" and r["path"] == "/api/v1/statuses"
    ]


def assert_chain(sb: SandboxServer, texts: list[str]) -> list[dict[str, Any]]:
    """The account's statuses are exactly ``texts``, each replying to the one before."""
    posts = sorted(sb.posts(NAME), key=lambda p: int(p["id"]))
    assert [p["text"] for p in posts] == texts
    assert posts[0]["in_reply_to_id"] is None
    for parent, reply in itertools.pairwise(posts):
        assert reply["in_reply_to_id"] == parent["id"]
        assert reply["in_reply_to_account_id"] == parent["account"]["id"]
    return posts


def after_parts(count: int, action: Callable[[], None]) -> Callable[[dict[str, Any]], None]:
    """A checkpoint hook that runs ``action`` once, when ``count`` parts have been recorded."""
    done = False

    def hook(checkpoint: dict[str, Any]) -> None:
        nonlocal done
        if not done and len(checkpoint.get("parts", [])) == count:
            done = True
            action()

    return hook


# --- a thread goes out as a reply chain ----------------------------------------------------------


def test_three_parts_go_out_as_a_reply_chain_with_the_image_on_the_first(
    sb: SandboxServer, tmp_path: Path
) -> None:
    picture = tmp_path / "sea.png"
    PILImage.new("RGB", (64, 48), (20, 90, 200)).save(picture, "PNG")
    post = Post(body=THREE_PARTS, images=(Image(str(picture), alt="A blue sea"),))
    h = Harness(sb, post)

    result = run(h.publish)

    posts = assert_chain(sb, NUMBERED)
    assert [len(p["media_attachments"]) for p in posts] == [1, 0, 0]
    assert posts[0]["media_attachments"][0]["description"] == "A blue sea"
    assert posts[0]["replies_count"] == 1
    assert (result.remote_id, result.url) == (posts[0]["id"], posts[0]["url"])
    # A checkpoint after every part, each naming the parts out so far.
    parts = [c["parts"] for c in h.checkpoints if "parts" in c]
    assert [[p["id"] for p in saved] for saved in parts] == [
        [p["id"] for p in posts[:n]] for n in (1, 2, 3)
    ]
    key = h.delivery.idempotency_key
    keys = [r["idempotency_key"] for r in status_requests(sb)]
    assert keys == [key, f"{key}-1", f"{key}-2"]


def test_numbering_off_posts_the_parts_as_written(sb: SandboxServer) -> None:
    run(Harness(sb, Post(body=THREE_PARTS, thread_numbering=False)).publish)
    assert_chain(sb, ["The first part, with a picture.", "The second part.", "The third part."])


def test_a_part_the_server_refuses_fails_the_delivery_with_its_message(sb: SandboxServer) -> None:
    sb.configure(NAME, max_characters=40)
    h = Harness(sb, Post(body="Short.\n---\n" + "far too long for this server " * 3))
    with pytest.raises(Exception, match="character limit of 40"):
        run(h.publish)
    assert_chain(sb, ["Short. 1/2"])  # the first part went out and stays recorded
    assert [p["id"] for p in h.checkpoints[-1]["parts"]] == [sb.posts(NAME)[0]["id"]]


# --- failures in the middle of a thread ----------------------------------------------------------


def test_a_failure_on_part_two_resumes_without_reposting_part_one(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body=THREE_PARTS))
    h.on_checkpoint = after_parts(1, lambda: sb.set_fault(NAME, "503", count=1, writes_only=True))

    with pytest.raises(TransientError):
        run(h.publish)
    assert_chain(sb, NUMBERED[:1])  # later parts wait

    result = run(h.publish)  # the engine's next attempt, from the checkpoint

    posts = assert_chain(sb, NUMBERED)
    assert result.remote_id == posts[0]["id"]
    # Part one once, part two refused once then sent, part three once.
    assert [r["status"] for r in status_requests(sb)] == [200, 503, 200, 200]


def test_an_unknown_outcome_on_part_two_is_resent_under_its_key(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body=THREE_PARTS))
    h.on_checkpoint = after_parts(
        1, lambda: sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    )
    with pytest.raises(UnknownOutcome):
        run(h.publish)
    assert_chain(sb, NUMBERED[:2])  # part two did go out; its answer was lost

    verdict = run(h.reconcile)
    assert verdict.outcome is Outcome.RETRY_SAFE
    assert "Part 2 of 3" in verdict.evidence
    run(h.publish)

    assert_chain(sb, NUMBERED)  # part two once: the resend replayed its Idempotency-Key
    key = h.delivery.idempotency_key
    keys = [r["idempotency_key"] for r in status_requests(sb)]
    assert keys == [key, f"{key}-1", f"{key}-1", f"{key}-2"]


def test_an_unknown_part_two_found_after_its_key_expired_is_not_posted_again(
    sb: SandboxServer,
) -> None:
    clock = FakeClock(time.time())
    h = Harness(sb, Post(body=THREE_PARTS), clock=clock)
    h.on_checkpoint = after_parts(
        1, lambda: sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)
    )
    with pytest.raises(UnknownOutcome):
        run(h.publish)
    # Two hours later Mastodon has forgotten the key: the account's statuses are searched.
    sb.set_clock_offset(2 * HOUR)
    clock.advance(2 * HOUR)

    verdict = run(h.reconcile)

    assert verdict.outcome is Outcome.NOT_SENT
    assert "Part 2 of 3 was found" in verdict.evidence
    posts = sb.posts(NAME)
    assert [p["id"] for p in h.checkpoints[-1]["parts"]] == [p["id"] for p in posts]
    run(h.publish)
    assert_chain(sb, NUMBERED)


def test_part_two_not_found_after_its_key_expired_is_sent(sb: SandboxServer) -> None:
    clock = FakeClock(time.time())
    h = Harness(sb, Post(body=THREE_PARTS), clock=clock)
    h.on_checkpoint = after_parts(1, lambda: sb.set_fault(NAME, "503", count=1, writes_only=True))
    with pytest.raises(TransientError):
        run(h.publish)
    sb.set_clock_offset(2 * HOUR)
    clock.advance(2 * HOUR)

    verdict = run(h.reconcile)

    assert verdict.outcome is Outcome.NOT_SENT
    assert "Part 2 of 3 is not on the account" in verdict.evidence
    run(h.publish)
    assert_chain(sb, NUMBERED)


def test_reconcile_when_every_part_was_checkpointed_is_sent(sb: SandboxServer) -> None:
    h = Harness(sb, Post(body=THREE_PARTS))
    run(h.publish)
    verdict = run(h.reconcile)
    assert verdict.outcome is Outcome.SENT
    assert verdict.remote_id == min(sb.posts(NAME), key=lambda p: int(p["id"]))["id"]
    assert len(status_requests(sb)) == 3


# --- the engine cancelled mid-thread (what a kill leaves behind) ----------------------------------


@pytest.mark.parametrize("restart_after", [0.0, 2 * HOUR], ids=["within-the-hour", "hours-later"])
async def test_engine_stopped_right_after_part_two_committed_resumes_without_duplicate(
    sb: SandboxServer, tmp_path: Path, restart_after: float
) -> None:
    clock = FakeClock(time.time())
    store = Store.open(tmp_path / "outbox.sqlite3", clock)
    secrets = SecretStore(MemoryKeyring())
    account = store.add_account(NAME, "m", {"instance_url": sb.platform_url(NAME)})
    secrets.set(account.id, sb.issue_token(NAME))
    store.enqueue(Post(body=THREE_PARTS), [account.id])
    policy = RetryPolicy()
    first_run: asyncio.Task[int] | None = None
    answered = 0

    async def stop_after_second_part(response: httpx.Response) -> None:
        # Part two is committed on the server; the process "dies" before the channel reads the
        # answer, so the outbox has only part one checkpointed and the delivery still sending.
        nonlocal answered
        request = response.request
        if request.method == "POST" and request.url.path == "/api/v1/statuses":
            answered += 1
            if answered == 2 and first_run is not None:
                first_run.cancel()

    try:
        async with httpx.AsyncClient(
            timeout=10.0, event_hooks={"response": [stop_after_second_part]}
        ) as http:
            engine = Engine(
                store, load_channels(), secrets, http, clock, random.Random(1), policy, owner="a"
            )
            first_run = asyncio.ensure_future(engine.run_once())
            with pytest.raises(asyncio.CancelledError):
                await first_run
        (delivery,) = store.deliveries()
        assert delivery.state is State.SENDING
        assert len(delivery.checkpoint["parts"]) == 1
        assert_chain(sb, NUMBERED[:2])

        # Another process takes over once the lease has run out.
        sb.set_clock_offset(restart_after)
        clock.advance(policy.lease_seconds + 1 + restart_after)
        async with httpx.AsyncClient(timeout=10.0) as http:
            engine = Engine(
                store, load_channels(), secrets, http, clock, random.Random(2), policy, owner="b"
            )
            await engine.run_once()

        (delivery,) = store.deliveries()
        assert delivery.state is State.SENT
        posts = assert_chain(sb, NUMBERED)
        assert (delivery.remote_id, delivery.remote_url) == (posts[0]["id"], posts[0]["url"])
    finally:
        store.close()


# --- staffetta preview and publish ---------------------------------------------------------------


LONG = (
    "Staffetta keeps one outbox for every platform. " * 8
    + "\n\n"
    + "When a platform is down, posts wait and retry. " * 8
)


@pytest.fixture
def cli(home: Path, tmp_path: Path) -> Cli:
    return Cli(home, tmp_path / "keyring.json")


def test_cli_preview_shows_the_split_and_each_part_count(
    cli: Cli, sb: SandboxServer, tmp_path: Path
) -> None:
    mastodon = cli.add_mastodon("m", sb.platform_url(NAME), sb.issue_token(NAME))
    long_post = write_post(tmp_path / "long.md", LONG.strip())

    text = cli.run("preview", str(long_post), "--to", mastodon).stdout
    assert f"{len(LONG.strip())} / 500 characters" in text
    assert "[fix: split]" in text
    assert "↳ split: thread of 2 — 1/2 " in text
    assert "put a line with only '---'" in text

    (found,) = cli.json("preview", str(long_post), "--to", mastodon, "--json")
    assert found["thread"] is False
    split = found["suggested_split"]
    assert [p["fits"] for p in split["parts"]] == [True, True]
    first, second = (p["text"] for p in split["parts"])
    # The paragraph break is the split point; the marker is counted in each part.
    assert first == LONG.split("\n\n")[0].strip() + " 1/2"
    assert second == LONG.split("\n\n")[1].strip() + " 2/2"
    assert [p["count"] for p in split["parts"]] == [len(first), len(second)]
    assert split["text"].count("\n---\n") == 1

    # Written into the post, the split makes a thread that fits.
    threaded = write_post(tmp_path / "thread.md", split["text"])
    (found,) = cli.json("preview", str(threaded), "--to", mastodon, "--json")
    assert found["thread"] is True
    assert [p["text"] for p in found["parts"]] == [first, second]
    assert "suggested_split" not in found
    assert [p for p in found["problems"] if p["blocking"]] == []
    text = cli.run("preview", str(threaded), "--to", mastodon).stdout
    assert f"thread of 2 — 1/2 {len(first)} / 500, 2/2 {len(second)} / 500 characters" in text


def test_cli_publishes_a_thread(cli: Cli, sb: SandboxServer, tmp_path: Path) -> None:
    mastodon = cli.add_mastodon("m", sb.platform_url(NAME), sb.issue_token(NAME))
    cli.publish(write_post(tmp_path / "thread.md", THREE_PARTS), mastodon)
    cli.run("flush")
    posts = assert_chain(sb, NUMBERED)
    (delivery,) = cli.status()["deliveries"]
    assert delivery["state"] == "sent"
    assert delivery["remote_id"] == posts[0]["id"]
