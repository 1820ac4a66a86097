"""``staffetta sandbox`` and ``staffetta demo``: the whole flow without a single real account."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from staffetta.cli import output
from staffetta.core.events import DELIVERY, PLATFORM_DOWN, PLATFORM_UP, EngineEvent
from staffetta.core.http import new_http_client
from staffetta.core.memory_keyring import MemoryKeyring
from staffetta.core.model import Account, Image, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from staffetta.sandbox.ghost import GhostPlatform

# Short backoff so a demo outage resolves in seconds; the real defaults cap at five minutes.
DEMO_POLICY = RetryPolicy(base=0.5, cap=3.0, breaker_threshold=2)


def register(sub: Any) -> None:
    sandbox = sub.add_parser(
        "sandbox", help="run the fake platforms on 127.0.0.1 (for tests and trying things out)"
    )
    sandbox.add_argument("--port", type=int, default=8900, help="control port (default 8900)")
    sandbox.add_argument("--platforms", help="comma-separated instances, e.g. mastodon,mastodon2")
    sandbox.set_defaults(handler=cmd_sandbox)

    demo = sub.add_parser(
        "demo", help="see the whole flow — queue, outage, recovery — with no account needed"
    )
    demo.add_argument(
        "--outage",
        type=float,
        default=6.0,
        help="seconds the sandbox Mastodon stays down (default 6)",
    )
    demo.add_argument(
        "--home", type=Path, help="keep the demo's data here (default: a new temporary folder)"
    )
    demo.set_defaults(handler=cmd_demo)


def cmd_sandbox(args: argparse.Namespace) -> int:
    platforms = [p.strip() for p in args.platforms.split(",")] if args.platforms else None
    with SandboxServer(platforms=platforms, port=args.port) as sandbox:
        print(f"Sandbox control API: {sandbox.url}/_sandbox/  (Ctrl+C to stop)")
        print(json.dumps(sandbox.describe(), indent=2))
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\nSandbox stopped.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    home = args.home or Path(tempfile.mkdtemp(prefix="staffetta-demo-"))
    return asyncio.run(_demo(home.expanduser(), args.outage))


def _say(started: float, text: str) -> None:
    print(f"[{time.monotonic() - started:5.1f}s] {text}", flush=True)


async def _demo(home: Path, outage: float) -> int:
    started = time.monotonic()
    # The demo's tokens are throwaway sandbox tokens that die with this process: an in-memory
    # keyring keeps the demo working on machines without one, and writes nothing to disk.
    runtime = Runtime.open(
        Paths.under(home), secrets=SecretStore(MemoryKeyring()), policy=DEMO_POLICY
    )
    try:
        platforms = [
            "mastodon",
            "bluesky",
            *CHAT_PLATFORMS,
            *BLOG_PLATFORMS,
            *NEWSLETTER_PLATFORMS,
            "ghost",
            "meta",
        ]
        with SandboxServer(platforms=platforms) as sandbox:
            return await _demo_flow(runtime, sandbox, home, outage, started)
    finally:
        runtime.close()


async def _demo_flow(
    runtime: Runtime, sandbox: SandboxServer, home: Path, outage: float, started: float
) -> int:
    site = home / "site" / "content" / "posts"
    site.mkdir(parents=True, exist_ok=True)
    async with new_http_client() as http:
        blog = await runtime.connect(
            http, "static_site", "My site", {"folder": str(site), "flavour": "hugo"}, None
        )
        token = sandbox.issue_token("mastodon", "demo")
        social = await runtime.connect(
            http,
            "mastodon",
            "Mastodon (sandbox)",
            {"instance_url": sandbox.platform_url("mastodon")},
            token,
        )
        _say(started, f"Data folder: {home}")
        _say(
            started,
            f"Connected {blog.id} (static site → {site}) and {social.id} "
            f"({social.settings.get('handle')}, a sandbox Mastodon on 127.0.0.1)",
        )
        chats = await _connect_chats(runtime, http, sandbox)
        chats.insert(0, await _connect_bluesky(runtime, http, sandbox))
        chats[:0] = await _connect_blogs(runtime, http, sandbox)
        chats += await _connect_newsletters(runtime, http, sandbox)
        chats.append(await _connect_ghost(runtime, http, sandbox))
        meta = await _connect_meta(runtime, http, sandbox, home)
        _say(started, "Connected " + ", ".join(f"{a.id} ({a.name})" for a in chats))

        _say(started, "Connected " + ", ".join(f"{a.id} ({a.name})" for a in meta))

        sandbox.set_fault("mastodon", "down")
        _say(started, "Mastodon goes DOWN — connections refused, like Facebook on 4 October 2021.")
        sandbox.set_fault("meta", "down")
        _say(started, "Facebook, Instagram and Threads go DOWN too, all at once.")
        image = _sample_image(home)
        posts = [
            Post(
                title="Hello from Staffetta",
                tags=("demo",),
                body="Written once, published to **my own site** and to Mastodon. "
                "More at https://example.org/staffetta #POSSE",
                images=(Image(str(image), alt="An orange square on a blue background"),),
            ),
            Post(title="A second note", body="Queued during the outage. It goes out on its own."),
            Post(title="Third", body="Strict order per account: this one goes out last."),
        ]
        for post in posts:
            targets = [blog.id, social.id, *(a.id for a in chats)]
            # Instagram posts need a picture: only the first post has one.
            targets += [a.id for a in meta if post.images or a.channel != "instagram"]
            post_id = runtime.queue(post, targets)
            _say(started, f"Queued post {post_id} for {', '.join(targets)}")

        all_final = asyncio.Event()

        def on_event(event: EngineEvent) -> None:
            _on_event(started, event)
            if all(d.state.is_final for d in runtime.store.deliveries()):
                all_final.set()

        engine = runtime.engine(http, on_event=on_event)
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run_forever(stop))
        await asyncio.sleep(outage)
        sandbox.set_fault("mastodon", "up")
        _say(started, "Mastodon is back UP. Staffetta notices at its next health probe.")
        sandbox.set_fault("meta", "up")
        _say(started, "Facebook, Instagram and Threads are back UP.")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_final.wait(), timeout=60)
        stop.set()
        await running

    print()
    print(output.status_text(output.status_json(runtime, include_finished=True)))
    print()
    written = sorted(str(p.relative_to(site)) for p in site.rglob("*.md"))
    print(f"Posts written to the site folder {site}: {written}")
    print(
        f"Statuses on the sandbox Mastodon: {len(sandbox.posts('mastodon'))} "
        f"(exactly one per post — no duplicates)"
    )
    for line in _blog_lines(sandbox):
        print(line)
    for line in _newsletter_lines(sandbox):
        print(line)
    print(_ghost_line(sandbox))
    print(_meta_line(sandbox))
    for name in CHAT_PLATFORMS:
        print(f"Messages on the sandbox {name.capitalize()}: {_messages(sandbox, name)}")
    print(
        f"Posts on the sandbox Bluesky: {len(sandbox.posts('bluesky'))} "
        f"(each under the record key chosen when it was queued)"
    )
    print(f"The demo's outbox stays in {home}; look at it with:")
    print(f"  STAFFETTA_HOME={home} staffetta status --all")
    left = [d for d in runtime.store.deliveries() if d.state is not State.SENT]
    return 0 if not left else 1


def _on_event(started: float, event: EngineEvent) -> None:
    if event.kind == PLATFORM_DOWN:
        _say(
            started,
            f"✖ {event.endpoint} marked down after repeated failures; "
            f"{event.count} posts wait, probing with backoff.",
        )
    elif event.kind == PLATFORM_UP and event.count:
        _say(
            started,
            f"✔ {event.endpoint} answered its health probe: {event.count} waiting posts released.",
        )
    elif event.kind == DELIVERY and event.state in (
        State.SENT,
        State.WAITING,
        State.FAILED,
        State.UNCONFIRMED,
        State.NEEDS_RECONNECT,
    ):
        detail = f": {event.detail}" if event.detail else ""
        _say(
            started,
            f"{event.state.value:<8} delivery {event.delivery_id} → {event.account_id}{detail}",
        )


def _sample_image(home: Path) -> Path:
    from PIL import Image as PILImage

    path = home / "demo-image.png"
    picture = PILImage.new("RGB", (640, 360), (30, 60, 140))
    picture.paste((240, 120, 20), (220, 80, 420, 280))
    picture.save(path)
    return path


# --- chat channels (Telegram bot, Discord webhook) ------------------------------------------------

CHAT_PLATFORMS = ("telegram", "discord")


async def _connect_chats(
    runtime: Runtime, http: httpx.AsyncClient, sandbox: SandboxServer
) -> list[Account]:
    """A bot administering the sandbox Telegram channel and a sandbox Discord webhook."""
    telegram = await runtime.connect(
        http,
        "telegram",
        "Telegram (sandbox)",
        {"channel": "@staffetta_sandbox", "api_url": sandbox.platform_url("telegram")},
        sandbox.issue_token("telegram", "demo"),
    )
    server = sandbox.platform_url("discord")
    discord = await runtime.connect(
        http,
        "discord",
        "Discord (sandbox)",
        {"server": server},
        f"{server}/api/webhooks/{sandbox.issue_token('discord', 'demo')}",
    )
    return [telegram, discord]


def _messages(sandbox: SandboxServer, name: str) -> int:
    """Messages the platform shows for the demo's posts (a Telegram album is one post)."""
    posts = sandbox.posts(name)
    return len({str(p.get("media_group_id") or p.get("message_id") or p.get("id")) for p in posts})


