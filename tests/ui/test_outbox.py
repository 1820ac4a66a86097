"""The Outbox page as a user sees it, with the real engine bridge, a site folder and a sandbox
Mastodon on 127.0.0.1 that goes down, rate-limits and comes back."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QLocale, QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QContextMenuEvent, QDesktopServices
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from staffetta.core.model import Account, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from staffetta.ui.bridge import EngineBridge
from staffetta.ui.context import AppContext
from staffetta.ui.outbox import OutboxPage
from staffetta.ui.outbox_model import ChipsRole, PostIdRole, ReasonRole

# Quick backoff so an outage and its recovery take a fraction of a second; two failures in a row
# mark a platform down.
FAST = RetryPolicy(base=0.05, cap=0.2, breaker_threshold=2)
WAIT = 15_000

# Offscreen Qt has no window manager to size or raise windows.
pytestmark = pytest.mark.qt_log_ignore(
    "propagateSizeHints", "does not support raise", "does not support grabbing"
)


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
    bridge = EngineBridge(paths, secrets, policy=FAST)
    bridge.start()
    yield AppContext(runtime, bridge, AppContext.settings_at(runtime))
    bridge.stop()
    runtime.close()


@pytest.fixture
def page(ctx: AppContext, qtbot: QtBot) -> Iterator[OutboxPage]:
    widget = OutboxPage(ctx)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()
    shiboken6.delete(widget)  # now, with its timers, before ctx closes the store they read


class Browser(QObject):
    """Receives what the page asks the desktop to open, instead of a real browser."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


@pytest.fixture
def browser() -> Iterator[Browser]:
    receiver = Browser()
    for scheme in ("http", "https", "file"):
        QDesktopServices.setUrlHandler(scheme, receiver, "open")
    yield receiver
    for scheme in ("http", "https", "file"):
        QDesktopServices.unsetUrlHandler(scheme)


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


def blog(ctx: AppContext, qtbot: QtBot, tmp_path: Path) -> Account:
    folder = tmp_path / "site" / "content" / "posts"
    folder.mkdir(parents=True)
    return connect(ctx, qtbot, "static_site", "Blog", {"folder": str(folder)})


def mastodon(ctx: AppContext, qtbot: QtBot, sandbox: SandboxServer) -> Account:
    settings = {"instance_url": sandbox.platform_url("mastodon")}
    return connect(ctx, qtbot, "mastodon", "Mastodon", settings, sandbox.issue_token("mastodon"))


def publish(ctx: AppContext, qtbot: QtBot, post: Post, accounts: list[Account]) -> int:
    queued: list[int] = []
    ctx.bridge.publish(post, [a.id for a in accounts], queued.append)
    qtbot.waitUntil(lambda: bool(queued), timeout=WAIT)
    return queued[0]


def chip_texts(page: OutboxPage, post_id: int) -> list[str]:
    row = page.model.row_of(post_id)
    if row is None:
        return []
    return [chip.text for chip in page.model.data(page.model.index(row), ChipsRole)]


def wait_for_chips(page: OutboxPage, qtbot: QtBot, post_id: int, *patterns: str) -> list[str]:
    def matches() -> bool:
        texts = chip_texts(page, post_id)
        return len(texts) == len(patterns) and all(
            re.fullmatch(p, t) for p, t in zip(patterns, texts, strict=True)
        )

    qtbot.waitUntil(matches, timeout=WAIT)
    return chip_texts(page, post_id)


def hhmm(epoch: float) -> str:
    return time.strftime("%H:%M", time.localtime(epoch))


def test_posts_are_listed_newest_first_with_a_chip_per_channel(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, tmp_path: Path, sandbox: SandboxServer
) -> None:
    assert page.empty.isVisibleTo(page)
    assert page.empty.text().startswith("Nothing here yet.")
    site, social = blog(ctx, qtbot, tmp_path), mastodon(ctx, qtbot, sandbox)
    first = publish(ctx, qtbot, Post(body="First post\nwith a second line"), [site, social])
    second = publish(ctx, qtbot, Post(title="A title", body="Second post"), [site, social])
    wait_for_chips(page, qtbot, first, "Blog · sent", "Mastodon · sent")
    wait_for_chips(page, qtbot, second, "Blog · sent", "Mastodon · sent")

    model = page.model
    assert [model.data(model.index(r), PostIdRole) for r in range(model.rowCount())] == [
        second,
        first,
    ]
    assert [model.data(model.index(r)) for r in range(2)] == ["A title", "First post"]
    assert page.empty.isHidden()


