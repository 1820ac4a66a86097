"""The outbox model over the store: pages, search, refreshes of changed rows only, countdowns."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QModelIndex, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPalette
from PySide6.QtWidgets import QListView
from pytestqt.qtbot import QtBot

from staffetta.core.clock import FakeClock
from staffetta.core.describe import Phase
from staffetta.core.model import Post, State
from staffetta.core.paths import Paths
from staffetta.core.secrets import SecretStore
from staffetta.core.store import EndpointHealth, Store
from staffetta.runtime import Runtime
from staffetta.ui.outbox_delegate import OutboxDelegate
from staffetta.ui.outbox_model import PAGE_SIZE, ChipsRole, OutboxModel, ReasonRole
from staffetta.ui.state_chip import PHASE_COLOURS, Chip, blend

START = 1_700_000_000.0


@pytest.fixture(autouse=True)
def _24_hour_clock() -> Iterator[None]:
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    yield
    QLocale.setDefault(previous)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def runtime(home: Path, secrets: SecretStore, clock: FakeClock) -> Iterator[Runtime]:
    opened = Runtime.open(Paths.under(home), secrets=secrets, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def writer(runtime: Runtime, clock: FakeClock) -> Iterator[Store]:
    """A second connection that writes, as the engine's worker does."""
    store = Store.open(runtime.paths.database, clock)
    yield store
    store.close()


def fill(database: Path, posts: int, accounts: list[str]) -> None:
    """Bulk-load ``posts`` sent posts, one delivery per account each, in one transaction.

    Row-by-row full-text indexing (the trigger) is right for posts queued one at a time; for a
    bulk load the index is rebuilt once at the end, then the trigger is put back as it was.
    """
    conn = sqlite3.connect(database, isolation_level=None)
    (trigger,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'posts_fts_insert'"
    ).fetchone()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DROP TRIGGER posts_fts_insert")
    conn.executemany(
        "INSERT INTO posts (id, created_at, title, body) VALUES (?, ?, ?, ?)",
        (
            (n, START + n, f"Release {n}" if n % 10 == 0 else "", f"Post number {n}\nmore text")
            for n in range(1, posts + 1)
        ),
    )
    conn.executemany(
        "INSERT INTO deliveries (post_id, account_id, state, idempotency_key, not_before,"
        " next_attempt_at, updated_at, remote_url) VALUES (?, ?, 'sent', ?, 0, 0, 0, ?)",
        (
            (n, account, f"k-{n}-{account}", f"https://example.org/{account}/{n}")
            for n in range(1, posts + 1)
            for account in accounts
        ),
    )
    conn.execute("INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')")
    conn.execute(trigger)
    conn.execute("COMMIT")
    conn.close()


def chips(model: OutboxModel, row: int) -> list[Chip]:
    return list(model.data(model.index(row), ChipsRole))


def words(model: OutboxModel, row: int) -> list[str]:
    return [chip.text for chip in chips(model, row)]


def headlines(model: OutboxModel) -> list[str]:
    return [model.data(model.index(row)) for row in range(model.rowCount())]


def test_a_hundred_thousand_posts_arrive_a_page_at_a_time(runtime: Runtime, qtbot: QtBot) -> None:
    # One copy each keeps the fill quick; the benchmark measures 100,000 posts × 3 copies.
    fill(runtime.paths.database, 100_000, [runtime.store.add_account("static_site", "Site").id])

    model = OutboxModel(runtime)
    assert model.rowCount() == PAGE_SIZE
    assert headlines(model)[:2] == ["Release 100000", "Post number 99999"]  # newest first
    assert words(model, 0) == ["Site · sent"]
    assert model.canFetchMore(QModelIndex())

    model.fetchMore(QModelIndex())
    assert model.rowCount() == 2 * PAGE_SIZE
    assert (
        model.data(model.index(2 * PAGE_SIZE - 1)) == f"Post number {100_000 - 2 * PAGE_SIZE + 1}"
    )

    # The view asks for more as the user scrolls to the end.
    view = QListView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    for _ in range(3):
        rows = model.rowCount()
        view.scrollToBottom()
        qtbot.waitUntil(lambda rows=rows: model.rowCount() > rows)
    assert model.rowCount() >= 5 * PAGE_SIZE

    model.set_search("99999")
    assert headlines(model) == ["Post number 99999"]
    assert not model.canFetchMore(QModelIndex())
    model.set_search("release")
    assert model.rowCount() == PAGE_SIZE  # 10,000 matches, still one page at a time
    assert all(h.startswith("Release ") for h in headlines(model))


def test_refresh_updates_only_the_rows_that_changed(
    runtime: Runtime, writer: Store, qtbot: QtBot
) -> None:
    blog = runtime.store.add_account("static_site", "Blog").id
    social = runtime.store.add_account("mastodon", "Social", {"instance_url": "https://m.example"})
    ids = [writer.enqueue(Post(body=f"post {n}"), [blog, social.id]) for n in range(5)]
    model = OutboxModel(runtime)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    target = writer.deliveries(post_id=ids[1])[1]
    writer.finish(
        target.id, State.WAITING, detail="HTTP 503 from m.example", next_attempt_at=START + 102
    )
    row = model.row_of(ids[1])
    assert row == 3
    with qtbot.waitSignal(model.dataChanged) as changed:
        model.refresh()
    top, bottom = changed.args[:2]
    assert (top.row(), bottom.row()) == (row, row)
    assert words(model, row) == ["Blog · queued", "Social · retry in 1:42"]
    assert model.data(model.index(row), ReasonRole) == "Social: HTTP 503 from m.example"
    assert not resets

    # A new post arrives on top; nothing else is re-read.
    newest = writer.enqueue(Post(body="brand new"), [blog])
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.refresh()
    assert inserted.args[1:] == [0, 0]
    assert headlines(model)[:2] == ["brand new", "post 4"]
    assert model.row_of(newest) == 0
    assert model.row_of(ids[1]) == 4
    assert not resets