# --- Bluesky --------------------------------------------------------------------------------------


async def _connect_bluesky(
    runtime: Runtime, http: httpx.AsyncClient, sandbox: SandboxServer
) -> Account:
    """The sandbox PDS's account ``demo.test``, found through the sandbox's PLC directory."""
    url = sandbox.platform_url("bluesky")
    return await runtime.connect(
        http,
        "bluesky",
        "Bluesky (sandbox)",
        {"handle": "demo.test", "service": url, "plc_url": f"{url}/plc"},
        sandbox.issue_token("bluesky", "demo"),
    )


# --- blogs (WordPress, Micropub) ------------------------------------------------------------------

BLOG_PLATFORMS = ("wordpress", "micropub")


async def _connect_blogs(
    runtime: Runtime, http: httpx.AsyncClient, sandbox: SandboxServer
) -> list[Account]:
    """A sandbox WordPress (application password) and a sandbox IndieWeb site (Micropub)."""
    wordpress = await runtime.connect(
        http,
        "wordpress",
        "WordPress (sandbox)",
        {"site_url": sandbox.platform_url("wordpress"), "username": "demo"},
        sandbox.issue_token("wordpress", "demo"),
    )
    micropub = await runtime.connect(
        http,
        "micropub",
        "IndieWeb site (sandbox)",
        {"site_url": sandbox.platform_url("micropub")},
        sandbox.issue_token("micropub", "demo"),
    )
    return [wordpress, micropub]


