"""Tokens go to the keyring and nowhere else: not the database, logs, media, site or any output.

A Mastodon account is connected, its token revoked so a flush hits a 401, reconnected with a new
token and flushed again, verbosely; every file under ``STAFFETTA_HOME`` (the SQLite database and
its ``-wal``, logs, media copies) and every stdout/stderr of every command is then searched for
either token and for any 12-character piece of it.
"""

from __future__ import annotations

import json
from pathlib import Path

from staffetta.sandbox import SandboxServer
from support import Cli, png, write_post

PIECE = 12  # a leaked piece this long is as good as the token for an attacker with time


def _pieces(secret: str) -> set[str]:
    return {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}


def _leaks(secret: str, blobs: dict[str, bytes]) -> list[str]:
    found = []
    for name, data in blobs.items():
        hits = sorted(piece for piece in _pieces(secret) if piece.encode() in data)
        if hits:
            found.append(f"{name}: {len(hits)} piece(s), e.g. {hits[0][:4]}…")
    return found


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_tokens_live_only_in_the_keyring(home: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    cli = Cli(home, tmp_path / "keyring.json")
    var = "STAFFETTA_TEST_TOKEN"

    with SandboxServer(platforms=["mastodon"]) as sandbox:
        url = sandbox.platform_url("mastodon")
        first = sandbox.issue_token("mastodon")
        assert len(first) >= 2 * PIECE
        mastodon = cli.add_mastodon("m", url, first)
        blog = cli.add_static_site("blog", site)
        assert json.loads(cli.keyring_file.read_text())["staffetta"] == {mastodon: first}

        image = png(tmp_path / "photo.png")
        post = write_post(
            tmp_path / "post.md",
            "Nothing secret in here.",
            title="Leaks",
            images=[(image, "A red rectangle")],
        )
        cli.publish(post, mastodon, blog)

        # The server forgets the token: the delivery needs the user, with Mastodon's reason.
        sandbox.revoke_tokens("mastodon")
        refused = cli.run("-v", "flush", "--wait", expect=4, timeout=120)
        assert "needs reconnect #" in refused.stdout
        report = cli.status()
        (held,) = [d for d in report["deliveries"] if d["account"] == mastodon]
        assert held["state"] == "needs_reconnect"
        assert held["reason"]
        (account,) = [a for a in report["accounts"] if a["id"] == mastodon]
        assert account["paused"]
        cli.run("accounts", "test", mastodon, expect=1)
        cli.run("accounts", "reconnect", mastodon, "--secret-env", var, env={var: first}, expect=1)
        cli.run(
            "accounts",
            "add",
            "mastodon",
            "--set",
            f"instance_url={url}",
            "--secret-env",
            var,
            env={var: first},
            expect=1,
        )

        # A new token through the environment; the waiting post goes out.
        second = sandbox.issue_token("mastodon")
        cli.run("accounts", "reconnect", mastodon, "--secret-env", var, env={var: second})
        assert json.loads(cli.keyring_file.read_text())["staffetta"] == {mastodon: second}
        sent = cli.run("-v", "flush", "--wait", timeout=120)
        assert "Done: 1 sent this run" in sent.stdout
        assert "HTTP Request: POST" in sent.stderr  # verbose: every request is logged

        cli.run("status")
        cli.run("status", "--json", "--all")
        cli.run("accounts", "list")
        cli.run("accounts", "list", "--json")
        cli.run("-v", "accounts", "test", mastodon)
        report = cli.status()
        assert [d["state"] for d in report["deliveries"]] == ["sent", "sent"]
        assert len(sandbox.posts("mastodon")) == 1

    files = _files(home)
    assert any(name.endswith("outbox.sqlite3") for name in files)
    assert any("/media/" in name for name in files)
    outputs = {
        f"{' '.join(map(str, r.args[3:]))} ({stream})": text.encode()
        for r in cli.transcript
        for stream, text in (("stdout", r.stdout), ("stderr", r.stderr))
    }
    everywhere = {**files, **_files(site), **outputs}
    for label, token in (("first token", first), ("second token", second)):
        assert _leaks(token, everywhere) == [], f"the {label} leaked"

    # It did go somewhere: the keyring (the file standing in for it) has the current one.
    keyring_text = cli.keyring_file.read_text()
    assert second in keyring_text
    assert _leaks(second, {"keyring": keyring_text.encode()}) != []  # the search does find it
    assert first not in keyring_text
