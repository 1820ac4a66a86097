"""Assisted posting in the window: the WhatsApp copy's turn comes, the user is notified, "Copy &
open" puts the text and the picture on the clipboard and opens WhatsApp, "I posted it" marks it
sent and lets the next copy for the account take its turn."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import shiboken6
from PIL import Image as PILImage
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from staffetta.core.model import Account, Image, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.ui.app import close_context, open_context
from staffetta.ui.context import AppContext
from staffetta.ui.i18n import install_translators, remove_translators
from staffetta.ui.notifications import Notifier
from staffetta.ui.outbox import OutboxPage
from staffetta.ui.outbox_model import ChipsRole

FAST = RetryPolicy(base=0.05, cap=0.2, breaker_threshold=2)
WAIT = 15_000

pytestmark = pytest.mark.qt_log_ignore(
    "propagateSizeHints", "does not support raise", "does not support grabbing"
)


@pytest.fixture(autouse=True)
def english(qapp: QApplication) -> Iterator[None]:
    translators = install_translators(qapp, "en")
    yield
    remove_translators(qapp, translators)


@pytest.fixture
def ctx(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[AppContext]:
    context = open_context(Paths.under(home), secrets, policy=FAST)
    yield context
    close_context(context)


@pytest.fixture
def page(ctx: AppContext, qtbot: QtBot) -> Iterator[OutboxPage]:
    widget = OutboxPage(ctx)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()
    shiboken6.delete(widget)


class Browser(QObject):
    """Receives what the page asks the desktop to open, instead of a real browser."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))


@pytest.fixture
def browser() -> Iterator[Browser]:
    receiver = Browser()
    QDesktopServices.setUrlHandler("https", receiver, "open")
    yield receiver
    QDesktopServices.unsetUrlHandler("https")


def chips(page: OutboxPage, post_id: int) -> list[str]:
    row = page.model.row_of(post_id)
    if row is None:
        return []
    return [chip.text for chip in page.model.data(page.model.index(row), ChipsRole)]


@pytest.fixture(autouse=True)
def _clear_clipboard(qapp: QGuiApplication) -> Iterator[None]:
    yield
    # An image left on the offscreen clipboard crashes Qt's clean-up at interpreter exit.
    QGuiApplication.clipboard().clear()


def test_your_turn_copy_open_and_posted(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, browser: Browser, tmp_path: Path
) -> None:
    shown: list[tuple[str, str]] = []
    notifier = Notifier(ctx, show=lambda title, text: shown.append((title, text)))
    accounts: list[Account] = []
    # No status check: this test needs no network at all.
    ctx.bridge.connect_account(
        "whatsapp", "News", {"check_url": "off"}, None, accounts.append, pytest.fail
    )
    qtbot.waitUntil(lambda: bool(accounts), timeout=WAIT)
    picture = tmp_path / "sunrise.png"
    PILImage.new("RGB", (40, 30), (250, 180, 40)).save(picture)
    post = Post(body="Good **morning**", images=(Image(str(picture), "The sun rising"),))
    queued: list[int] = []
    with qtbot.waitSignal(notifier.notified, timeout=WAIT) as signal:
        ctx.bridge.publish(post, [accounts[0].id], queued.append)
        ctx.bridge.publish(Post(body="Later news"), [accounts[0].id], queued.append)
    assert signal.args == [
        "Your turn: post on WhatsApp Channel",
        "A post is ready for you to publish on WhatsApp Channel yourself. Open the outbox and "
        "choose “Copy & open”.",
    ]
    assert shown == [tuple(signal.args)]
    first, second = queued
    qtbot.waitUntil(lambda: chips(page, first) == ["News · your turn"], timeout=WAIT)
    assert chips(page, second) == ["News · queued"]  # waits behind the copy the user posts

    page.select_post(first)
    (delivery,) = ctx.runtime.store.deliveries(post_id=first)
    row = page.details.row(delivery.id)
    visible = [b.text() for b in row.buttons.values() if b.isVisibleTo(page)]
    assert visible == ["Copy && &open", "I &posted it", "S&kip", "&Edit and requeue…"]
    assert "Later posts to this account wait until then." in row.reason.text()

    qtbot.mouseClick(
        row.buttons[next(a for a in row.buttons if a.value == "copy_and_open")],
        Qt.MouseButton.LeftButton,
    )
    clipboard = QGuiApplication.clipboard().mimeData()
    assert clipboard.text() == "Good *morning*"
    assert clipboard.hasImage()
    assert clipboard.imageData().size().width() == 40
    (opened,) = browser.opened
    assert re.match(r"https://wa\.me/\?text=", opened)
    assert parse_qs(urlsplit(opened).query)["text"] == ["Good *morning*"]

    qtbot.mouseClick(
        row.buttons[next(a for a in row.buttons if a.value == "posted")],
        Qt.MouseButton.LeftButton,
    )
    qtbot.waitUntil(lambda: chips(page, first) == ["News · sent"], timeout=WAIT)
    assert ctx.runtime.store.delivery(delivery.id).state is State.SENT
    # The next copy for the account now takes its turn.
    qtbot.waitUntil(lambda: chips(page, second) == ["News · your turn"], timeout=WAIT)