def _blog_lines(sandbox: SandboxServer) -> list[str]:
    wordpress, micropub = sandbox.posts("wordpress"), sandbox.posts("micropub")
    return [
        f"Posts on the sandbox WordPress: {len(wordpress)} "
        f"({', '.join(p['link'] for p in wordpress)})",
        f"Posts on the sandbox IndieWeb site (Micropub): {len(micropub)} "
        f"({', '.join(p['url'] for p in micropub)})",
    ]


# --- newsletters (Buttondown, Listmonk) -----------------------------------------------------------

# The SMTP newsletter is not in the demo: its test server (aiosmtpd) is a test dependency only.
NEWSLETTER_PLATFORMS = ("buttondown", "listmonk")


async def _connect_newsletters(
    runtime: Runtime, http: httpx.AsyncClient, sandbox: SandboxServer
) -> list[Account]:
    """A sandbox Buttondown and a sandbox Listmonk, both set to send, not keep drafts: their
    subscribers are pretend ones."""
    buttondown = await runtime.connect(
        http,
        "buttondown",
        "Buttondown (sandbox)",
        {"api_url": sandbox.platform_url("buttondown"), "status": "about_to_send"},
        sandbox.issue_token("buttondown", "demo"),
    )
    listmonk = await runtime.connect(
        http,
        "listmonk",
        "Listmonk (sandbox)",
        {
            "url": sandbox.platform_url("listmonk"),
            "api_user": "demo",
            "lists": "1",
            "status": "running",
        },
        sandbox.issue_token("listmonk", "demo"),
    )
    return [buttondown, listmonk]


