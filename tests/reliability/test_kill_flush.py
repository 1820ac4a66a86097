"""SIGKILL ``staffetta flush --wait`` again and again while it sends: nothing lost, nothing doubled.

Ten posts (two with an image and alt text) are queued through the CLI for a sandbox Mastodon and a
static site folder. Then, round after round, the sandbox drops connections after committing
(``commit_drop``) or answers slowly (``slow``), a flush child is started and killed with SIGKILL at
a random moment. A last flush with the sandbox healthy must then bring every delivery to ``sent``
with every post on Mastodon exactly once and in the site folder exactly once.
"""

from __future__ import annotations

import collections
import os
import random
import selectors
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, Any

import frontmatter
import pytest

from staffetta.sandbox import SandboxServer
from support import Cli, png, wait_for, write_post

pytestmark = pytest.mark.slow

SEED = 20240601
POSTS = 10
IMAGE_POSTS = {2, 6}
ROUNDS = 15
CHILD_TIMEOUT = 60.0
FINAL_TIMEOUT = 90.0
WORDS = [
    "alba",
    "vento",
    "mare",
    "sale",
    "luce",
    "rete",
    "passo",
    "filo",
    "ponte",
    "carta",
    "nodo",
    "vela",
]


def _post_bodies(rng: random.Random) -> list[str]:
    return [
        f"Kill-test post {n}: " + " ".join(rng.choice(WORDS) for _ in range(6)) + f" #k{n}"
        for n in range(POSTS)
    ]


def _site_posts(folder: Path) -> list[tuple[Path, Any]]:
    return [(path, frontmatter.load(path)) for path in sorted(folder.rglob("*.md"))]


