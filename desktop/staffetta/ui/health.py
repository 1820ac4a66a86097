"""The platform-health strip: one indicator per platform in use, for the status bar.

Each indicator is the channel's icon with a coloured dot (green working, amber having trouble,
red down, orange an account needs reconnecting) and a tooltip such as "Mastodon: down since 14:03
· 3 posts waiting · next check in 2 min". It reads the store when the bridge says something
changed (coalesced) and, only while a platform is down, once a second for the countdown.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QWidget

from staffetta.core.describe import Level, PlatformStatus, platforms_in_use
from staffetta.core.errors import StaffettaError
from staffetta.ui.context import AppContext
from staffetta.ui.icons import channel_icon

log = logging.getLogger(__name__)

REFRESH_DELAY_MS = 150
EXTERNAL_POLL_MS = 2000
LEVEL_COLOURS = {
    Level.OK: "#2e9a4a",
    Level.TROUBLE: "#d08a0f",
    Level.DOWN: "#e0392a",
    Level.NEEDS_YOU: "#e07a10",
}
_ICON = 16
_DOT = 8


class PlatformIndicator(QWidget):
    """One platform: its icon, a dot for its health, and a short word when it is not working."""

    clicked = Signal(str)  # endpoint key

    def __init__(self, status: PlatformStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = status
        self.word = ""
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    @property
    def endpoint(self) -> str:
        return self.status.endpoint

    def show_status(self, status: PlatformStatus, tooltip: str, word: str) -> None:
        changed = (status, tooltip, word) != (self.status, self.toolTip(), self.word)
        self.status, self.word = status, word
        if not changed:
            return
        self.setToolTip(tooltip)
        self.setAccessibleName(tooltip)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        width = _ICON + 4
        if self.word:
            width += self.fontMetrics().horizontalAdvance(self.word) + 6
        return QSize(width, max(_ICON + 4, self.fontMetrics().height()))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        top = (self.height() - _ICON) // 2
        channel_icon(self.status.channel).paint(painter, QRect(0, top, _ICON, _ICON))
        # The dot sits on the icon's corner with a ring in the window colour, so it reads on
        # any icon and in light and dark schemes.
        ring = self.palette().color(QPalette.ColorRole.Window)
        dot = QRect(_ICON - _DOT + 3, top + _ICON - _DOT + 2, _DOT, _DOT)
        painter.setPen(ring)
        painter.setBrush(QColor(LEVEL_COLOURS[self.status.level]))
        painter.drawEllipse(dot)
        if self.word:
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            text_rect = QRect(_ICON + 6, 0, self.width() - _ICON - 6, self.height())
            painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter), self.word)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.endpoint)
        super().mouseReleaseEvent(event)


class HealthStrip(QWidget):
    """Indicators for every platform the connected accounts publish to."""

    platformClicked = Signal(str)  # endpoint key: the main window may show the outbox

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 0, 4, 0)
        self._layout.setSpacing(10)
        self._layout.addStretch(1)
        self._indicators: dict[str, PlatformIndicator] = {}
        self._statuses: list[PlatformStatus] = []
        self._order: list[str] = []
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._on_second)
        bridge = ctx.bridge
        for signal in (bridge.outboxChanged, bridge.accountsChanged):
            signal.connect(self.schedule_refresh)
        bridge.platformDown.connect(self._on_platform_event)
        bridge.platformUp.connect(self._on_platform_event)
        # Another process (``staffetta flush``) sends no signal: notice its commits.
        self._data_version = ctx.runtime.store.data_version()
        self._watch = QTimer(self)
        self._watch.setInterval(EXTERNAL_POLL_MS)
        self._watch.timeout.connect(self._check_external)
        self._watch.start()
        self.refresh()

    def indicators(self) -> list[PlatformIndicator]:
        return [self._indicators[s.endpoint] for s in self._statuses]

    def indicator(self, endpoint: str) -> PlatformIndicator:
        return self._indicators[endpoint]

    def schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    @property
    def counting_down(self) -> bool:
        return self._countdown.isActive()

    def refresh(self) -> None:
        """Read accounts, platform health and waiting counts (three short reads) and redraw."""
        store = self.ctx.runtime.store
        try:
            self._statuses = platforms_in_use(
                store.accounts(),
                self.ctx.runtime.channels,
                store.endpoints(),
                store.pending_by_account(),
            )
        except StaffettaError as exc:  # the outbox page says what is wrong; keep what we had
            log.warning("platform health not refreshed: %s", exc)
            return
        order = [s.endpoint for s in self._statuses]
        if order != self._order:  # an account was added or removed: lay the strip out again
            for key, indicator in list(self._indicators.items()):
                self._layout.removeWidget(indicator)
                if key not in order:
                    del self._indicators[key]
                    indicator.deleteLater()
            for position, status in enumerate(self._statuses):
                existing = self._indicators.get(status.endpoint)
                if existing is None:
                    existing = PlatformIndicator(status, self)
                    existing.clicked.connect(self.platformClicked)
                    self._indicators[status.endpoint] = existing
                self._layout.insertWidget(position, existing)
            self._order = order
        self._show()

    def _check_external(self) -> None:
        try:
            version = self.ctx.runtime.store.data_version()
        except StaffettaError:
            return
        if version != self._data_version:
            self._data_version = version
            self.schedule_refresh()

    def _on_platform_event(self, _event: object) -> None:
        self.refresh()  # at once: a platform going down is news worth no delay

    def _on_second(self) -> None:
        # Only the probe times can move without an event (a failed probe says nothing): re-read
        # the small endpoints table, keep the counts.
        try:
            health = {h.key: h for h in self.ctx.runtime.store.endpoints()}
        except StaffettaError as exc:
            log.warning("platform health not refreshed: %s", exc)
            return
        updated = []
        for status in self._statuses:
            h = health.get(status.endpoint)
            if h is not None and h.is_down:
                status = PlatformStatus(
                    status.endpoint,
                    status.channel,
                    status.label,
                    status.waiting,
                    h.down_since,
                    h.next_probe_at,
                    h.failures,
                    h.last_error,
                    status.paused,
                )
            updated.append(status)
        self._statuses = updated
        self._show()

    def _show(self) -> None:
        now = self.ctx.runtime.clock.now()
        for status in self._statuses:
            self._indicators[status.endpoint].show_status(
                status, self.describe(status, now), self._word(status)
            )
        if any(s.level is Level.DOWN for s in self._statuses):
            if not self._countdown.isActive():
                self._countdown.start()
        else:
            self._countdown.stop()

    def describe(self, status: PlatformStatus, now: float) -> str:
        """The tooltip: "Instagram: down since 14:03 · 3 posts waiting · next check in 2 min"."""
        parts: list[str] = []
        level = status.level
        if level is Level.DOWN:  # the outbox's time words, loaded with the first outage
            from staffetta.ui.state_chip import clock_text, rough_duration
        if level is Level.DOWN and status.down_since is not None:
            parts.append(
                self.tr("{platform}: down since {time}").format(
                    platform=status.label, time=clock_text(status.down_since, now)
                )
            )
        elif level is Level.NEEDS_YOU:
            parts.append(
                self.tr("{platform}: {accounts} needs reconnecting").format(
                    platform=status.label, accounts=", ".join(status.paused)
                )
            )
        elif level is Level.TROUBLE:
            parts.append(self.tr("{platform}: having trouble").format(platform=status.label))
        else:
            parts.append(self.tr("{platform}: working").format(platform=status.label))
        if status.waiting:
            parts.append(self.tr("%n post(s) waiting", "", status.waiting))
        if level is Level.DOWN and status.next_check_at is not None:
            left = status.next_check_at - now
            if left > 0.5:
                parts.append(self.tr("next check in {time}").format(time=rough_duration(left)))
            else:
                parts.append(self.tr("checking now"))
        text = " · ".join(parts)
        if level in (Level.DOWN, Level.TROUBLE) and status.last_error:
            text += "\n" + " ".join(status.last_error.split())
        return text

    def _word(self, status: PlatformStatus) -> str:
        if status.level is Level.DOWN:
            return self.tr("down")
        if status.level is Level.NEEDS_YOU:
            return self.tr("reconnect")
        return ""