def _newsletter_lines(sandbox: SandboxServer) -> list[str]:
    emails, campaigns = sandbox.posts("buttondown"), sandbox.posts("listmonk")
    return [
        f"E-mails sent by the sandbox Buttondown: {len(emails)} "
        f"({', '.join(repr(e['subject']) for e in emails)})",
        f"Campaigns started on the sandbox Listmonk: {len(campaigns)} "
        f"({', '.join(c['status'] for c in campaigns)})",
    ]


# --- Ghost (a blog and its newsletter) ------------------------------------------------------------


async def _connect_ghost(
    runtime: Runtime, http: httpx.AsyncClient, sandbox: SandboxServer
) -> Account:
    """A sandbox Ghost site through an Admin API key, set to email each post to its newsletter
    too (the explicit opt-in a real account needs; the sandbox's members are pretend ones)."""
    return await runtime.connect(
        http,
        "ghost",
        "Ghost (sandbox)",
        {"site_url": sandbox.platform_url("ghost"), "newsletter": "default-newsletter"},
        sandbox.issue_token("ghost", "demo"),
    )


def _ghost_line(sandbox: SandboxServer) -> str:
    posts = sandbox.posts("ghost")
    site = sandbox.platform("ghost")
    emails = len(site.emails()) if isinstance(site, GhostPlatform) else 0  # every send counted
    return (
        f"Posts on the sandbox Ghost: {len(posts)} ({', '.join(p['url'] for p in posts)}); "
        f"newsletter emails sent: {emails}"
    )


# --- Meta (Instagram, Facebook Page, Threads) -----------------------------------------------------


async def _connect_meta(
    runtime: Runtime, http: httpx.AsyncClient, sandbox: SandboxServer, home: Path
) -> list[Account]:
    """A Facebook Page, a professional Instagram account and a Threads profile on the sandbox
    Meta, with its default app and a sandbox token (a real account signs in through the browser
    with the user's own Meta app). The sandbox serves the public image folder itself."""
    from staffetta.channels.meta_auth import MetaSecret
    from staffetta.sandbox.meta import DEFAULT_APP_ID, DEFAULT_APP_SECRET

    url = sandbox.platform_url("meta")
    public = home / "public-images"
    public.mkdir(parents=True, exist_ok=True)
    sandbox.configure("meta", files_dir=str(public))
    now = time.time()
    secret = MetaSecret(
        DEFAULT_APP_SECRET, sandbox.issue_token("meta", "demo"), now, now + 60 * 86400
    ).dump()
    common = {"app_id": DEFAULT_APP_ID, "api_url": url}
    images = {"public_image_folder": str(public), "public_image_base_url": f"{url}/files"}
    settings = {
        "facebook": ("Facebook Page (sandbox)", common),
        "instagram": ("Instagram (sandbox)", {**common, **images}),
        "threads": ("Threads (sandbox)", {**common, **images}),
    }
    return [
        await runtime.connect(http, channel, name, dict(values), secret)
        for channel, (name, values) in settings.items()
    ]


def _meta_line(sandbox: SandboxServer) -> str:
    posts = sandbox.posts("meta")
    counts = {p: sum(1 for x in posts if x["product"] == p) for p in ("facebook", "instagram")}
    threads = sum(1 for x in posts if x["product"] == "threads")
    return (
        f"On the sandbox Meta: {counts['facebook']} Facebook Page posts, "
        f"{counts['instagram']} Instagram post (the one with a picture), {threads} Threads posts"
    )