def test_a_platform_going_down_rewords_the_rows_it_holds(
    runtime: Runtime, writer: Store, clock: FakeClock
) -> None:
    social = runtime.store.add_account("mastodon", "Social", {"instance_url": "https://m.example"})
    post = writer.enqueue(Post(body="hello"), [social.id])
    model = OutboxModel(runtime)
    (delivery,) = writer.deliveries(post_id=post)
    down_since = START - 3600 + 60 * 7  # 07 past the hour, an hour ago
    writer.save_endpoint(EndpointHealth("https://m.example", down_since=down_since, failures=3))
    writer.set_state([delivery.id], State.DOWN, detail="Connection refused")
    model.refresh()
    expected = time.strftime("%H:%M", time.localtime(down_since))
    assert words(model, 0) == [f"Social · down since {expected}"]
    assert model.data(model.index(0), ReasonRole) == "Social: Connection refused"


def test_the_countdown_ticks_only_while_a_copy_waits(
    runtime: Runtime, writer: Store, clock: FakeClock, qtbot: QtBot
) -> None:
    social = runtime.store.add_account("mastodon", "Social", {"instance_url": "https://m.example"})
    post = writer.enqueue(Post(body="hello"), [social.id])
    model = OutboxModel(runtime)
    assert not model.counting_down
    (delivery,) = writer.deliveries(post_id=post)
    writer.finish(delivery.id, State.WAITING, detail="rate limited", next_attempt_at=START + 102)
    model.refresh()
    assert model.counting_down
    assert words(model, 0) == ["Social · retry in 1:42"]

    clock.advance(60)
    with qtbot.waitSignal(model.dataChanged, timeout=3000):
        pass  # the once-a-second tick
    assert words(model, 0) == ["Social · retry in 0:42"]
    clock.advance(60)
    qtbot.waitUntil(lambda: words(model, 0) == ["Social · retrying…"], timeout=3000)

    writer.finish(delivery.id, State.SENT, remote_url="https://m.example/@me/1")
    model.refresh()
    assert words(model, 0) == ["Social · sent"]
    assert not model.counting_down


def test_every_state_has_its_words(runtime: Runtime, writer: Store, clock: FakeClock) -> None:
    accounts = {
        state: runtime.store.add_account("mastodon", state.value, {"instance_url": "https://m"}).id
        for state in State
    }
    post = writer.enqueue(
        Post(body="all states", scheduled_at=START + 3600), list(accounts.values())
    )
    for delivery in writer.deliveries(post_id=post):
        state = next(s for s, a in accounts.items() if a == delivery.account_id)
        writer.set_state([delivery.id], state, detail="why", next_attempt_at=START + 90)
    model = OutboxModel(runtime)
    scheduled = time.strftime("%H:%M", time.localtime(START + 90))
    assert [re.sub(r"^\S+ · ", "", w) for w in words(model, 0)] == [
        "queued",
        f"scheduled {scheduled}",
        "sending…",
        "retry in 1:30",
        "waiting for the platform",  # held as down, but the platform is not marked down
        "needs reconnect",
        "checking…",
        "sent",
        "failed",
        "unconfirmed",
        "cancelled",
        "your turn",
    ]
    # The most pressing problem is the one the row's second line shows.
    assert model.data(model.index(0), ReasonRole) == "failed: why"
    assert model.data(model.index(0), Qt.ItemDataRole.AccessibleTextRole).startswith("all states. ")


@pytest.mark.parametrize(
    ("base", "text"), [("#ffffff", "#000000"), ("#1e1e1e", "#e6e6e6")], ids=["light", "dark"]
)
def test_chips_are_painted_in_their_colours_on_light_and_dark(
    runtime: Runtime, writer: Store, qtbot: QtBot, base: str, text: str
) -> None:
    blog = runtime.store.add_account("static_site", "Blog").id
    social = runtime.store.add_account("mastodon", "Social", {"instance_url": "https://m"}).id
    post = writer.enqueue(Post(body="colours"), [blog, social])
    sent, failed = writer.deliveries(post_id=post)
    writer.finish(sent.id, State.SENT, remote_url="file:///site/colours.md")
    writer.finish(failed.id, State.FAILED, detail="Text too long")
    model = OutboxModel(runtime)
    view = QListView()
    qtbot.addWidget(view)
    palette = view.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor(base))
    palette.setColor(QPalette.ColorRole.Text, QColor(text))
    view.setPalette(palette)
    delegate = OutboxDelegate(runtime, view)
    view.setItemDelegate(delegate)
    view.setModel(model)
    view.resize(700, 300)
    view.show()
    qtbot.waitExposed(view)

    image = view.viewport().grab().toImage()
    placed, hidden = delegate.chip_layout(
        view.visualRect(model.index(0)), chips(model, 0), QFontMetrics(view.font())
    )
    assert hidden == 0
    for area, chip in placed:
        # Inside the outline, before the icon: the base colour tinted with the state's colour.
        inside = image.pixelColor(area.left() + 3, area.center().y())
        expected = blend(QColor(base), QColor(PHASE_COLOURS[chip.phase]), 0.18)
        assert abs(inside.red() - expected.red()) < 12, (chip.text, inside.name())
        assert abs(inside.green() - expected.green()) < 12, (chip.text, inside.name())
        assert abs(inside.blue() - expected.blue()) < 12, (chip.text, inside.name())
    assert [chip.phase for _, chip in placed] == [Phase.SENT, Phase.FAILED]
