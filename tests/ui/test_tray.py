"""The tray: its state follows the outbox through a sandbox outage; closing the window keeps
delivering from the tray; Quit really quits; without a tray, closing quits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtNetwork import QNetworkInformation
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from staffetta.core.model import Account, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store
from staffetta.sandbox import SandboxServer
from staffetta.ui.app import Shell, close_context, open_context
from staffetta.ui.context import AppContext
from staffetta.ui.i18n import install_translators, remove_translators
from staffetta.ui.network import NetworkMonitor
from staffetta.ui.tray import Tray, TrayState

# Qt's offscreen platform has no window manager and no tray host, and says so.
pytestmark = pytest.mark.qt_log_ignore(
    "propagateSizeHints", "does not support raise", "systemTrayWindowChanged"
)

# A platform is down after one failure and probed again within a fraction of a second.
FAST = RetryPolicy(base=0.05, cap=0.2, breaker_threshold=1)
WAIT = 15_000


@pytest.fixture(autouse=True)
def english(qapp: QApplication) -> Iterator[None]:
    """The translator the app installs for English: it carries the plural forms."""
    translators = install_translators(qapp, "en")
    yield
    remove_translators(qapp, translators)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=["mastodon"]) as server:
        yield server


def _open(home: Path, secrets: SecretStore, policy: RetryPolicy) -> AppContext:
    return open_context(Paths.under(home), secrets, policy=policy)


@pytest.fixture
def ctx(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[AppContext]:
    context = _open(home, secrets, FAST)
    yield context
    close_context(context)


def connect(ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path) -> list[str]:
    """A site folder and a sandbox Mastodon, connected the way the Accounts page does it."""
    accounts: list[Account] = []
    errors: list[Exception] = []
    site = tmp_path / "site"
    site.mkdir()
    ctx.bridge.connect_account(
        "static_site", "My site", {"folder": str(site)}, None, accounts.append, errors.append
    )
    ctx.bridge.connect_account(
        "mastodon",
        "Social",
        {"instance_url": sandbox.platform_url("mastodon")},
        sandbox.issue_token("mastodon", "creator"),
        accounts.append,
        errors.append,
    )
    qtbot.waitUntil(lambda: len(accounts) + len(errors) == 2, timeout=WAIT)
    assert not errors
    return [a.id for a in accounts]


def test_close_to_tray_keeps_delivering_and_quit_really_quits(
    ctx: AppContext, qtbot: QtBot
) -> None:
    shell = Shell(ctx, tray_available=True)
    qtbot.addWidget(shell.window)
    shell.show()
    qtbot.waitExposed(shell.window)

    shell.window.close()
    assert not shell.window.isVisible()
    assert ctx.bridge.active  # still delivering (it starts its engine when there is work)
    assert [n.title for n in shell.notifier.shown] == ["Staffetta is still running"]

    shell.tray.open_action.trigger()
    assert shell.window.isVisible()
    shell.window.close()  # the explanation is shown only the first time
    assert len(shell.notifier.shown) == 1

    with qtbot.waitSignal(shell.finished):
        shell.tray.quit_action.trigger()
    assert not ctx.bridge.running


def test_posts_queued_by_another_process_start_the_engine_and_go_out(
    ctx: AppContext, home: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    shell = Shell(ctx, tray_available=True)
    qtbot.addWidget(shell.window)
    shell.show()
    assert not ctx.bridge.running  # nothing to deliver yet
    folder = tmp_path / "site"
    folder.mkdir()
    other = Store.open(Paths.under(home).database)  # `staffetta publish` in a terminal
    try:
        account = other.add_account("static_site", "Blog", {"folder": str(folder)})
        other.enqueue(Post(body="Queued from a terminal", title="Terminal"), [account.id])
    finally:
        other.close()
    qtbot.waitUntil(lambda: ctx.bridge.running, timeout=WAIT)
    qtbot.waitUntil(lambda: any(folder.rglob("*.md")), timeout=WAIT)
    # The engine now idles until its next due time: the next post from the terminal wakes it.
    other = Store.open(Paths.under(home).database)
    try:
        other.enqueue(Post(body="Another from the terminal", title="Again"), [account.id])
    finally:
        other.close()
    qtbot.waitUntil(lambda: len(list(folder.rglob("*.md"))) == 2, timeout=WAIT)
    with qtbot.waitSignal(shell.finished):
        shell.quit()


def test_close_to_tray_can_be_turned_off(ctx: AppContext, qtbot: QtBot) -> None:
    ctx.settings.setValue("close_to_tray", False)
    shell = Shell(ctx, tray_available=True)
    qtbot.addWidget(shell.window)
    shell.show()
    with qtbot.waitSignal(shell.finished):
        shell.window.close()
    assert not ctx.bridge.running


def test_without_a_system_tray_closing_the_window_quits(ctx: AppContext, qtbot: QtBot) -> None:
    shell = Shell(ctx, tray_available=False)
    qtbot.addWidget(shell.window)
    shell.show()
    with qtbot.waitSignal(shell.finished):
        shell.window.close()
    assert not ctx.bridge.running
    assert shell.notifier.shown == []


def test_tray_follows_an_outage_and_the_recovery(
    ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path
) -> None:
    tray = Tray(ctx, available=False)
    assert tray.summary.state is TrayState.ALL_SENT
    assert "Everything has been sent" in tray.icon.toolTip()
    ids = connect(ctx, qtbot, sandbox, tmp_path)

    sandbox.set_fault("mastodon", "down")
    ctx.bridge.publish(Post(body="Out while Mastodon is down"), ids)
    qtbot.waitUntil(lambda: tray.summary.state is TrayState.DOWN, timeout=WAIT)
    tooltip = tray.icon.toolTip()
    assert "Mastodon is down since" in tooltip
    assert "1 post on its way" in tooltip
    assert tray.icon.icon().cacheKey() != tray_icon_key(TrayState.ALL_SENT)

    sandbox.set_fault("mastodon", "up")
    qtbot.waitUntil(lambda: tray.summary.state is TrayState.ALL_SENT, timeout=WAIT)
    assert "Everything has been sent" in tray.icon.toolTip()
    assert len(sandbox.posts("mastodon")) == 1


def tray_icon_key(state: TrayState) -> int:
    from staffetta.ui.tray import tray_icon

    return tray_icon(state).cacheKey()


def test_tray_says_when_an_account_needs_reconnecting(
    ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path
) -> None:
    tray = Tray(ctx, available=False)
    ids = connect(ctx, qtbot, sandbox, tmp_path)
    sandbox.revoke_tokens("mastodon")
    ctx.bridge.publish(Post(body="The token was revoked"), ids)
    qtbot.waitUntil(lambda: tray.summary.state is TrayState.NEEDS_YOU, timeout=WAIT)
    assert "1 post needs you" in tray.icon.toolTip()
    assert "1 account to reconnect" in tray.icon.toolTip()


def test_coming_back_online_probes_a_platform_that_is_down_at_once(
    home: Path, secrets: SecretStore, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Backoff of a minute or more: only the network coming back can make this go out in time.
    ctx = _open(home, secrets, RetryPolicy(base=60.0, cap=600.0, breaker_threshold=1))
    try:
        ids = connect(ctx, qtbot, sandbox, tmp_path)
        sandbox.set_fault("mastodon", "down")
        sent: list[int] = []
        ctx.bridge.deliveryChanged.connect(
            lambda e: sent.append(e.delivery_id) if e.state is State.SENT else None
        )
        ctx.bridge.publish(Post(body="Written on a train"), ids)
        qtbot.waitUntil(lambda: ctx.runtime.store.counts().get(State.DOWN, 0) == 1, timeout=WAIT)
        sandbox.set_fault("mastodon", "up")

        monitor = NetworkMonitor(ctx.bridge)
        Reach = QNetworkInformation.Reachability
        monitor.on_reachability_changed(Reach.Disconnected)
        with qtbot.waitSignal(monitor.cameOnline):
            monitor.on_reachability_changed(Reach.Online)
        qtbot.waitUntil(lambda: len(sandbox.posts("mastodon")) == 1, timeout=WAIT)
        monitor.on_reachability_changed(Reach.Online)  # still online: nothing more to do
    finally:
        close_context(ctx)
