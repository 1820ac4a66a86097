"""The outbox as a Qt list model over the store: newest post first, one row per post.

Smooth with 100,000 posts because it never holds or reads more than it must:

* rows arrive a page at a time (``canFetchMore``/``fetchMore``), each page one query for the
  posts and their deliveries;
* search is the store's full-text index, newest matches first;
* ``refresh()`` asks the store what changed since the last look (its outbox tick), updates those
  rows only (``dataChanged``) and inserts new posts at the top; persistent indexes, so the view's
  selection, survive it;
* chips with a countdown are refreshed once a second, and only while there is one.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)

from staffetta.core.describe import Phase
from staffetta.core.model import Account, State
from staffetta.core.store import DeliverySummary, EndpointHealth, PostSummary
from staffetta.runtime import Runtime
from staffetta.ui.state_chip import Chip, chip_for

Index = QModelIndex | QPersistentModelIndex

PAGE_SIZE = 100
# More changes or new posts than this at once (an import, a long sleep): reloading is cheaper.
CHANGES_LIMIT = 5000
NEW_POSTS_LIMIT = 1000
CHIP_CACHE = 2000  # rows whose chips are kept worded (a screenful is a few dozen)

PostRole = Qt.ItemDataRole.UserRole + 1  # PostSummary
ChipsRole = Qt.ItemDataRole.UserRole + 2  # list[Chip], in delivery order
PostIdRole = Qt.ItemDataRole.UserRole + 3  # int
ReasonRole = Qt.ItemDataRole.UserRole + 4  # str: the most pressing problem, "" if none
PressingRole = Qt.ItemDataRole.UserRole + 5  # Chip | None: the chip that problem is about


def first_line(post: PostSummary) -> str:
    """The row's headline: the title, or the body's first line."""
    if post.title.strip():
        return " ".join(post.title.split())
    for line in post.excerpt.splitlines():
        if line.strip():
            return " ".join(line.split())
    return ""


def excerpt_text(post: PostSummary) -> str:
    """The body flattened to one line, without the headline when the headline came from it."""
    text = " ".join(post.excerpt.split())
    if not post.title.strip():
        head = first_line(post)
        text = text[len(head) :].strip() if text.startswith(head) else text
    return text


# The most pressing problem is the one the row's second line shows.
_URGENCY = {
    Phase.FAILED: 0,
    Phase.NEEDS_RECONNECT: 1,
    Phase.UNCONFIRMED: 2,
    Phase.DOWN: 3,
    Phase.WAITING: 4,
    Phase.RETRYING: 4,
    Phase.CHECKING: 5,
}


class OutboxModel(QAbstractListModel):
    """One row per post, newest first; see the module doc for what keeps it cheap.

    ``now`` comes from the runtime's clock, so countdowns follow an injected clock in tests.
    """

    def __init__(
        self, runtime: Runtime, parent: QObject | None = None, *, page_size: int = PAGE_SIZE
    ) -> None:
        super().__init__(parent)
        self._runtime = runtime
        self._store = runtime.store
        self._page_size = page_size
        self._posts: list[PostSummary] = []
        self._keys: list[int] = []  # -post id per row: ascending, for bisect
        self._search = ""
        self._more = True
        self._tick = 0
        self._accounts: dict[str, Account] = {}
        self._health: dict[str, EndpointHealth] = {}  # by account id
        self._countdowns: set[int] = set()  # post ids with a chip whose words change with time
        self._chips: dict[int, tuple[PostSummary, list[Chip]]] = {}  # post id -> its chips
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._on_second)
        self.reload()

    # --- Qt model ------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._posts)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid() or not self._more:
            return
        before = self._posts[-1].id if self._posts else None
        page = self._store.post_page(before, self._page_size, self._search)
        self._more = len(page) == self._page_size
        if not page:
            return
        first = len(self._posts)
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._posts.extend(page)
        self._keys.extend(-post.id for post in page)
        self.endInsertRows()
        self._track_countdowns(page)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._posts):
            return None
        post = self._posts[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return first_line(post)
        if role == PostRole:
            return post
        if role == PostIdRole:
            return post.id
        if role == ChipsRole:
            return self.chips(post)
        if role == ReasonRole:
            return self.reason(post)
        if role == PressingRole:
            return self.pressing(post)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            parts = [first_line(post)] + [chip.text for chip in self.chips(post)]
            reason = self.reason(post)
            if reason:
                parts.append(reason)
            return "\n".join(parts) if role == Qt.ItemDataRole.ToolTipRole else ". ".join(parts)
        return None

    # --- what rows show ---------------------------------------------------------------------
    def chips(self, post: PostSummary) -> list[Chip]:
        """The post's chips as they read now (cached until the row, the second or the
        accounts and platforms they are worded from change)."""
        cached = self._chips.get(post.id)
        if cached is not None and cached[0] is post:
            return cached[1]
        now = self._runtime.clock.now()
        chips = [
            chip_for(d, self._accounts.get(d.account_id), self._health.get(d.account_id), now)
            for d in post.deliveries
        ]
        if len(self._chips) >= CHIP_CACHE:
            self._chips.clear()  # only what is on screen is asked for again
        self._chips[post.id] = (post, chips)
        return chips

    def pressing(self, post: PostSummary) -> Chip | None:
        """The copy whose problem matters most (failed first, then needs you, down, waiting)."""
        chips = [c for c in self.chips(post) if c.phase in _URGENCY and c.status.reason.strip()]
        return min(chips, key=lambda c: _URGENCY[c.phase]) if chips else None

    def reason(self, post: PostSummary) -> str:
        """The most pressing problem among the post's copies, as "Account: reason"."""
        chip = self.pressing(post)
        if chip is None:
            return ""
        return f"{chip.account_name}: {' '.join(chip.status.reason.split())}"

    def post(self, row: int) -> PostSummary:
        return self._posts[row]

    def row_of(self, post_id: int) -> int | None:
        """The row of a loaded post, or None."""
        row = bisect.bisect_left(self._keys, -post_id)
        return row if row < len(self._keys) and self._keys[row] == -post_id else None

    def chip(self, post_id: int, delivery_id: int) -> Chip | None:
        """The chip of a delivery of a loaded post, as it reads now."""
        row = self.row_of(post_id)
        if row is None:
            return None
        return next((c for c in self.chips(self._posts[row]) if c.delivery_id == delivery_id), None)

    @property
    def search(self) -> str:
        return self._search

    # --- loading --------------------------------------------------------------------------------
    def set_search(self, text: str) -> None:
        """Show only posts whose title or body has these words (or word beginnings)."""
        text = text.strip()
        if text == self._search:
            return
        self._search = text
        self.reload()

    def reload(self) -> None:
        """Forget the rows and load the first page again (a new search, or too much changed)."""
        self.beginResetModel()
        self._load_context()
        self._tick = self._store.outbox_tick()  # before the page: a change in between is re-read
        page = self._store.post_page(None, self._page_size, self._search)
        self._posts = page
        self._keys = [-post.id for post in page]
        self._more = len(page) == self._page_size
        self._countdowns.clear()
        self._chips.clear()
        self.endResetModel()
        self._track_countdowns(page)

    def refresh(self) -> None:
        """Bring the rows up to date with the store: changed rows and new posts only."""
        tick = self._store.outbox_tick()
        changed = self._store.changed_deliveries(self._tick, CHANGES_LIMIT)
        newest = self._posts[0].id if self._posts else 0
        newer = self._store.post_page(None, NEW_POSTS_LIMIT, self._search, after_id=newest)
        if len(changed) >= CHANGES_LIMIT or len(newer) >= NEW_POSTS_LIMIT:
            self.reload()
            return
        context_changed = self._load_context()
        self._tick = max([tick, *(d.tick for d in changed)])
        rows = self._apply(changed)
        if newer:
            self.beginInsertRows(QModelIndex(), 0, len(newer) - 1)
            self._posts[0:0] = newer
            self._keys[0:0] = [-post.id for post in newer]
            self.endInsertRows()
            rows = {row + len(newer) for row in rows}
            self._track_countdowns(newer)
        if context_changed and self._posts:
            # A platform went down or came back, an account was paused or renamed: any row
            # may read differently. The view repaints only what it shows.
            rows = {0, len(self._posts) - 1}
        self._emit_changed(rows)

    def _apply(self, changed: Iterable[DeliverySummary]) -> set[int]:
        rows: set[int] = set()
        for delivery in changed:
            row = self.row_of(delivery.post_id)
            if row is None:
                continue  # not loaded (older than the pages seen, or outside the search)
            post = self._posts[row]
            deliveries = tuple(
                delivery if old.id == delivery.id else old for old in post.deliveries
            )
            if deliveries != post.deliveries:
                self._posts[row] = post._replace(deliveries=deliveries)
                rows.add(row)
                self._track_countdowns([self._posts[row]])
        return rows

    def _load_context(self) -> bool:
        """Accounts and platform health, which chips are worded from; True if they changed."""
        accounts = {a.id: a for a in self._store.accounts()}
        health_by_key = {h.key: h for h in self._store.endpoints()}
        health: dict[str, EndpointHealth] = {}
        for account in accounts.values():
            channel = self._runtime.channels.get(account.channel)
            if channel is not None:
                key = channel.endpoint(account)
                health[account.id] = health_by_key.get(key, EndpointHealth(key))
        changed = accounts != self._accounts or health != self._health
        self._accounts, self._health = accounts, health
        if changed:
            self._chips.clear()
        return changed

    # --- countdowns -----------------------------------------------------------------------------
    def _track_countdowns(self, posts: Iterable[PostSummary]) -> None:
        # By state alone (no chips worded): a waiting copy counts down, or reads "retrying…".
        for post in posts:
            if any(d.state is State.WAITING for d in post.deliveries):
                self._countdowns.add(post.id)
            else:
                self._countdowns.discard(post.id)
        if self._countdowns and not self._timer.isActive():
            self._timer.start()
        elif not self._countdowns:
            self._timer.stop()

    def _on_second(self) -> None:
        rows = {row for pid in self._countdowns if (row := self.row_of(pid)) is not None}
        for row in rows:
            self._chips.pop(self._posts[row].id, None)
        self._emit_changed(rows)

    @property
    def counting_down(self) -> bool:
        """True while some row's words change every second (the timer runs)."""
        return self._timer.isActive()

    def _emit_changed(self, rows: set[int]) -> None:
        if not rows:
            return
        # One signal for the span: the view repaints only the rows it shows.
        top, bottom = self.index(min(rows)), self.index(max(rows))
        self.dataChanged.emit(top, bottom)