def test_an_outage_shows_down_with_the_reason_while_the_site_copy_is_sent(
    ctx: AppContext,
    page: OutboxPage,
    qtbot: QtBot,
    tmp_path: Path,
    sandbox: SandboxServer,
    browser: Browser,
) -> None:
    site, social = blog(ctx, qtbot, tmp_path), mastodon(ctx, qtbot, sandbox)
    sandbox.set_fault("mastodon", "down")
    post = publish(ctx, qtbot, Post(body="Written during the outage"), [site, social])

    texts = wait_for_chips(page, qtbot, post, "Blog · sent", r"Mastodon · down since \d\d:\d\d")
    endpoint = ctx.runtime.store.endpoint(sandbox.platform_url("mastodon"))
    assert endpoint.down_since is not None
    assert texts[1] == f"Mastodon · down since {hhmm(endpoint.down_since)}"
    (copy,) = [d for d in ctx.runtime.store.deliveries(post_id=post) if d.account_id == social.id]
    assert copy.last_error
    row = page.model.index(page.model.row_of(post) or 0)
    assert page.model.data(row, ReasonRole) == f"Mastodon: {' '.join(copy.last_error.split())}"

    # The details panel says the same, with the actions that make sense now.
    assert page.select_post(post)
    details = page.details.row(copy.id)
    assert details.state.text() == f"down since {hhmm(endpoint.down_since)}"
    assert copy.last_error in details.reason.text()
    visible = [b.text() for b in details.buttons.values() if b.isVisibleTo(page)]
    assert visible == ["&Retry now", "&Edit and requeue…", "&Cancel"]

    sandbox.set_fault("mastodon", "up")
    wait_for_chips(page, qtbot, post, "Blog · sent", "Mastodon · sent")
    (status,) = sandbox.posts("mastodon")

    # A click on a sent chip opens the post where it was published.
    page.select_post(post)
    area = page.chip_rect(post, copy.id)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=area.center())
    sent = ctx.runtime.store.delivery(copy.id)
    assert browser.opened == [sent.remote_url]
    assert status["id"] in sent.remote_url


def test_retry_now_sends_a_rate_limited_copy_at_once(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, sandbox: SandboxServer
) -> None:
    social = mastodon(ctx, qtbot, sandbox)
    sandbox.set_fault("mastodon", "429", retry_after=600, count=1)
    post = publish(ctx, qtbot, Post(body="Rate limited"), [social])
    wait_for_chips(page, qtbot, post, r"Mastodon · retry in (10:00|9:[0-5]\d)")
    (copy,) = ctx.runtime.store.deliveries(post_id=post)
    assert copy.state is State.WAITING
    page.select_post(post)
    row = page.details.row(copy.id)
    assert copy.last_error in row.reason.text()

    qtbot.mouseClick(
        row.buttons[next(a for a in row.buttons if a.value == "retry_now")],
        Qt.MouseButton.LeftButton,
    )
    wait_for_chips(page, qtbot, post, "Mastodon · sent")
    assert len(sandbox.posts("mastodon")) == 1

    # The attempts log tells the story.
    qtbot.mouseClick(row.attempts, Qt.MouseButton.LeftButton)
    dialog = page._dialogs[copy.id]
    qtbot.waitUntil(lambda: dialog.table.topLevelItemCount() == 2)
    assert re.fullmatch(r"“Rate limited” to Mastodon: 2 attempt(\(s\)|s)\.", dialog.heading.text())
    outcomes = [dialog.table.topLevelItem(i).text(2) for i in range(2)]
    assert outcomes == ["failed, will retry", "sent"]
    assert dialog.table.topLevelItem(0).text(3) == " ".join(copy.last_error.split())
    dialog.close()


