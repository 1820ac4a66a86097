"""Connecting Threads in the window with the user's own Meta app, against the sandbox Meta: the
app secret typed in the dialog reaches the sign-in and then only the keyring, the browser (an
HTTP client pressing Allow) hands the code to the loopback listener on the registered address,
and reconnecting a paused account needs no secret typed again."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from staffetta.channels.meta_auth import MetaSecret
from staffetta.core.model import Post
from staffetta.core.paths import Paths
from staffetta.core.secrets import SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from staffetta.sandbox.meta import DEFAULT_APP_ID, DEFAULT_APP_SECRET
from staffetta.ui.account_dialog import FORM, AccountDialog
from staffetta.ui.accounts import AccountsPage
from staffetta.ui.bridge import EngineBridge
from staffetta.ui.context import AppContext

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

NAME = "meta"


class Browser:
    """Remembers the pages Staffetta opened; ``allow`` presses Allow on the last one."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> bool:
        self.urls.append(url)
        return True

    def allow(self) -> str:
        page = httpx.get(self.urls[-1], timeout=10)
        link = re.search(r'id="allow" href="([^"]+)"', page.text)
        assert link is not None, page.text
        return httpx.get(html.unescape(link.group(1)), follow_redirects=True, timeout=10).text


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


@pytest.fixture
def ctx(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[AppContext]:
    paths = Paths.under(home)
    runtime = Runtime.open(paths, secrets=secrets)
    bridge = EngineBridge(paths, secrets)
    bridge.start()
    context = AppContext(runtime, bridge, AppContext.settings_at(runtime))
    yield context
    bridge.stop()
    runtime.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def click(qtbot: QtBot, button: QPushButton) -> None:
    assert button.isVisible(), button.text()
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def fill(qtbot: QtBot, dialog: AccountDialog, field: str, text: str) -> None:
    dialog.edits[field].clear()
    qtbot.keyClicks(dialog.edits[field], text)


def test_threads_with_your_own_app_then_reconnect(
    qtbot: QtBot,
    ctx: AppContext,
    sandbox: SandboxServer,
    secrets: SecretStore,
    home: Path,
) -> None:
    browser = Browser()
    page = AccountsPage(ctx, open_url=browser)
    qtbot.addWidget(page)
    page.show()
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    chooser = page.chooser()
    assert chooser is not None
    chooser.select("threads")
    qtbot.mouseClick(chooser.continue_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled())
    assert dialog.edits["app_secret"].echoMode() == dialog.edits["app_secret"].EchoMode.Password

    redirect = f"http://127.0.0.1:{free_port()}/callback"
    fill(qtbot, dialog, "app_id", DEFAULT_APP_ID)
    fill(qtbot, dialog, "app_secret", DEFAULT_APP_SECRET)
    fill(qtbot, dialog, "redirect_uri", redirect)
    fill(qtbot, dialog, "api_url", sandbox.platform_url(NAME))
    click(qtbot, dialog.sign_in_button)
    qtbot.waitUntil(lambda: bool(browser.urls), timeout=10_000)
    assert "redirect_uri=" + redirect.replace(":", "%3A").replace("/", "%2F") in browser.urls[0]

    assert "close this tab and return to Staffetta" in browser.allow()
    qtbot.waitUntil(lambda: len(page.account_ids()) == 1, timeout=10_000)
    (account_id,) = page.account_ids()
    assert page.row_texts(account_id)[1] == "@demo"
    first = MetaSecret.load(secrets.get(account_id))
    assert first.app_secret == DEFAULT_APP_SECRET
    assert first.user_token

    # The sign-in is revoked; a post waits; reconnecting needs no secret typed again.
    sandbox.revoke_tokens(NAME)
    ctx.bridge.publish(Post(body="Written while signed out"), [account_id])
    qtbot.waitUntil(lambda: page.row_texts(account_id)[3].startswith("Needs"), timeout=10_000)
    page.select(account_id)
    click(qtbot, page.reconnect_button)
    again = page.dialog()
    assert again is not None
    qtbot.waitUntil(lambda: again.mode == FORM)
    assert again.edits["app_secret"].text() == ""  # secrets are never shown again
    click(qtbot, again.sign_in_button)
    qtbot.waitUntil(lambda: len(browser.urls) == 2, timeout=10_000)
    browser.allow()
    qtbot.waitUntil(lambda: page.row_texts(account_id)[3] == "OK", timeout=10_000)
    assert MetaSecret.load(secrets.get(account_id)).user_token != first.user_token
    qtbot.waitUntil(
        lambda: [p.get("text") for p in sandbox.posts(NAME)] == ["Written while signed out"],
        timeout=10_000,
    )

    ctx.settings.sync()
    for path in home.rglob("*"):
        if path.is_file():
            assert DEFAULT_APP_SECRET.encode() not in path.read_bytes(), path
    page.close()
