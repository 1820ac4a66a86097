"""The tray icon: how the outbox stands at a glance, and a way to keep delivering without a window.

Its badge and tooltip follow the outbox — all sent, posts on their way, a platform down, or
something that needs the user — read from the store (counts and platform health) after the bridge
says the outbox changed, at most a few times a second however busy the engine is.
"""

from __future__ import annotations

import enum
from typing import NamedTuple
from urllib.parse import urlsplit

from PySide6.QtCore import (
    QCoreApplication,
    QDateTime,
    QLocale,
    QObject,
    QRect,
    QRectF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QIcon, QIconEngine, QPainter
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from staffetta.core.model import State
from staffetta.runtime import Runtime
from staffetta.ui.context import AppContext
from staffetta.ui.icons import PaintedIconEngine, app_icon

REFRESH_MS = 300  # at most ~3 store reads a second while the engine is busy

PENDING = (State.QUEUED, State.SENDING, State.WAITING, State.DOWN, State.RECONCILING)
NEEDS_YOU = (State.NEEDS_RECONNECT, State.FAILED, State.UNCONFIRMED, State.YOUR_TURN)


class TrayState(enum.Enum):
    """What the tray shows, most urgent last."""

    ALL_SENT = "all_sent"
    WAITING = "waiting"
    DOWN = "down"
    NEEDS_YOU = "needs_you"


class OutboxSummary(NamedTuple):
    state: TrayState
    pending: int = 0
    scheduled: int = 0
    needs_you: int = 0
    paused_accounts: int = 0
    down: tuple[tuple[str, float], ...] = ()  # (platform name, down since) per platform


# --- reading the store (the notifications name platforms the same way) ---------------------------
def platform_names(runtime: Runtime) -> dict[str, str]:
    """endpoint -> the name users know it by ("Mastodon"; with the server when several share a
    channel, "Mastodon (mastodon.social)")."""
    by_endpoint: dict[str, str] = {}
    for account in runtime.store.accounts():
        channel = runtime.channels.get(account.channel)
        if channel is not None:  # the channels' names are translated in the "Channels" context
            label = QCoreApplication.translate("Channels", channel.label)
            by_endpoint[channel.endpoint(account)] = label
    labels = list(by_endpoint.values())
    names: dict[str, str] = {}
    for endpoint, label in by_endpoint.items():
        host = urlsplit(endpoint).netloc if "://" in endpoint else ""
        names[endpoint] = f"{label} ({host})" if host and labels.count(label) > 1 else label
    return names


def summarize(runtime: Runtime) -> OutboxSummary:
    """How the outbox stands now (three short reads)."""
    store = runtime.store
    counts = store.counts((*PENDING, *NEEDS_YOU, State.SCHEDULED))
    names = platform_names(runtime)
    down = tuple(
        (names[h.key], h.down_since)
        for h in store.endpoints()
        if h.down_since is not None and h.key in names
    )
    paused = sum(1 for a in store.accounts() if a.paused_reason)
    pending = sum(counts.get(s, 0) for s in PENDING)
    needs = sum(counts.get(s, 0) for s in NEEDS_YOU)
    if needs or paused:
        state = TrayState.NEEDS_YOU
    elif down:
        state = TrayState.DOWN
    elif pending:
        state = TrayState.WAITING
    else:
        state = TrayState.ALL_SENT
    return OutboxSummary(state, pending, counts.get(State.SCHEDULED, 0), needs, paused, down)


# --- the icon -----------------------------------------------------------------------------------
_BADGES: dict[TrayState, tuple[str, str]] = {
    TrayState.WAITING: ("#1e88e5", "…"),
    TrayState.DOWN: ("#f9a825", "!"),
    TrayState.NEEDS_YOU: ("#d32f2f", "!"),
}


class _BadgedEngine(PaintedIconEngine):
    """The app icon with a coloured dot in its corner, drawn at whatever size is asked for."""

    def __init__(self, colour: QColor, mark: str) -> None:
        super().__init__()
        self._colour = colour
        self._mark = mark

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        app_icon().paint(painter, rect)
        side = min(rect.width(), rect.height())
        badge = QRectF(0, 0, side * 0.55, side * 0.55)
        badge.moveBottomRight(QRectF(rect).bottomRight())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#ffffff"))
        painter.drawEllipse(badge)
        painter.setBrush(self._colour)
        inset = badge.width() * 0.1
        painter.drawEllipse(badge.adjusted(inset, inset, -inset, -inset))
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(1, int(badge.height() * 0.62)))
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, self._mark)
        painter.restore()

    def clone(self) -> QIconEngine:
        return _BadgedEngine(self._colour, self._mark)


