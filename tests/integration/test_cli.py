"""The ``staffetta`` command line as a user runs it: a real child process per command.

Each test has its own ``STAFFETTA_HOME``, the file keyring standing in for the OS keyring, and
(where needed) a sandbox Mastodon on 127.0.0.1 in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from staffetta import __version__
from staffetta.core.model import State
from staffetta.core.paths import Paths
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer
from support import Cli, png, write_post

DELIVERY_KEYS = {
    "id",
    "post_id",
    "account",
    "state",
    "attempts",
    "next_attempt_at",
    "next_attempt_in",
    "reason",
    "remote_id",
    "url",
    "excerpt",
}
REPORT_KEYS = {"generated_at", "counts", "accounts", "platforms", "deliveries"}
LONG_BODY = "Too long for Mastodon. " + "word " * 120  # 23 + 600 = 623 characters


@pytest.fixture
def cli(home: Path, tmp_path: Path) -> Cli:
    return Cli(home, tmp_path / "keyring.json")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=["mastodon"]) as server:
        yield server


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site" / "content" / "posts"
    folder.mkdir(parents=True)
    return folder


def _connect_both(cli: Cli, sandbox: SandboxServer, site: Path) -> tuple[str, str]:
    mastodon = cli.add_mastodon(
        "m", sandbox.platform_url("mastodon"), sandbox.issue_token("mastodon")
    )
    return mastodon, cli.add_static_site("blog", site)


def _by_account(report: dict[str, object]) -> dict[str, dict[str, object]]:
    deliveries = report["deliveries"]
    assert isinstance(deliveries, list)
    return {d["account"]: d for d in deliveries}


# --- usage --------------------------------------------------------------------------------------


def test_help_and_version_exit_0(cli: Cli) -> None:
    result = cli.run("--help", env={"COLUMNS": "300"})
    assert result.stdout.startswith("usage: staffetta")
    for command in ("accounts", "publish", "preview", "status", "flush", "demo"):
        assert command in result.stdout
    assert "--secret-stdin or --secret-env" in result.stdout  # the epilog says how secrets go in

    assert cli.run("--version").stdout.strip() == f"staffetta {__version__}"

    adding = cli.run("accounts", "add", "--help").stdout
    assert "mastodon" in adding
    assert "static_site" in adding


def test_console_script_runs_the_same_main(cli: Cli) -> None:
    script = Path(sys.executable).with_name("staffetta")
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    result = subprocess.run(
        [str(script), "--version"], env=cli.env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"staffetta {__version__}"


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["publish", "post.md"],  # --to is required
        ["retry", "not-a-number"],
        ["resolve", "1"],  # --went-out or --send-again is required
        ["accounts"],  # an action is required
    ],
)
def test_wrong_usage_exits_2(cli: Cli, args: list[str]) -> None:
    result = cli.run(*args, expect=2)
    assert "usage: staffetta" in result.stderr
    assert "error:" in result.stderr


# --- accounts -----------------------------------------------------------------------------------


def test_accounts_add_with_a_missing_setting_is_refused_and_stores_nothing(
    cli: Cli, sandbox: SandboxServer, tmp_path: Path
) -> None:
    no_folder = cli.run("accounts", "add", "static_site", "--name", "blog", expect=1)
    assert no_folder.stderr.strip() == "staffetta: Static site folder needs: folder."
    assert no_folder.stdout == ""

    no_server = cli.run(
        "accounts",
        "add",
        "mastodon",
        "--secret-env",
        "TOKEN",
        expect=1,
        env={"TOKEN": sandbox.issue_token("mastodon")},
    )
    assert "Mastodon needs: instance_url" in no_server.stderr
    assert "Traceback" not in no_server.stderr

    unknown = cli.run("accounts", "add", "myspace", "--set", "x=y", expect=1)
    assert "Unknown channel 'myspace'" in unknown.stderr
    assert "mastodon" in unknown.stderr  # it lists the ones there are

    bad_pair = cli.run("accounts", "add", "static_site", "--set", "folder", expect=1)
    assert "--set takes FIELD=VALUE" in bad_pair.stderr

    assert cli.json("accounts", "list", "--json") == []
    assert "No accounts yet" in cli.run("accounts", "list").stdout
    assert not cli.keyring_file.exists() or "mastodon" not in cli.keyring_file.read_text()
    assert sandbox.requests("mastodon") == []  # refused before anything went out


def test_accounts_list_test_and_remove(cli: Cli, sandbox: SandboxServer, site: Path) -> None:
    mastodon, blog = _connect_both(cli, sandbox, site)
    listed = {a["id"]: a for a in cli.json("accounts", "list", "--json")}
    assert set(listed) == {mastodon, blog}
    assert listed[mastodon]["handle"].startswith("@demo@127.0.0.1")
    assert listed[blog]["settings"]["folder"] == str(site)

    assert f"{mastodon}: OK" in cli.run("accounts", "test", mastodon).stdout
    assert f"{blog}: OK" in cli.run("accounts", "test", blog).stdout
    assert "No account 'nobody'" in cli.run("accounts", "test", "nobody", expect=1).stderr

    assert mastodon in json.loads(cli.keyring_file.read_text())["staffetta"]
    cli.run("accounts", "remove", mastodon)
    assert [a["id"] for a in cli.json("accounts", "list", "--json")] == [blog]
    assert mastodon not in json.loads(cli.keyring_file.read_text()).get("staffetta", {})


# --- demo ---------------------------------------------------------------------------------------


def test_demo_shows_the_outage_and_the_recovery(cli: Cli, tmp_path: Path) -> None:
    demo_home = tmp_path / "demo"
    result = cli.run("demo", "--outage", "2", "--home", str(demo_home), timeout=120)
    out = result.stdout
    assert "Mastodon goes DOWN" in out
    assert "marked down after repeated failures" in out
    assert "Mastodon is back UP" in out
    assert "answered its health probe" in out
    # 3 posts × site, Mastodon, Bluesky, Telegram, Discord, WordPress, Micropub, Buttondown,
    # Listmonk, Ghost, Facebook Page, Threads; Instagram takes the one post with a picture
    assert out.count("sent     delivery") == 37
    assert "Statuses on the sandbox Mastodon: 3 (exactly one per post" in out
    assert "Messages on the sandbox Telegram: 3" in out
    assert "Messages on the sandbox Discord: 3" in out
    assert "Posts on the sandbox Bluesky: 3" in out
    assert "Posts on the sandbox WordPress: 3" in out
    assert "Posts on the sandbox IndieWeb site (Micropub): 3" in out
    assert "E-mails sent by the sandbox Buttondown: 3" in out
    assert "Campaigns started on the sandbox Listmonk: 3 (running, running, running)" in out
    assert "Posts on the sandbox Ghost: 3 (" in out
    assert "newsletter emails sent: 3\n" in out
    assert "On the sandbox Meta: 3 Facebook Page posts, 1 Instagram post" in out
    assert "Outbox: 37 sent" in out
    # Its data stays in its own folder: nothing in the home of this test.
    assert (demo_home / "data" / "outbox.sqlite3").exists()
    assert not (cli.home / "data" / "outbox.sqlite3").exists()


# --- publish, preview, status, flush ------------------------------------------------------------


def test_publish_with_images_then_status_json_before_and_after_flush(
    cli: Cli, sandbox: SandboxServer, site: Path, tmp_path: Path
) -> None:
    mastodon, blog = _connect_both(cli, sandbox, site)
    photo = png(tmp_path / "photo.png", size=(120, 80))
    post = write_post(
        tmp_path / "post.md",
        "A day at the sea, with a photo. #sea",
        title="At the sea",
        images=[(photo, "Waves on a sandy beach")],
    )
    queued = cli.publish(post, mastodon, blog)
    assert set(queued) == {"post_id", "deliveries"}
    assert [d["state"] for d in queued["deliveries"]] == ["queued", "queued"]
    photo.unlink()  # the queued post has its own copy of the image

    before = cli.json("status", "--json")
    assert set(before) == REPORT_KEYS
    assert before["counts"] == {"queued": 2}
    assert {a["id"] for a in before["accounts"]} == {mastodon, blog}
    assert len(before["deliveries"]) == 2
    for delivery in before["deliveries"]:
        assert set(delivery) == DELIVERY_KEYS
        assert delivery["post_id"] == queued["post_id"]
        assert delivery["state"] == "queued"
        assert delivery["attempts"] == 0
        assert delivery["remote_id"] is None
        assert delivery["url"] is None
        assert delivery["reason"] is None
        assert delivery["excerpt"] == "At the sea"
    assert "At the sea" in cli.run("status").stdout

    flushed = cli.run("flush")
    assert "Done: 2 sent this run" in flushed.stdout

    assert cli.json("status", "--json")["deliveries"] == []  # sent ones only with --all
    after = cli.status()
    assert set(after) == REPORT_KEYS
    assert after["counts"] == {"sent": 2}
    assert {p["endpoint"]: p["state"] for p in after["platforms"]}.get(
        sandbox.platform_url("mastodon")
    ) in (None, "up")
    deliveries = _by_account(after)
    for delivery in deliveries.values():
        assert set(delivery) == DELIVERY_KEYS
        assert delivery["state"] == "sent"
        assert delivery["attempts"] == 1
        assert delivery["remote_id"]
        assert delivery["next_attempt_at"] is None
        assert delivery["next_attempt_in"] is None
    (status,) = sandbox.posts("mastodon")
    assert deliveries[mastodon]["remote_id"] == status["id"]
    assert deliveries[mastodon]["url"] == status["url"]
    assert [m["description"] for m in status["media_attachments"]] == ["Waves on a sandy beach"]
    page = site / deliveries[blog]["remote_id"]
    assert page.exists()
    assert "Waves on a sandy beach" in page.read_text(encoding="utf-8")
    assert deliveries[blog]["url"] == page.as_uri()


def test_preview_json_shows_count_limit_and_problems(
    cli: Cli, sandbox: SandboxServer, site: Path, tmp_path: Path
) -> None:
    mastodon, blog = _connect_both(cli, sandbox, site)
    post = write_post(tmp_path / "long.md", LONG_BODY.strip(), title="Long")
    previews = {
        p["account"]: p
        for p in cli.json("preview", str(post), "--to", f"{mastodon},{blog}", "--json")
    }
    assert set(previews) == {mastodon, blog}

    toot = previews[mastodon]
    assert toot["count"] == len(LONG_BODY.strip())
    assert toot["limit"] == 500
    assert toot["unit"] == "characters"
    blocking = [p for p in toot["problems"] if p["blocking"]]
    assert [(p["code"], p["fix"]) for p in blocking] == [("too_long", "split")]
    assert f"{toot['count']} / 500" in blocking[0]["message"]

    page = previews[blog]
    assert page["limit"] == 0  # a site has no length limit
    assert [p for p in page["problems"] if p["blocking"]] == []
    assert page["title"] == "Long"

    text = cli.run("preview", str(post), "--to", mastodon).stdout
    assert f"{toot['count']} / 500 characters" in text
    assert "✖" in text
    assert "[fix: split]" in text

    short = write_post(tmp_path / "short.md", "Short and fine.")
    (fine,) = cli.json("preview", str(short), "--to", mastodon, "--json")
    assert fine["count"] == len("Short and fine.")
    assert fine["problems"] == []


def test_publish_over_the_limit_is_refused_and_queues_nothing(
    cli: Cli, sandbox: SandboxServer, site: Path, tmp_path: Path
) -> None:
    mastodon, blog = _connect_both(cli, sandbox, site)
    post = write_post(tmp_path / "long.md", LONG_BODY.strip())
    refused = cli.run("publish", str(post), "--to", f"{blog},{mastodon}", expect=1)
    assert "Not queued" in refused.stderr
    assert f"{mastodon}:" in refused.stderr
    assert "over" in refused.stderr
    report = cli.status()
    assert report["counts"] == {}
    assert report["deliveries"] == []  # not even the site, which had no problem

    missing = cli.run("publish", str(tmp_path / "nope.md"), "--to", blog, expect=1)
    assert "does not exist" in missing.stderr
    unknown = cli.run("publish", str(post), "--to", "nobody", expect=1)
    assert "No account 'nobody'" in unknown.stderr
    assert cli.status()["counts"] == {}


def test_flush_while_the_platform_is_down_waits_then_sends(
    cli: Cli, sandbox: SandboxServer, site: Path, tmp_path: Path
) -> None:
    mastodon, blog = _connect_both(cli, sandbox, site)
    cli.publish(write_post(tmp_path / "a.md", "Written during the outage."), mastodon, blog)

    sandbox.set_fault("mastodon", "down")
    down = cli.run("flush")
    assert "Done: 1 sent this run" in down.stdout  # the site does not need the network
    waiting = _by_account(cli.status())
    assert waiting[blog]["state"] == "sent"
    held = waiting[mastodon]
    assert held["state"] in ("waiting", "down"), held
    assert held["reason"]
    assert "Could not reach Mastodon" in held["reason"]
    assert held["attempts"] == 1
    assert held["remote_id"] is None
    assert sandbox.posts("mastodon") == []
    assert "Could not reach Mastodon" in cli.run("status").stdout

    sandbox.set_fault("mastodon", "up")
    up = cli.run("flush", "--wait", timeout=120)
    assert "Done: 1 sent this run" in up.stdout
    sent = _by_account(cli.status())[mastodon]
    assert sent["state"] == "sent"
    assert sent["reason"] is None
    assert [s["text"] for s in sandbox.posts("mastodon")] == ["Written during the outage."]


def test_retry_cancel_and_resolve_exit_codes(
    cli: Cli, sandbox: SandboxServer, site: Path, tmp_path: Path
) -> None:
    mastodon, blog = _connect_both(cli, sandbox, site)
    first = cli.publish(write_post(tmp_path / "1.md", "First."), mastodon)["deliveries"][0]["id"]
    second = cli.publish(write_post(tmp_path / "2.md", "Second."), blog)["deliveries"][0]["id"]
    third = cli.publish(write_post(tmp_path / "3.md", "Third."), blog)["deliveries"][0]["id"]

    # Mastodon down: the first delivery waits; retry puts it back in the queue at once.
    sandbox.set_fault("mastodon", "down")
    cli.run("cancel", str(third))
    cli.run("flush")
    assert _state(cli, first) in ("waiting", "down")
    assert cli.run("retry", str(first)).stdout.strip() == f"Delivery {first}: queued"
    sandbox.set_fault("mastodon", "up")
    cli.run("flush")
    assert _state(cli, first) == "sent"
    assert _state(cli, second) == "sent"
    assert _state(cli, third) == "cancelled"

    # Actions that do not apply to a delivery's state are refused with exit 1 and a reason.
    refused = cli.run("retry", str(first), expect=1)
    assert f"Delivery {first} is sent; 'retry' does not apply." in refused.stderr
    assert "does not apply" in cli.run("cancel", str(second), expect=1).stderr
    assert "does not apply" in cli.run("cancel", str(third), expect=1).stderr
    assert "does not apply" in cli.run("resolve", str(first), "--went-out", expect=1).stderr
    assert "does not apply" in cli.run("resolve", str(second), "--send-again", expect=1).stderr
    assert "No delivery with id 999" in cli.run("retry", "999", expect=1).stderr
    assert "No delivery with id 999" in cli.run("cancel", "999", expect=1).stderr
    assert _state(cli, first) == "sent"

    # Unconfirmed deliveries (a platform that cannot tell) are the user's to resolve. Neither
    # channel here ever leaves one, so two are put in that state through the store.
    fourth = cli.publish(write_post(tmp_path / "4.md", "Fourth."), blog)["deliveries"][0]["id"]
    fifth = cli.publish(write_post(tmp_path / "5.md", "Fifth."), blog)["deliveries"][0]["id"]
    store = Store.open(Paths.under(cli.home).database)
    try:
        store.set_state([fourth, fifth], State.UNCONFIRMED, detail="Could not tell.")
    finally:
        store.close()
    assert "does not apply" in cli.run("retry", str(fourth), expect=1).stderr
    went_out = cli.run("resolve", str(fourth), "--went-out")
    assert went_out.stdout.strip() == f"Delivery {fourth}: sent"
    again = cli.run("resolve", str(fifth), "--send-again")
    assert again.stdout.strip() == f"Delivery {fifth}: queued"
    cli.run("flush")
    assert _state(cli, fifth) == "sent"
    assert sorted(p.parent.name.split("-")[0] for p in site.rglob("*.md")) == ["fifth", "second"]


def _state(cli: Cli, delivery_id: int) -> str:
    for delivery in cli.status()["deliveries"]:
        if delivery["id"] == delivery_id:
            return str(delivery["state"])
    raise AssertionError(f"no delivery {delivery_id}")


# --- secrets never come from argv ---------------------------------------------------------------


def test_secrets_are_never_read_from_argv(cli: Cli, sandbox: SandboxServer) -> None:
    url = sandbox.platform_url("mastodon")
    token = sandbox.issue_token("mastodon")
    # There is no option that takes a secret as its value.
    for option in ("--secret", "--token", "--password"):
        result = cli.run(
            "accounts", "add", "mastodon", "--set", f"instance_url={url}", option, token, expect=2
        )
        assert "error:" in result.stderr
    # --secret-env names a variable; an unset or empty one is refused with a clear message.
    unset = cli.run(
        "accounts",
        "add",
        "mastodon",
        "--set",
        f"instance_url={url}",
        "--secret-env",
        "NO_SUCH_VAR",
        expect=1,
    )
    assert "NO_SUCH_VAR is empty or not set" in unset.stderr
    empty = cli.run(
        "accounts",
        "add",
        "mastodon",
        "--set",
        f"instance_url={url}",
        "--secret-env",
        "EMPTY_VAR",
        expect=1,
        env={"EMPTY_VAR": ""},
    )
    assert "EMPTY_VAR is empty or not set" in empty.stderr
    # No secret at all: Mastodon needs one.
    none = cli.run("accounts", "add", "mastodon", "--set", f"instance_url={url}", expect=1)
    assert "access token" in none.stderr
    # --secret-stdin reads it from standard input, not argv.
    added = cli.run(
        "accounts",
        "add",
        "mastodon",
        "--set",
        f"instance_url={url}",
        "--secret-stdin",
        "--json",
        input=token + "\n",
    )
    account = json.loads(added.stdout)
    assert json.loads(cli.keyring_file.read_text())["staffetta"] == {account["id"]: token}
    assert token not in added.stdout + added.stderr
    assert [a["id"] for a in cli.json("accounts", "list", "--json")] == [account["id"]]


def test_a_secret_field_given_with_set_is_refused(
    cli: Cli, sandbox: SandboxServer, site: Path
) -> None:
    url = sandbox.platform_url("mastodon")
    token = sandbox.issue_token("mastodon")
    result = cli.run(
        "accounts",
        "add",
        "mastodon",
        "--set",
        f"instance_url={url}",
        "--set",
        f"access_token={token}",
        "--secret-env",
        "TOKEN",
        expect=None,
        env={"TOKEN": token},
    )
    listed = cli.run("accounts", "list", "--json").stdout
    holders = [p for p in cli.home.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert holders == [], "the token is in these files under STAFFETTA_HOME"
    assert token not in listed, "accounts list --json prints the token"
    assert result.returncode == 1, "a secret given on the command line must be refused"


def test_flush_wait_exits_4_when_an_account_needs_reconnecting(
    cli: Cli, sandbox: SandboxServer, site: Path, tmp_path: Path
) -> None:
    mastodon, blog = _connect_both(cli, sandbox, site)
    cli.publish(write_post(tmp_path / "a.md", "Before the token dies."), mastodon, blog)
    sandbox.revoke_tokens("mastodon")
    result = cli.run("flush", "--wait", expect=4, timeout=120)
    assert f"needs reconnect #1 → {mastodon}: Mastodon refused the access token" in result.stdout
    held = _by_account(cli.status())[mastodon]
    assert held["state"] == "needs_reconnect"
    assert "reconnect" in held["reason"]


def test_flush_summary_counts_a_delivery_that_needs_you_once(
    cli: Cli, sandbox: SandboxServer, site: Path, tmp_path: Path
) -> None:
    mastodon, blog = _connect_both(cli, sandbox, site)
    cli.publish(write_post(tmp_path / "a.md", "Before the token dies."), mastodon, blog)
    sandbox.revoke_tokens("mastodon")
    result = cli.run("flush", "--wait", expect=4, timeout=120)
    summary = result.stdout.strip().splitlines()[-1]
    assert summary == "Done: 1 sent this run · 0 still waiting · 0 scheduled · 1 need you."