def test_cancel_stops_a_copy_that_waits_for_its_platform(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, sandbox: SandboxServer
) -> None:
    social = mastodon(ctx, qtbot, sandbox)
    sandbox.set_fault("mastodon", "down")
    post = publish(ctx, qtbot, Post(body="Never mind"), [social])
    wait_for_chips(page, qtbot, post, r"Mastodon · down since \d\d:\d\d")
    (copy,) = ctx.runtime.store.deliveries(post_id=post)

    # Through the chip's context menu, as a user would.
    page.select_post(post)
    menu = page.context_menu(page.chip_rect(post, copy.id).center())
    assert menu is not None
    entries = [a.text() for a in menu.actions()]
    assert entries == ["&Retry now", "&Edit and requeue…", "&Cancel", "&Attempts…"]
    next(a for a in menu.actions() if a.text() == "&Cancel").trigger()
    wait_for_chips(page, qtbot, post, "Mastodon · cancelled")
    assert ctx.runtime.store.delivery(copy.id).state is State.CANCELLED
    row = page.details.row(copy.id)
    assert [b.text() for b in row.buttons.values() if b.isVisibleTo(page)] == ["&Edit and requeue…"]


def test_unconfirmed_copies_are_settled_by_the_user(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, sandbox: SandboxServer, home: Path
) -> None:
    social = mastodon(ctx, qtbot, sandbox)
    sandbox.set_fault("mastodon", "down")
    went_out = publish(ctx, qtbot, Post(body="Did this go out?"), [social])
    send_again = publish(ctx, qtbot, Post(body="And this one?"), [social])
    wait_for_chips(page, qtbot, send_again, r"Mastodon · (down since \d\d:\d\d|queued)")
    # What the engine records when a platform gives no way to know (another process's write).
    store = Store.open(Paths.under(home).database)
    ids = [d.id for d in store.deliveries() if d.post_id in (went_out, send_again)]
    store.set_state(ids, State.UNCONFIRMED, detail="The connection dropped after sending.")
    store.close()
    ctx.bridge.outboxChanged.emit()
    wait_for_chips(page, qtbot, went_out, "Mastodon · unconfirmed")
    sandbox.set_fault("mastodon", "up")

    page.select_post(went_out)
    row = page.details.row(ids[0])
    assert "The connection dropped after sending." in row.reason.text()
    visible = [b.text() for b in row.buttons.values() if b.isVisibleTo(page)]
    assert visible == ["It &went out", "&Send again", "&Cancel"]
    qtbot.mouseClick(
        row.buttons[next(a for a in row.buttons if a.value == "went_out")],
        Qt.MouseButton.LeftButton,
    )
    wait_for_chips(page, qtbot, went_out, "Mastodon · sent")

    page.select_post(send_again)
    row = page.details.row(ids[1])
    qtbot.mouseClick(
        row.buttons[next(a for a in row.buttons if a.value == "send_again")],
        Qt.MouseButton.LeftButton,
    )
    ctx.bridge.check_now()  # the platform is back: no need to wait for the next probe
    wait_for_chips(page, qtbot, send_again, "Mastodon · sent")
    assert [p["text"] for p in sandbox.posts("mastodon")] == ["And this one?"]


def test_edit_and_requeue_hands_the_post_to_the_composer(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, sandbox: SandboxServer
) -> None:
    social = mastodon(ctx, qtbot, sandbox)
    sandbox.set_fault("mastodon", "down")
    post = publish(ctx, qtbot, Post(body="Needs a fix"), [social])
    wait_for_chips(page, qtbot, post, r"Mastodon · down since \d\d:\d\d")
    (copy,) = ctx.runtime.store.deliveries(post_id=post)
    page.select_post(post)
    row = page.details.row(copy.id)
    with qtbot.waitSignal(page.editRequested) as edit:
        qtbot.mouseClick(
            row.buttons[next(a for a in row.buttons if a.value == "edit")],
            Qt.MouseButton.LeftButton,
        )
    assert edit.args == [post, social.id]
    # The waiting copy is stopped, so the edited one never goes out beside it.
    wait_for_chips(page, qtbot, post, "Mastodon · cancelled")


