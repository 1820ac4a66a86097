"""Desktop notifications: one for the posts that went out after a platform came back, one when
something needs the user, none for routine successes unless the user asks for them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from staffetta.core.engine import EngineEvent
from staffetta.core.model import Account, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.sandbox import SandboxServer
from staffetta.ui.app import close_context, open_context
from staffetta.ui.context import AppContext
from staffetta.ui.i18n import install_translators, remove_translators
from staffetta.ui.notifications import Notifier

FAST = RetryPolicy(base=0.05, cap=0.2, breaker_threshold=1)
WAIT = 15_000


@pytest.fixture(autouse=True)
def english(qapp: QApplication) -> Iterator[None]:
    locale = QLocale()
    translators = install_translators(qapp, "en")
    yield
    remove_translators(qapp, translators)
    QLocale.setDefault(locale)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=["mastodon"]) as server:
        yield server


@pytest.fixture
def ctx(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[AppContext]:
    context = open_context(Paths.under(home), secrets, policy=FAST)
    yield context
    close_context(context)


def _connect(ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path) -> list[str]:
    accounts: list[Account] = []
    site = tmp_path / "site"
    site.mkdir()
    ctx.bridge.connect_account(
        "static_site", "My site", {"folder": str(site)}, None, accounts.append
    )
    ctx.bridge.connect_account(
        "mastodon",
        "Social",
        {"instance_url": sandbox.platform_url("mastodon")},
        sandbox.issue_token("mastodon", "creator"),
        accounts.append,
    )
    qtbot.waitUntil(lambda: len(accounts) == 2, timeout=WAIT)
    return [a.id for a in accounts]


def _sent(ctx: AppContext) -> list[EngineEvent]:
    events: list[EngineEvent] = []
    ctx.bridge.deliveryChanged.connect(
        lambda e: events.append(e) if e.state is State.SENT else None
    )
    return events


def test_posts_that_went_out_after_the_platform_came_back_make_one_notification(
    ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path
) -> None:
    shown: list[tuple[str, str]] = []
    notifier = Notifier(ctx, show=lambda title, text: shown.append((title, text)))
    ids = _connect(ctx, qtbot, sandbox, tmp_path)
    sandbox.set_fault("mastodon", "down")
    for n in range(3):
        ctx.bridge.publish(Post(body=f"Written during the outage, part {n}"), ids)
    qtbot.waitUntil(lambda: ctx.runtime.store.counts().get(State.DOWN, 0) == 3, timeout=WAIT)
    assert shown == []  # the site got its posts: routine, no notification

    with qtbot.waitSignal(notifier.notified, timeout=WAIT) as signal:
        sandbox.set_fault("mastodon", "up")
    assert signal.args == ["Mastodon is back", "3 posts went out on Mastodon after it came back."]
    assert len(sandbox.posts("mastodon")) == 3
    assert shown == [("Mastodon is back", "3 posts went out on Mastodon after it came back.")]
    assert [n.title for n in notifier.shown] == ["Mastodon is back"]


def test_an_account_to_reconnect_is_notified_once(
    ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path
) -> None:
    notifier = Notifier(ctx)
    ids = _connect(ctx, qtbot, sandbox, tmp_path)
    sandbox.revoke_tokens("mastodon")
    with qtbot.waitSignal(notifier.notified, timeout=WAIT) as signal:
        ctx.bridge.publish(Post(body="First"), ids)
        ctx.bridge.publish(Post(body="Second"), ids)
    assert signal.args[0] == "Reconnect your Mastodon account"
    assert "reconnect the account" in signal.args[1]
    assert len(notifier.shown) == 1


def test_a_refused_post_says_what_the_platform_said(
    ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path
) -> None:
    notifier = Notifier(ctx)
    ids = _connect(ctx, qtbot, sandbox, tmp_path)
    sandbox.configure("mastodon", max_characters=10)  # the server's rule changed since connecting
    with qtbot.waitSignal(notifier.notified, timeout=WAIT) as signal:
        ctx.bridge.publish(Post(body="This is longer than ten characters"), [ids[1]])
    assert signal.args[0] == "Mastodon refused a post"
    assert signal.args[1]  # the platform's own words, or where to look


def test_routine_successes_are_quiet_unless_asked_for(
    ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path
) -> None:
    notifier = Notifier(ctx)
    ids = _connect(ctx, qtbot, sandbox, tmp_path)
    sent = _sent(ctx)
    ctx.bridge.publish(Post(body="Routine"), ids)
    qtbot.waitUntil(lambda: len(sent) == 2, timeout=WAIT)
    assert notifier.shown == []

    ctx.settings.setValue("notify_sent", True)
    with qtbot.waitSignal(notifier.notified, timeout=WAIT) as signal:
        ctx.bridge.publish(Post(body="Tell me"), ids)
    assert signal.args[0] == "Sent"
    assert signal.args[1] == "2 posts went out on Mastodon, Static site folder."
