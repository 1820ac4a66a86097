"""Telegram and Discord from the command line, as a user runs it: connect with the secret from
the environment, preview, publish, flush verbosely, lose the credentials and look at the status.

Afterwards every file under ``STAFFETTA_HOME`` and every output of every command is searched for
the bot token and the webhook token (any 12-character piece of them): ``-v`` makes httpx log each
request URL, and both secrets travel in URL paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from staffetta.sandbox import SandboxServer
from support import Cli, png, write_post

PIECE = 12
VAR = "STAFFETTA_TEST_SECRET"

pytestmark = pytest.mark.slow  # ten staffetta processes


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=["telegram", "discord"]) as server:
        yield server


def test_connect_publish_and_fail_without_leaking_either_secret(
    home: Path, tmp_path: Path, sandbox: SandboxServer
) -> None:
    cli = Cli(home, tmp_path / "keyring.json")
    token = sandbox.issue_token("telegram")
    webhook = f"{sandbox.platform_url('discord')}/api/webhooks/{sandbox.issue_token('discord')}"
    telegram_settings = [
        "--set", "channel=@staffetta_sandbox",
        "--set", f"api_url={sandbox.platform_url('telegram')}",
    ]  # fmt: skip
    refused = cli.run(
        "accounts", "add", "telegram", *telegram_settings, "--set", f"bot_token={token}",
        expect=1,
    )  # fmt: skip
    assert "bot_token is a secret" in refused.stderr
    telegram = cli.json(
        "accounts", "add", "telegram", *telegram_settings, "--secret-env", VAR, "--json",
        env={VAR: token},
    )  # fmt: skip
    discord = cli.json(
        "accounts", "add", "discord", "--set", f"server={sandbox.platform_url('discord')}",
        "--secret-env", VAR, "--json", env={VAR: webhook},
    )  # fmt: skip
    assert telegram["settings"]["handle"] == "@staffetta_sandbox"
    assert discord["settings"]["handle"] == "#1100000000000000002"
    accounts = [telegram["id"], discord["id"]]

    photo = png(tmp_path / "photo.png")
    post = write_post(
        tmp_path / "post.md",
        "A **bold** start 😀 — more at https://example.org/more",
        title="Hello",
        images=[(photo, "A red rectangle")],
    )
    preview = cli.json("preview", str(post), "--to", ",".join(accounts), "--json")
    assert [(p["channel"], p["count"], p["limit"]) for p in preview] == [
        ("telegram", 49, 1024),  # a caption, counted without the ** markers
        ("discord", 53, 2000),
    ]
    cli.publish(post, *accounts)
    cli.run("-v", "flush", "--wait", timeout=120)
    (message,) = sandbox.posts("telegram")
    assert message["caption"] == "A bold start 😀 — more at https://example.org/more"
    (discord_message,) = sandbox.posts("discord")
    assert discord_message["attachments"][0]["description"] == "A red rectangle"

    # The bot is revoked and the webhook deleted: both accounts need the user, with a reason.
    sandbox.revoke_tokens("telegram")
    sandbox.revoke_tokens("discord")
    cli.publish(write_post(tmp_path / "second.md", "Second post"), *accounts)
    cli.run("-v", "flush", "--wait", expect=4, timeout=120)
    report = cli.status()
    held = [d for d in report["deliveries"] if d["state"] == "needs_reconnect"]
    assert sorted(d["account"] for d in held) == sorted(accounts)
    cli.run("accounts", "test", telegram["id"], expect=1)

    keyring = json.loads(cli.keyring_file.read_text())["staffetta"]
    assert keyring == {telegram["id"]: token, discord["id"]: webhook}
    secrets = {"bot token": token.split(":", 1)[1], "webhook token": webhook.rsplit("/", 1)[1]}
    blobs = {str(p): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}
    blobs.update({f"output {n}": text.encode() for n, text in enumerate(cli.outputs())})
    assert any(b"HTTP Request:" in data for data in blobs.values()), "no request was logged"
    leaks = []
    for what, secret in secrets.items():
        pieces = {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}
        leaks += [
            f"{what} in {name}"
            for name, data in blobs.items()
            if any(p.encode() in data for p in pieces)
        ]
    assert leaks == []
