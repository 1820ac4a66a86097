"""The platform-health strip through an outage of a sandbox Mastodon, and after it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QLocale
from pytestqt.qtbot import QtBot

from staffetta.core.describe import Level
from staffetta.core.model import Account, Post
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.core.store import EndpointHealth, Store
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from staffetta.ui.bridge import EngineBridge
from staffetta.ui.context import AppContext
from staffetta.ui.health import HealthStrip

# One failure marks a platform down, and the next check is 30 to 60 seconds away: long enough to
# read "next check in …", while check_now (the machine came online) probes at once.
OUTAGE = RetryPolicy(base=60.0, cap=300.0, breaker_threshold=1)
WAIT = 15_000

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen has no window manager


@pytest.fixture(autouse=True)
def _24_hour_clock() -> Iterator[None]:
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    yield
    QLocale.setDefault(previous)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=["mastodon"]) as server:
        yield server


@pytest.fixture
def ctx(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[AppContext]:
    paths = Paths.under(home)
    runtime = Runtime.open(paths, secrets=secrets)
    bridge = EngineBridge(paths, secrets, policy=OUTAGE)
    bridge.start()
    yield AppContext(runtime, bridge, AppContext.settings_at(runtime))
    bridge.stop()
    runtime.close()


@pytest.fixture
def strip(ctx: AppContext, qtbot: QtBot) -> Iterator[HealthStrip]:
    widget = HealthStrip(ctx)
    widget.show()
    yield widget
    widget.close()
    shiboken6.delete(widget)  # now, with its timers, before ctx closes the store they read


def connect(
    ctx: AppContext,
    qtbot: QtBot,
    channel: str,
    name: str,
    settings: dict[str, str],
    secret: str | None = None,
) -> Account:
    done: list[Account] = []
    errors: list[Exception] = []
    ctx.bridge.connect_account(channel, name, settings, secret, done.append, errors.append)
    qtbot.waitUntil(lambda: bool(done or errors), timeout=WAIT)
    assert not errors, errors
    return done[0]


def accounts(
    ctx: AppContext, qtbot: QtBot, tmp_path: Path, sandbox: SandboxServer
) -> tuple[Account, Account]:
    folder = tmp_path / "site"
    folder.mkdir()
    site = connect(ctx, qtbot, "static_site", "Blog", {"folder": str(folder)})
    social = connect(
        ctx,
        qtbot,
        "mastodon",
        "Me",
        {"instance_url": sandbox.platform_url("mastodon")},
        sandbox.issue_token("mastodon"),
    )
    return site, social


def tooltips(strip: HealthStrip) -> list[str]:
    return [indicator.toolTip() for indicator in strip.indicators()]


def test_an_outage_and_the_recovery_in_the_tooltip(
    ctx: AppContext, strip: HealthStrip, qtbot: QtBot, tmp_path: Path, sandbox: SandboxServer
) -> None:
    assert strip.indicators() == []  # nothing connected, nothing to show
    site, social = accounts(ctx, qtbot, tmp_path, sandbox)
    qtbot.waitUntil(lambda: len(strip.indicators()) == 2, timeout=WAIT)
    assert tooltips(strip) == ["Static site folder: working", "Mastodon: working"]
    assert not strip.counting_down

    sandbox.set_fault("mastodon", "down")
    for n in range(3):
        queued: list[int] = []
        ctx.bridge.publish(Post(body=f"during the outage {n}"), [site.id, social.id], queued.append)
        qtbot.waitUntil(lambda queued=queued: bool(queued), timeout=WAIT)
    mastodon = strip.indicators()[1]
    down = re.compile(
        r"Mastodon: down since (\d\d:\d\d) · 3 post(\(s\))? waiting · next check in (\d+ s|1 min)"
    )
    qtbot.waitUntil(lambda: bool(down.match(mastodon.toolTip())), timeout=WAIT)
    endpoint = ctx.runtime.store.endpoint(sandbox.platform_url("mastodon"))
    assert endpoint.down_since is not None
    match = down.match(mastodon.toolTip())
    assert match is not None
    assert match[1] == time.strftime("%H:%M", time.localtime(endpoint.down_since))
    assert endpoint.last_error in mastodon.toolTip()  # the reason, on its own line
    assert mastodon.status.level is Level.DOWN
    assert mastodon.word == "down"
    assert mastodon.accessibleName() == mastodon.toolTip()
    assert strip.counting_down  # the countdown only runs while something is down
    # The site's copies are not held up by the outage.
    qtbot.waitUntil(lambda: tooltips(strip)[0] == "Static site folder: working", timeout=WAIT)

    sandbox.set_fault("mastodon", "up")
    ctx.bridge.check_now()  # what the network monitor does when the machine comes online
    qtbot.waitUntil(lambda: mastodon.toolTip() == "Mastodon: working", timeout=WAIT)
    assert mastodon.status.level is Level.OK
    assert mastodon.word == ""
    assert not strip.counting_down
    qtbot.waitUntil(lambda: len(sandbox.posts("mastodon")) == 3, timeout=WAIT)


def test_a_refused_sign_in_asks_for_a_reconnect(
    ctx: AppContext, strip: HealthStrip, qtbot: QtBot, tmp_path: Path, sandbox: SandboxServer
) -> None:
    _site, social = accounts(ctx, qtbot, tmp_path, sandbox)
    sandbox.revoke_tokens("mastodon")
    ctx.bridge.publish(Post(body="after the token was revoked"), [social.id])
    qtbot.waitUntil(
        lambda: tooltips(strip)[1:] == ["Mastodon: Me needs reconnecting"], timeout=WAIT
    )
    mastodon = strip.indicators()[1]
    assert mastodon.word == "reconnect"
    assert mastodon.status.level is Level.NEEDS_YOU


def test_an_outage_seen_by_another_process_shows_too(
    ctx: AppContext, strip: HealthStrip, qtbot: QtBot, tmp_path: Path, home: Path
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    connect(ctx, qtbot, "static_site", "Blog", {"folder": str(folder)})
    # A `staffetta flush` in a terminal marks a platform down: no signal reaches the window.
    cli = Store.open(Paths.under(home).database)
    cli.add_account("mastodon", "Me", {"instance_url": "https://mastodon.example"})
    since = time.time() - 120
    cli.save_endpoint(
        EndpointHealth("https://mastodon.example", down_since=since, failures=3, next_probe_at=None)
    )
    cli.close()
    expected = f"Mastodon: down since {time.strftime('%H:%M', time.localtime(since))}"
    qtbot.waitUntil(lambda: tooltips(strip)[1:] == [expected], timeout=WAIT)
