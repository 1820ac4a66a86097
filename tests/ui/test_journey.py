"""The user journey of issue 5 through the whole window: the real engine in its worker thread, a
site folder on disk and a sandbox Mastodon on 127.0.0.1 that goes down and comes back.

Type a post with a link, an emoji and a mention -> every preview counts it as its platform does
and highlights the entities -> add an image with alt text -> Ctrl+Enter -> the outbox shows a chip
per channel -> Mastodon is down: its chip says so, with the reason, while the site copy is sent ->
Mastodon comes back -> its chip says sent, the post is on the server once with the image and its
alt text, and one notification says it went out after the platform came back. No sleeps: every
wait is on a condition a user would see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PIL import Image as PILImage
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from staffetta.core.model import Account, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.sandbox import SandboxServer
from staffetta.ui.app import Shell, close_context, open_context
from staffetta.ui.composer import ComposerPage
from staffetta.ui.context import AppContext
from staffetta.ui.i18n import install_translators, remove_translators
from staffetta.ui.outbox import OutboxPage
from staffetta.ui.outbox_model import ChipsRole

FAST = RetryPolicy(base=0.05, cap=0.2, breaker_threshold=2)
WAIT = 20_000
URL = "https://example.org/notes/spring-prints"

pytestmark = pytest.mark.qt_log_ignore(
    "propagateSizeHints", "does not support raise", "does not support grabbing"
)


@pytest.fixture(autouse=True)
def english(qapp: QApplication) -> Iterator[None]:
    locale = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
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


@pytest.fixture
def shell(ctx: AppContext, qtbot: QtBot) -> Iterator[Shell]:
    app = Shell(ctx, tray_available=False)
    yield app
    app.quit()
    # Now, with their timers, before ctx closes the store the tray and pages read.
    shiboken6.delete(app.window)
    shiboken6.delete(app)


def _connect(ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer, site: Path) -> list[Account]:
    accounts: list[Account] = []
    ctx.bridge.connect_account(
        "static_site", "My site", {"folder": str(site)}, None, accounts.append
    )
    qtbot.waitUntil(lambda: len(accounts) == 1, timeout=WAIT)
    ctx.bridge.connect_account(
        "mastodon",
        "Mastodon",
        {"instance_url": sandbox.platform_url("mastodon")},
        sandbox.issue_token("mastodon", "maya"),
        accounts.append,
    )
    qtbot.waitUntil(lambda: len(accounts) == 2, timeout=WAIT)
    return accounts


def _coloured_runs(doc: QTextDocument, plain: str) -> list[str]:
    """Runs of text drawn in a colour other than the text's own: the highlighted entities."""
    runs: list[str] = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if (
                fragment.charFormat().foreground().color().name() != plain
                and fragment.text().strip()
            ):
                runs.append(fragment.text())
            it += 1
        block = block.next()
    return runs


def _chips(outbox: OutboxPage, post_id: int) -> list[str]:
    row = outbox.model.row_of(post_id)
    if row is None:
        return []
    return [chip.text for chip in outbox.model.data(outbox.model.index(row), ChipsRole)]


def _wait_chips(outbox: OutboxPage, qtbot: QtBot, post_id: int, *patterns: str) -> list[str]:
    def matches() -> bool:
        texts = _chips(outbox, post_id)
        return len(texts) == len(patterns) and all(
            re.fullmatch(p, t) for p, t in zip(patterns, texts, strict=True)
        )

    qtbot.waitUntil(matches, timeout=WAIT)
    return _chips(outbox, post_id)