def test_search_filters_the_list(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, tmp_path: Path
) -> None:
    site = blog(ctx, qtbot, tmp_path)
    for body in ["Sunset at the harbour", "Market day", "Sunday sunset walk"]:
        publish(ctx, qtbot, Post(body=body), [site])
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=WAIT)

    def listed() -> list[str]:
        return [page.model.data(page.model.index(r)) for r in range(page.model.rowCount())]

    qtbot.keyClicks(page.search_box, "sunset")
    qtbot.waitUntil(lambda: listed() == ["Sunday sunset walk", "Sunset at the harbour"])
    qtbot.keyClicks(page.search_box, " zebra")
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)
    assert page.empty.isVisibleTo(page)
    assert page.empty.text() == "No posts match “sunset zebra”."
    qtbot.keyClick(page, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: len(listed()) == 3)
    assert page.search_box.text() == ""


def test_new_posts_arrive_on_top_without_moving_what_the_user_reads(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, tmp_path: Path, home: Path
) -> None:
    site = blog(ctx, qtbot, tmp_path)
    conn = sqlite3.connect(Paths.under(home).database, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    for n in range(1, 301):
        conn.execute(
            "INSERT INTO posts (id, created_at, body) VALUES (?, ?, ?)", (n, n, f"old {n}")
        )
        conn.execute(
            "INSERT INTO deliveries (post_id, account_id, state, idempotency_key, not_before,"
            " next_attempt_at, updated_at) VALUES (?, ?, 'sent', ?, 0, 0, 0)",
            (n, site.id, f"key-{n}"),
        )
    conn.execute("COMMIT")
    conn.close()
    page.model.reload()
    view = page.view
    assert page.select_post(250)  # row 50: the list scrolls to it
    assert view.verticalScrollBar().value() > 0
    top_before = view.indexAt(QPoint(5, 5)).data(PostIdRole)

    new = publish(ctx, qtbot, Post(body="fresh"), [site])
    qtbot.waitUntil(lambda: page.model.row_of(new) == 0, timeout=WAIT)
    assert view.currentIndex().data(PostIdRole) == 250
    assert page.details.post_id == 250
    assert view.indexAt(QPoint(5, 5)).data(PostIdRole) == top_before


def test_the_keyboard_reaches_the_actions(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, tmp_path: Path, sandbox: SandboxServer
) -> None:
    site, social = blog(ctx, qtbot, tmp_path), mastodon(ctx, qtbot, sandbox)
    sandbox.set_fault("mastodon", "down")
    post = publish(ctx, qtbot, Post(body="Keyboard only"), [site, social])
    wait_for_chips(page, qtbot, post, "Blog · sent", r"Mastodon · down since \d\d:\d\d")

    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Down)  # the first row
    assert page.details.post_id == post
    # The menu key (which the platform turns into this event) opens the row's menu: one
    # submenu per channel, wherever the mouse happens to be.
    at = QPoint(400, 600)
    menu_key = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, at, page.view.mapToGlobal(at))
    QApplication.sendEvent(page.view, menu_key)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    assert [a.text() for a in menu.actions()] == [
        "Blog · sent",
        f"Mastodon · down since {chip_texts(page, post)[1].rsplit(' ', 1)[1]}",
    ]
    menu.close()
    # Enter moves on to the first action of the post's channels.
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    focused = QApplication.focusWidget()
    assert focused is not None
    assert focused.text() == "&Open post"  # the site's copy is sent: see it


def test_changes_made_by_another_process_show_up(
    ctx: AppContext, page: OutboxPage, qtbot: QtBot, home: Path
) -> None:
    # A `staffetta flush` in a terminal: its own connection, and no signal to the window.
    cli = Store.open(Paths.under(home).database)
    account = cli.add_account("future_channel", "Elsewhere").id  # no engine here will send it
    post = cli.enqueue(Post(body="Queued from the command line"), [account])
    qtbot.waitUntil(lambda: chip_texts(page, post) == ["Elsewhere · queued"], timeout=WAIT)
    (copy,) = cli.deliveries(post_id=post)
    cli.finish(copy.id, State.SENT, remote_url="https://example.org/1")
    cli.close()
    qtbot.waitUntil(lambda: chip_texts(page, post) == ["Elsewhere · sent"], timeout=WAIT)