def tray_icon(state: TrayState) -> QIcon:
    if state not in _BADGES:
        return app_icon()
    colour, mark = _BADGES[state]
    return QIcon(_BadgedEngine(QColor(colour), mark))


# --- the tray -----------------------------------------------------------------------------------
class Tray(QObject):
    """The system tray entry. ``available`` is False where the desktop has no tray: then the
    icon is never shown and closing the window quits (see ``MainWindow``)."""

    summaryChanged = Signal(object)  # OutboxSummary
    openRequested = Signal()
    newPostRequested = Signal()
    quitRequested = Signal()

    def __init__(
        self, ctx: AppContext, *, available: bool | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.available = QSystemTrayIcon.isSystemTrayAvailable() if available is None else available
        self.summary = OutboxSummary(TrayState.ALL_SENT)
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.menu = QMenu()
        self.open_action = QAction(self.tr("&Open Staffetta"), self)
        self.new_post_action = QAction(self.tr("&New post"), self)
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.open_action.triggered.connect(self.openRequested)
        self.new_post_action.triggered.connect(self.newPostRequested)
        self.quit_action.triggered.connect(self.quitRequested)
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.new_post_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.icon.messageClicked.connect(self.openRequested)

        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self.refresh)
        ctx.bridge.outboxChanged.connect(self.schedule_refresh)
        ctx.bridge.accountsChanged.connect(self.schedule_refresh)
        self.refresh()
        if self.available:
            self.icon.show()

    def schedule_refresh(self) -> None:
        """Refresh soon; many changes in a row make one refresh (a throttle, not a debounce, so
        a long flush still updates the tray as it goes)."""
        if not self._refresh.isActive():
            self._refresh.start()

    def refresh(self) -> None:
        if not self._ctx.bridge.active:  # news after the engine stopped: the app is closing
            return
        self.summary = summarize(self._ctx.runtime)
        self.icon.setIcon(tray_icon(self.summary.state))
        self.icon.setToolTip(self.tooltip(self.summary))
        self.summaryChanged.emit(self.summary)

    def tooltip(self, summary: OutboxSummary) -> str:
        lines = ["Staffetta"]
        if summary.needs_you:
            lines.append(self.tr("%n post(s) need you", "", summary.needs_you))
        if summary.paused_accounts:
            lines.append(self.tr("%n account(s) to reconnect", "", summary.paused_accounts))
        for name, since in summary.down:
            when = QLocale().toString(
                QDateTime.fromSecsSinceEpoch(int(since)).time(), QLocale.FormatType.ShortFormat
            )
            lines.append(
                self.tr("{platform} is down since {time}").format(platform=name, time=when)
            )
        if summary.pending:
            lines.append(self.tr("%n post(s) on their way", "", summary.pending))
        if summary.scheduled:
            lines.append(self.tr("%n post(s) scheduled", "", summary.scheduled))
        if len(lines) == 1:
            lines.append(self.tr("Everything has been sent"))
        return "\n".join(lines)

    def show_message(self, title: str, message: str) -> None:
        if self.available:
            self.icon.showMessage(title, message, app_icon(), 10_000)

    def hide(self) -> None:
        self.icon.hide()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.openRequested.emit()
