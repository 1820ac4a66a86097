"""What the preview pane paints: a card repainted from its remembered picture shows exactly the
text it holds now, never an earlier one.

Real widgets (offscreen), a blog account on a folder; no network, no sleeps.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QRectF
from PySide6.QtGui import QAbstractTextDocumentLayout, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QScrollBar
from pytestqt.qtbot import QtBot

from staffetta.core.model import Account, Post
from staffetta.core.paths import Paths
from staffetta.core.secrets import SecretStore
from staffetta.runtime import Runtime
from staffetta.ui.bridge import EngineBridge
from staffetta.ui.context import AppContext
from staffetta.ui.preview import PreviewPane
from staffetta.ui.preview_card import FOLDED_LINES, PreviewCard
from staffetta.ui.preview_parts import DocumentCache, DocumentView

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen has no window manager


@pytest.fixture
def pane(home: Path, tmp_path: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[PreviewPane]:
    paths = Paths.under(home)
    runtime = Runtime.open(paths, secrets=secrets)
    ctx = AppContext(runtime, EngineBridge(paths, secrets), AppContext.settings_at(runtime))
    pane = PreviewPane(ctx)
    qtbot.addWidget(pane)
    pane.resize(480, 900)
    pane.show()
    try:
        yield pane
    finally:
        pane.close()
        runtime.close()


def blogs(tmp_path: Path, count: int) -> list[Account]:
    accounts = []
    for n in range(count):
        folder = tmp_path / f"site{n}"
        folder.mkdir()
        accounts.append(Account(f"blog-{n}", "static_site", f"Blog {n}", {"folder": str(folder)}))
    return accounts


def shown(view: DocumentView) -> QImage:
    """What the view shows on screen, as the pane paints it."""
    return view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def drawn(view: DocumentView, background: QPalette.ColorRole = QPalette.ColorRole.Base) -> QImage:
    """The view's current document drawn directly on ``background`` (the card's colour, for a
    shared text; a grab of a view painting its own text starts from the window colour)."""
    ratio = view.devicePixelRatioF()
    pixmap = QPixmap(round(view.width() * ratio), round(view.height() * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(view.palette().color(background))
    painter = QPainter(pixmap)
    painter.setClipRect(QRect(QPoint(0, 0), view.size()))
    context = QAbstractTextDocumentLayout.PaintContext()
    context.palette = view.palette()
    context.clip = QRectF(0, 0, view.width(), view.height())
    view.document().documentLayout().draw(painter, context)
    painter.end()
    return pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_every_repaint_shows_the_current_text(pane: PreviewPane, tmp_path: Path) -> None:
    accounts = blogs(tmp_path, 2)
    body = "First *paragraph* with https://example.com/a link.\n\nSecond paragraph."
    pane.set_post(Post(body=body, title="T"), accounts)
    first, second = pane.cards()
    assert isinstance(first, PreviewCard)
    before = shown(first.reader)
    assert before == drawn(first.reader)
    assert shown(second.reader) == before  # the same text, shown the same way

    edited = body.replace("First", "Changed")
    pane.set_post(Post(body=edited, title="T"), accounts)
    assert "Changed paragraph" in first.reader.document().toPlainText()
    after = shown(first.reader)
    assert after != before
    assert after == drawn(first.reader)
    assert shown(second.reader) == after

    pane.set_post(Post(body=body, title="T"), accounts)  # undo: the first text again
    assert shown(first.reader) == before


def test_pictures_stay_within_their_memory_budget(pane: PreviewPane, tmp_path: Path) -> None:
    (account,) = blogs(tmp_path, 1)
    pane.set_post(Post(body="one", title="T"), [account])
    (card,) = pane.cards()
    view = card.reader
    height = view.height()
    budget = view.width() * height * 4 * 2  # room for two pictures of this view
    cache = DocumentCache(picture_bytes=budget)
    doc = view.document()
    plain, faded = cache.picture(view, doc, fade=False), cache.picture(view, doc, fade=True)
    assert cache.picture(view, doc, fade=True) is faded  # painted once, then remembered
    view.resize(view.width(), height - 1)
    cache.picture(view, doc, fade=False)  # a third picture: the oldest one goes
    view.resize(view.width(), height)
    assert cache.picture(view, doc, fade=True) is faded
    assert cache.picture(view, doc, fade=False) is not plain


def test_a_problem_message_shows_its_current_wording(pane: PreviewPane) -> None:
    account = Account(
        "masto-1",
        "mastodon",
        "Ada",
        {"instance_url": "https://m.example", "handle": "@ada@m.example", "max_characters": 20},
    )
    body = "A post that is a little too long for this server"
    pane.set_post(Post(body=body), [account])
    (card,) = pane.cards()
    row = card.problem_rows()[0]
    assert row.problem is not None
    assert "over" in row.problem.message
    before = shown(row.message)
    assert before == drawn(row.message, row.message.backgroundRole())

    pane.set_post(Post(body=body + " and longer"), [account])  # the count in the message grows
    assert row.problem is not None
    assert str(len(body + " and longer")) in row.problem.message
    after = shown(row.message)
    assert after != before
    assert after == drawn(row.message, row.message.backgroundRole())
    view = row.message
    assert view.heightForWidth(view.width()) == view.document().size().height()


def test_cards_showing_the_same_text_take_its_height_and_paint_their_own_colours(
    pane: PreviewPane,
) -> None:
    accounts = [
        Account("threads-1", "threads", "Ada", {"handle": "@ada"}),
        Account("linkedin-1", "linkedin", "Ada", {"handle": "ada"}),
    ]
    body = "Prints https://example.org/spring with @bob and #linocut, " * 20
    for text in (body, "Now " + body):  # typing at the start changes every card's text
        pane.set_post(Post(body=text), accounts)
        threads, linkedin = (card.part_views()[0] for card in pane.cards())
        assert threads.document().toPlainText() == linkedin.document().toPlainText()
        for view in (threads, linkedin):
            # Folded (the text is long): as tall as its first lines, whatever they hold.
            cap = FOLDED_LINES * view.fontMetrics().lineSpacing()
            assert math.ceil(view.document().size().height()) > cap
            assert view.heightForWidth(view.width()) == cap
            above_fade = QRect(0, 0, view.width(), view.height() - 48)  # last lines fade out
            assert shown(view).copy(above_fade) == drawn(view).copy(above_fade)
        assert shown(threads) != shown(linkedin)  # each platform's colour for the entities


def mastodons(count: int) -> list[Account]:
    return [
        Account(
            f"masto-{n}",
            "mastodon",
            f"Ada {n}",
            {"instance_url": f"https://m{n}.example", "handle": f"@ada@m{n}.example"},
        )
        for n in range(count)
    ]


def in_view(pane: PreviewPane, card: PreviewCard) -> bool:
    body = pane.widget()
    return card.geometry().translated(body.pos()).intersects(pane.viewport().rect())


def test_a_card_scrolled_into_view_shows_the_current_text(pane: PreviewPane, qtbot: QtBot) -> None:
    accounts = mastodons(8)
    body = "The lagoon at dawn, https://example.org/lagoon with @bob and #venezia. " * 8
    pane.set_post(Post(body=body), accounts)
    qtbot.waitUntil(lambda: not in_view(pane, pane.cards()[-1]))
    last = pane.cards()[-1]

    edited = "Fog rolled in. " + body  # typed while the last card is out of sight
    pane.set_post(Post(body=edited), accounts)
    assert last.count_text() == pane.cards()[0].count_text()  # counted already, out of sight
    pane.ensureWidgetVisible(last)
    qtbot.waitUntil(lambda: in_view(pane, last))
    (view,) = last.part_views()
    assert view.document().toPlainText().startswith("Fog rolled in. The lagoon at dawn")
    assert view.heightForWidth(view.width()) == math.ceil(view.document().size().height())
    assert shown(view) == drawn(view)
    messages = [row.message.html() for row in last.problem_rows()]
    assert messages == [problem.message for problem in last.problems()]
    count = last.count_text().split(" / ")[0]
    assert any(count in message for message in messages)  # the edited text's count


def test_a_card_moved_into_view_by_the_cards_above_shows_the_current_text(
    pane: PreviewPane, qtbot: QtBot
) -> None:
    accounts = mastodons(8)
    long_body = "A long walk along the Zattere at dusk, gulls on every post. " * 9
    pane.set_post(Post(body=long_body), accounts)
    qtbot.waitUntil(lambda: not in_view(pane, pane.cards()[3]))
    fourth = pane.cards()[3]

    pane.set_post(Post(body="Short now."), accounts)  # every card shrinks: the fourth moves up
    qtbot.waitUntil(lambda: in_view(pane, fourth))
    (view,) = fourth.part_views()
    assert view.document().toPlainText() == "Short now."
    assert shown(view) == drawn(view)


def as_qt_draws_it(bar: QScrollBar) -> QImage:
    """What a plain QScrollBar in the same place, in the same state, shows."""
    twin = QScrollBar(bar.orientation(), bar.parentWidget())
    twin.setGeometry(bar.geometry())
    twin.setRange(bar.minimum(), bar.maximum())
    twin.setPageStep(bar.pageStep())
    twin.setValue(bar.value())
    twin.show()
    try:
        return twin.grab().toImage()
    finally:
        twin.deleteLater()


def test_the_scroll_bar_shows_where_the_pane_is(pane: PreviewPane, qtbot: QtBot) -> None:
    bar = pane.verticalScrollBar()
    pane.set_post(Post(body="Short."), mastodons(2))
    qtbot.waitUntil(lambda: bar.maximum() == 0)
    before = bar.grab().toImage()
    assert before == as_qt_draws_it(bar)

    pane.set_post(Post(body="A much longer post about the lagoon. " * 40), mastodons(8))
    qtbot.waitUntil(lambda: bar.maximum() > 0)  # a shorter handle: drawn again
    longer = bar.grab().toImage()
    assert longer == as_qt_draws_it(bar)
    assert longer != before

    bar.setValue(bar.maximum())  # the handle moves: drawn again
    assert bar.grab().toImage() == as_qt_draws_it(bar)
    assert bar.grab().toImage() != longer


def on_screen(pane: PreviewPane) -> QImage:
    """What the window shows now: the pixels Qt kept and repainted, not a fresh paint."""
    screen = QApplication.primaryScreen()
    return screen.grabWindow(pane.winId()).toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_cards_growing_and_shrinking_leave_nothing_behind(
    pane: PreviewPane, tmp_path: Path
) -> None:
    accounts = [*blogs(tmp_path, 2), *mastodons(2)]
    body = "The lagoon at dawn, with https://example.org/lagoon and @bob. " * 6
    for text in (body, "A new paragraph.\n\n" + body, body[:90], body + body, body[:40]):
        pane.set_post(Post(body=text, title="Dawn"), accounts)
        QApplication.processEvents()  # the window repaints what changed
        fresh = pane.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        assert on_screen(pane) == fresh  # no old border, line or card left on screen


def test_typing_in_the_start_of_a_long_post_does_not_move_the_cards(
    pane: PreviewPane, tmp_path: Path
) -> None:
    accounts = [*blogs(tmp_path, 2), *mastodons(2)]
    body = "The lagoon at dawn, with https://example.org/lagoon and @bob. " * 40
    pane.set_post(Post(body=body, title="Dawn"), accounts)
    QApplication.processEvents()
    heights = [card.height() for card in pane.cards()]
    for typed in ("A", "A much longer first sentence that wraps the lines below it. ", "\n\n"):
        pane.set_post(Post(body=typed + body, title="Dawn"), accounts)
        QApplication.processEvents()
        assert [card.height() for card in pane.cards()] == heights
        blog = pane.cards()[0]
        assert blog.more_button.isVisible()  # folded, and it says so
        assert blog.reader.is_capped()
        assert blog.reader.document().toPlainText().startswith(typed.strip() or "The lagoon")


def test_documents_past_the_cache_s_capacity_hold_their_own_text(qtbot: QtBot) -> None:
    """The oldest document is reused for a new text once the cache is full: every text still
    comes back as itself, with its stylesheet, and one asked for again is laid out afresh."""
    font = QApplication.font()
    cache = DocumentCache(capacity=2)
    css = "p { margin-bottom: 10px; }"
    first = cache.get("<p>one</p>", css, 200, font, font.key())
    second = cache.get("<p>two</p>", "", 200, font, font.key())
    third = cache.get("<p>three</p>", "", 300, font, font.key())
    assert third is first  # the oldest, taking the new text
    assert third.toPlainText() == "three"
    assert (third.defaultStyleSheet(), third.textWidth()) == ("", 300)
    assert second.toPlainText() == "two"
    again = cache.get("<p>one</p>", css, 200, font, font.key())
    assert again is second
    assert (again.toPlainText(), again.defaultStyleSheet(), again.textWidth()) == ("one", css, 200)
    assert cache.get("<p>three</p>", "", 300, font, font.key()).toPlainText() == "three"


def test_the_scroll_bar_s_remembered_picture_is_what_the_style_paints(
    pane: PreviewPane, tmp_path: Path
) -> None:
    """The first paint is the style's own; later ones copy a picture of it, which must show the
    same pixels, also after the bar moved."""
    accounts = blogs(tmp_path, 6)
    pane.set_post(Post(body="Lagoon. " * 400, title="T"), accounts)
    QApplication.processEvents()
    bar = pane.verticalScrollBar()
    assert bar.maximum() > 0  # six long cards: the pane scrolls
    fresh = QScrollBar(bar.orientation())  # painted by the style every time
    fresh.resize(bar.size())
    for value in (0, bar.maximum() // 2, bar.maximum()):
        bar.setValue(value)
        fresh.setRange(bar.minimum(), bar.maximum())
        fresh.setPageStep(bar.pageStep())
        fresh.setValue(value)
        for _ in range(2):  # the style's paint, then the picture's
            assert opaque(bar.grab()) == opaque(fresh.grab()), value


def opaque(pixmap: QPixmap) -> QImage:
    return pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)
