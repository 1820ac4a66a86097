"""Two ``staffetta flush --wait`` processes on one database: every delivery is sent by exactly one.

Thirty deliveries (ten posts for two Mastodon accounts on the same sandbox and a static site)
are flushed by two children started at the same moment, with the sandbox answering slowly so
their work overlaps. Mastodon's Idempotency-Key would hide a double send in the stored statuses,
so the check is on the requests themselves: one ``POST /api/v1/statuses`` per key.
"""

from __future__ import annotations

import collections
import re
import subprocess
import time
from pathlib import Path

import frontmatter
import pytest

from staffetta.sandbox import SandboxServer
from support import Cli, png, write_post

pytestmark = pytest.mark.slow

POSTS = 10
FLUSH_TIMEOUT = 120.0
SLOW = 0.05


def test_two_flushes_at_once_send_each_delivery_once(home: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    cli = Cli(home, tmp_path / "keyring.json")

    with SandboxServer(platforms=["mastodon"]) as sandbox:
        url = sandbox.platform_url("mastodon")
        alice = cli.add_mastodon("alice", url, sandbox.issue_token("mastodon", "alice"))
        bob = cli.add_mastodon("bob", url, sandbox.issue_token("mastodon", "bob"))
        blog = cli.add_static_site("blog", site)
        accounts = [alice, bob, blog]

        bodies = [f"Two engines, post {n}: one request each. #two{n}" for n in range(POSTS)]
        files = []
        for n, body in enumerate(bodies):
            images = [(png(tmp_path / "image.png"), "A red rectangle")] if n == 3 else None
            files.append(write_post(tmp_path / f"post-{n}.md", body, images=images))
        cli.publish_all(files, accounts)
        assert cli.status()["counts"] == {"queued": POSTS * len(accounts)}

        sandbox.set_fault("mastodon", "slow", delay=SLOW)
        started = time.monotonic()
        children = [cli.spawn("flush", "--wait", stdout=subprocess.PIPE) for _ in range(2)]
        outputs = []
        try:
            for child in children:
                out, _ = child.communicate(timeout=FLUSH_TIMEOUT)
                outputs.append(out.decode())
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.communicate()
        elapsed = time.monotonic() - started
        for child, out in zip(children, outputs, strict=True):
            assert child.returncode == 0, out

        sandbox.set_fault("mastodon", "up")
        report = cli.status()
        requests = sandbox.requests("mastodon")
        statuses = sandbox.posts("mastodon")

    sent_by = [set(map(int, re.findall(r"^sent\s+#(\d+)", out, re.M))) for out in outputs]
    print(
        f"\ntwo engines: {elapsed:.1f}s for both flushes; sent by the first "
        f"{len(sent_by[0])}, by the second {len(sent_by[1])}"
    )

    # Every delivery sent, and reported as sent by exactly one of the two processes.
    deliveries = report["deliveries"]
    assert len(deliveries) == POSTS * len(accounts)
    assert [d for d in deliveries if d["state"] != "sent"] == []
    assert sent_by[0] & sent_by[1] == set(), "both processes say they sent these"
    assert sent_by[0] | sent_by[1] == {d["id"] for d in deliveries}

    # One status-creating request per delivery: no key sent twice, none sent without a key.
    posts = [r for r in requests if r["method"] == "POST" and r["path"] == "/api/v1/statuses"]
    keys = collections.Counter(r.get("idempotency_key") for r in posts)
    assert {k: n for k, n in keys.items() if n != 1} == {}, "statuses requested more than once"
    assert len(keys) == 2 * POSTS
    uploads = [r for r in requests if r["method"] == "POST" and r["path"] == "/api/v2/media"]
    assert len(uploads) == 2, "the image of post 3 is uploaded once per Mastodon account"

    # Each Mastodon account has each post once.
    per_account = collections.Counter(
        (status["account"]["username"], status["text"]) for status in statuses
    )
    expected = {(user, body): 1 for user in ("alice", "bob") for body in bodies}
    assert dict(per_account) == expected

    # The site has each post in one file.
    docs = [frontmatter.load(path) for path in site.rglob("*.md")]
    assert len(docs) == POSTS
    assert len({doc.metadata["staffetta_delivery"] for doc in docs}) == POSTS
    assert sorted(doc.content.split("\n\n")[0].strip() for doc in docs) == sorted(bodies)
