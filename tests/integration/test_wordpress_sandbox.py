"""The WordPress channel against the sandbox WordPress (what the demo and the window's tests use),
including the faults a real site cannot be told to have: down, 503, an answer dropped after the
post was stored."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.core.clock import SystemClock
from staffetta.core.model import Image, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer

NAME = "wordpress"


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    opened = Runtime.open(
        Paths.under(tmp_path / "home"),
        secrets=SecretStore(MemoryKeyring()),
        clock=SystemClock(),
        policy=RetryPolicy(base=0.05, cap=0.2, breaker_threshold=2),
    )
    yield opened
    opened.close()


async def flush(runtime: Runtime, http: httpx.AsyncClient) -> None:
    await runtime.engine(http, rng=random.Random(1)).flush(wait=True)


async def test_sign_in_publish_and_a_dropped_answer_against_the_sandbox(
    sb: SandboxServer, runtime: Runtime, tmp_path: Path
) -> None:
    picture = tmp_path / "p.png"
    PILImage.new("RGB", (60, 40), (10, 200, 10)).save(picture)
    async with httpx.AsyncClient(timeout=10) as http:

        async def browser(url: str) -> None:
            async with httpx.AsyncClient() as user:
                answer = await user.get(url)
                await user.get(answer.headers["location"])

        channel = runtime.channels[NAME]
        authorization = await channel.authorize(http, {"site_url": sb.platform_url(NAME)}, browser)
        account = await runtime.connect(
            http, NAME, "", authorization.settings, authorization.secret
        )
        assert account.settings["handle"].startswith("demo@127.0.0.1:")
        post = Post(
            body="Hello *sandbox*",
            title="Sandbox",
            tags=("one",),
            images=(Image(str(picture), alt="Green"),),
        )
        runtime.queue(post, [account.id])
        sb.set_fault(NAME, "commit_drop", count=1, writes_only=True)  # the image upload
        await flush(runtime, http)
        runtime.queue(Post(body="Second", title="Second", tags=("One",)), [account.id])
        await flush(runtime, http)

    deliveries = runtime.store.deliveries()
    assert [d.state for d in deliveries] == [State.SENT, State.SENT], deliveries
    posts = sb.posts(NAME)
    assert [p["title"]["raw"] for p in posts] == ["Sandbox", "Second"]
    assert posts[0]["tags"] == posts[1]["tags"]  # "One" matched the existing "one"
    uploads = sb.uploads(NAME)
    assert len(uploads) == 2  # the dropped answer's upload is an orphan; never a second post
    assert posts[0]["featured_media"] == uploads[1]["id"]
    assert uploads[1]["alt_text"] == "Green"
    assert 'alt="Green"' in posts[0]["content"]["raw"]


async def test_a_site_that_is_down_waits_and_goes_out_when_it_is_back(
    sb: SandboxServer, runtime: Runtime
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        account = await runtime.connect(
            http,
            NAME,
            "",
            {"site_url": sb.platform_url(NAME), "username": "demo"},
            sb.issue_token(NAME),
        )
        sb.set_fault(NAME, "503", count=3)
        runtime.queue(Post(body="Patience", title="Later"), [account.id])
        await flush(runtime, http)
    [delivery] = runtime.store.deliveries()
    assert delivery.state is State.SENT, delivery.last_error
    assert len(sb.posts(NAME)) == 1
    assert runtime.store.attempts(delivery.id)[0].outcome in (
        State.WAITING.value,
        State.DOWN.value,
    )