def test_write_preview_publish_and_watch_it_through_an_outage(
    ctx: AppContext, shell: Shell, qtbot: QtBot, sandbox: SandboxServer, tmp_path: Path
) -> None:
    site = tmp_path / "site" / "content" / "posts"
    site.mkdir(parents=True)
    blog, mastodon = _connect(ctx, qtbot, sandbox, site)
    shell.show()
    window = shell.window
    qtbot.waitExposed(window)

    # --- write -----------------------------------------------------------------------------------
    composer = window.show_page("compose")
    assert isinstance(composer, ComposerPage)
    composer.picker.set_selected([blog.id, mastodon.id])
    qtbot.waitUntil(composer.title_edit.isVisible)  # the site uses titles
    qtbot.keyClicks(composer.title_edit, "Spring prints")
    qtbot.keyClicks(composer.body, f"New prints, story at {URL} thanks @ada@mastodon.example ")
    composer.body.insertPlainText("🎉")  # pasted: emoji are not typed key by key
    qtbot.keyClicks(composer.body, " #printmaking")
    body = f"New prints, story at {URL} thanks @ada@mastodon.example 🎉 #printmaking"
    assert composer.body.toPlainText() == body

    # --- every preview counts the way its platform does, entities highlighted ---------------------
    cards = {card.account_id: card for card in composer.preview.cards()}
    qtbot.waitUntil(lambda: cards[blog.id].count_text() == f"{len(body)} characters")
    mastodon_count = len(body) - len(URL) + 23 - len("@mastodon.example")
    qtbot.waitUntil(lambda: cards[mastodon.id].count_text() == f"{mastodon_count} / 500")
    (part,) = cards[mastodon.id].part_views()
    plain = part.palette().text().color().name()
    runs = _coloured_runs(part.document(), plain)
    # Shown as Mastodon shows a link: no scheme, cut after 30 characters.
    assert runs[0] == "example.org/notes/spring-print…"
    assert "@ada" in runs
    assert "#printmaking" in runs

    # --- an image with alt text ------------------------------------------------------------------
    picture = tmp_path / "prints.png"
    PILImage.new("RGB", (800, 600), (30, 60, 140)).save(picture)
    composer.add_image_files([str(picture)])
    qtbot.waitUntil(lambda: len(composer.images.cards()) == 1, timeout=WAIT)
    image_card = composer.images.cards()[0]
    assert image_card.nag.isVisible()  # gently asks for a description
    qtbot.keyClicks(image_card.alt_edit, "Three linocut prints on a table")
    assert not image_card.nag.isVisible()

    # --- publish while Mastodon is down ----------------------------------------------------------
    sandbox.set_fault("mastodon", "down")
    with qtbot.waitSignal(composer.published, timeout=WAIT) as published:
        qtbot.keyClick(composer.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    (post_id,) = published.args
    assert composer.body.toPlainText() == ""  # a fresh draft at once

    outbox = window.show_page("outbox")
    assert isinstance(outbox, OutboxPage)
    qtbot.waitUntil(lambda: outbox.model.row_of(post_id) is not None, timeout=WAIT)
    chips = _chips(outbox, post_id)
    assert [c.split(" · ")[0] for c in chips] == ["My site", "Mastodon"]

    # Mastodon waits (then is marked down) with the reason; the site copy is sent meanwhile.
    _wait_chips(outbox, qtbot, post_id, r"My site · sent", r"Mastodon · down since \d\d?:\d\d.*")
    (waiting,) = ctx.runtime.store.deliveries(post_id=post_id, states=[State.DOWN])
    assert "Mastodon" in waiting.last_error
    assert list(site.rglob("index.md"))  # the post is in the site folder
    assert sandbox.posts("mastodon") == []

    # --- Mastodon comes back ---------------------------------------------------------------------
    with qtbot.waitSignal(shell.notifier.notified, timeout=WAIT) as notified:
        sandbox.set_fault("mastodon", "up")
    assert notified.args == ["Mastodon is back", "1 post went out on Mastodon after it came back."]
    _wait_chips(outbox, qtbot, post_id, r"My site · sent", r"Mastodon · sent")
    (status,) = sandbox.posts("mastodon")
    assert "spring-prints" in status["content"]
    (attachment,) = status["media_attachments"]
    assert attachment["description"] == "Three linocut prints on a table"
    sent = {d.account_id: d for d in ctx.runtime.store.deliveries(post_id=post_id)}
    assert sent[mastodon.id].remote_url.startswith(sandbox.platform_url("mastodon"))

    shell.quit()
    assert not ctx.bridge.running