def _first_output(stream: IO[bytes], timeout: float) -> bytes:
    """Wait (at most ``timeout`` s) until the child writes something; b"" when it closed."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"the flush child printed nothing for {timeout}s")
    return os.read(stream.fileno(), 65536)


def _progress(sandbox: SandboxServer, site: Path) -> tuple[int, int]:
    return len(sandbox.requests("mastodon")), len(list(site.rglob("*")))


def test_sigkill_during_flush_never_loses_or_duplicates(home: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    site = tmp_path / "site" / "content" / "posts"
    site.mkdir(parents=True)
    logs = tmp_path / "child-logs"
    logs.mkdir()
    cli = Cli(home, tmp_path / "keyring.json")
    started = time.monotonic()

    with SandboxServer(platforms=["mastodon"]) as sandbox:
        mastodon = cli.add_mastodon(
            "m", sandbox.platform_url("mastodon"), sandbox.issue_token("mastodon")
        )
        blog = cli.add_static_site("blog", site)

        bodies = _post_bodies(rng)
        alts = {n: f"Picture {n}: a square of colour {n * 20}" for n in IMAGE_POSTS}
        files = []
        for n, body in enumerate(bodies):
            images = None
            if n in IMAGE_POSTS:
                images = [(png(tmp_path / f"image-{n}.png", colour=(n * 20, 90, 160)), alts[n])]
            files.append(
                write_post(tmp_path / f"post-{n}.md", body, title=f"Post {n}", images=images)
            )
        # Queue them all at once, one CLI child per post (the store serialises the writers).
        cli.publish_all(files, [mastodon, blog])
        queued_at = time.monotonic()

        rounds: list[str] = []
        killed_while_working = 0
        for number in range(ROUNDS):
            if rng.random() < 0.5:
                count = rng.randint(1, 2)
                sandbox.set_fault("mastodon", "commit_drop", count=count, writes_only=True)
                fault = f"commit_drop×{count}"
            else:
                delay = rng.uniform(0.05, 0.3)
                sandbox.set_fault("mastodon", "slow", delay=delay)
                fault = f"slow {delay:.2f}s"
            kill_after = rng.uniform(0.05, 1.5)
            before = _progress(sandbox, site)
            child = cli.spawn("-v", "flush", "--wait", stdout=subprocess.PIPE)
            assert child.stdout is not None
            try:
                # The first thing it prints (a log line per HTTP request, a line per delivery)
                # says it is at work: from then on, a random moment to kill it.
                output = _first_output(child.stdout, CHILD_TIMEOUT)
                try:
                    code = child.wait(timeout=kill_after)
                    outcome = f"exited {code} by itself"
                except subprocess.TimeoutExpired:
                    child.send_signal(signal.SIGKILL)
                    outcome = f"SIGKILL {kill_after:.2f}s into its work"
                    if _progress(sandbox, site) != before:
                        killed_while_working += 1
                output += child.stdout.read()
            finally:
                if child.poll() is None:
                    child.kill()
                child.stdout.close()
                wait_for(child, CHILD_TIMEOUT)
            (logs / f"round-{number:02}.log").write_bytes(output)
            rounds.append(f"round {number}: {fault}, {outcome}")
            if outcome == "exited 0 by itself":
                break  # it finished everything: more kills would find nothing to interrupt
        loop_done = time.monotonic()

        sandbox.set_fault("mastodon", "up")
        final = cli.run("flush", "--wait", expect=None, timeout=FINAL_TIMEOUT)
        finished = time.monotonic()
        report = cli.status()
        statuses = sandbox.posts("mastodon")
        requests = sandbox.requests("mastodon")

    print(
        f"\nkill/flush figures: queueing {queued_at - started:.1f}s, "
        f"{len(rounds)} rounds {loop_done - queued_at:.1f}s "
        f"({killed_while_working} kills mid-work), "
        f"final flush {finished - loop_done:.1f}s, {len(requests)} sandbox requests\n  "
        + "\n  ".join(rounds)
    )
    assert killed_while_working >= 3, "too few children were killed while sending:\n" + "\n".join(
        rounds
    )

    # Every delivery sent; anything else is reported with its reason.
    deliveries = report["deliveries"]
    assert len(deliveries) == 2 * POSTS
    not_sent = [
        f"#{d['id']} post {d['post_id']} → {d['account']}: {d['state']} after {d['attempts']} "
        f"attempts — {d['reason']}"
        for d in deliveries
        if d["state"] != "sent"
    ]
    assert not not_sent, (
        "deliveries not sent (both channels can reconcile, so none should be unconfirmed):\n  "
        + "\n  ".join(not_sent)
        + f"\nfinal flush:\n{final.stdout}\n{final.stderr}"
    )
    assert final.returncode == 0, final.stdout + final.stderr

    # Mastodon: each post exactly once, no two statuses alike, images with their alt text.
    texts = collections.Counter(status["text"] for status in statuses)
    assert {t: n for t, n in texts.items() if n > 1} == {}, "duplicate statuses on Mastodon"
    assert sorted(texts) == sorted(bodies), "Mastodon statuses differ from the posts"
    by_text = {status["text"]: status for status in statuses}
    for n, body in enumerate(bodies):
        described = [m.get("description") for m in by_text[body]["media_attachments"]]
        assert described == ([alts[n]] if n in IMAGE_POSTS else []), f"post {n} media"
    sent_ids = {d["remote_id"] for d in deliveries if d["account"] == mastodon}
    assert sent_ids == {str(status["id"]) for status in statuses}

    # Static site: each post in exactly one file, each file ours exactly once.
    files_found = _site_posts(site)
    keys = collections.Counter(doc.metadata.get("staffetta_delivery") for _, doc in files_found)
    assert len(files_found) == POSTS, [str(p.relative_to(site)) for p, _ in files_found]
    assert None not in keys, keys
    assert len(keys) == POSTS, keys
    for body in bodies:
        holders = [p for p, doc in files_found if body in doc.content]
        assert len(holders) == 1, f"{body!r} is in {holders}"
    site_ids = {d["remote_id"] for d in deliveries if d["account"] == blog}
    assert site_ids == {p.relative_to(site).as_posix() for p, _ in files_found}
