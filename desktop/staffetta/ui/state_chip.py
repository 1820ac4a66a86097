"""State chips: one per channel of a post, in words, colour and icon.

The words come from :mod:`staffetta.core.describe` (what a state means) and are translated here;
the colours are mid-tones picked to read on light and dark palettes, blended into the palette's
own base colour so a chip never looks pasted on. Painting is cheap: no widgets, no pixmaps
beyond the cached channel icons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QDateTime,
    QLocale,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPixmap

from staffetta.core.describe import Phase, Status, countdown, delivery_status
from staffetta.core.model import Account, State
from staffetta.core.store import DeliverySummary, EndpointHealth
from staffetta.ui.icons import channel_icon

# Mid-tones that keep their meaning on white and on near-black.
PHASE_COLOURS: dict[Phase, str] = {
    Phase.QUEUED: "#3f7fd0",
    Phase.SCHEDULED: "#3f7fd0",
    Phase.SENDING: "#3f7fd0",
    Phase.WAITING: "#d08a0f",
    Phase.RETRYING: "#d08a0f",
    Phase.CHECKING: "#d08a0f",
    Phase.DOWN: "#e0592a",
    Phase.NEEDS_RECONNECT: "#d43c3c",
    Phase.SENT: "#2e9a4a",
    Phase.FAILED: "#d43c3c",
    Phase.UNCONFIRMED: "#9350c8",
    Phase.CANCELLED: "#8a8a8a",
    Phase.YOUR_TURN: "#1d8f8a",
}


@dataclass(frozen=True, slots=True)
class Chip:
    """What one chip shows and what its actions act on."""

    delivery_id: int
    post_id: int
    account_id: str
    account_name: str
    channel: str
    state: State
    status: Status
    words: str  # the state in a few words: "retry in 1:42"

    @property
    def phase(self) -> Phase:
        return self.status.phase

    @property
    def text(self) -> str:
        """What the chip reads: the account and the state."""
        return f"{self.account_name} · {self.words}"


def chip_for(
    delivery: DeliverySummary,
    account: Account | None,
    endpoint: EndpointHealth | None,
    now: float,
) -> Chip:
    status = delivery_status(
        delivery.state,
        now=now,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        remote_url=delivery.remote_url,
        endpoint=endpoint,
        paused_reason=account.paused_reason if account is not None else "",
    )
    return Chip(
        delivery_id=delivery.id,
        post_id=delivery.post_id,
        account_id=delivery.account_id,
        account_name=account.name if account is not None else delivery.account_id,
        channel=account.channel if account is not None else "",
        state=delivery.state,
        status=status,
        words=phase_words(status, now),
    )


def phase_words(status: Status, now: float) -> str:
    """The state in a few words, as a chip says it."""
    phase = status.phase
    if phase is Phase.WAITING:
        return QCoreApplication.translate("StateChip", "retry in {time}").format(
            time=countdown(status.seconds_left(now) or 0.0)
        )
    if phase is Phase.SCHEDULED and status.at is not None:
        return QCoreApplication.translate("StateChip", "scheduled {when}").format(
            when=clock_text(status.at, now)
        )
    if phase is Phase.DOWN:
        if status.since is None:
            return QCoreApplication.translate("StateChip", "waiting for the platform")
        return QCoreApplication.translate("StateChip", "down since {time}").format(
            time=clock_text(status.since, now)
        )
    # Only the words needed are translated: this runs for every chip painted.
    return QCoreApplication.translate("StateChip", _WORDS[phase])


# QT_TRANSLATE_NOOP marks them for lupdate and returns them as they are.
_WORDS = cast(
    dict[Phase, str],
    {
        Phase.QUEUED: QT_TRANSLATE_NOOP("StateChip", "queued"),
        Phase.SCHEDULED: QT_TRANSLATE_NOOP("StateChip", "scheduled"),
        Phase.SENDING: QT_TRANSLATE_NOOP("StateChip", "sending…"),
        Phase.RETRYING: QT_TRANSLATE_NOOP("StateChip", "retrying…"),
        Phase.CHECKING: QT_TRANSLATE_NOOP("StateChip", "checking…"),
        Phase.NEEDS_RECONNECT: QT_TRANSLATE_NOOP("StateChip", "needs reconnect"),
        Phase.SENT: QT_TRANSLATE_NOOP("StateChip", "sent"),
        Phase.FAILED: QT_TRANSLATE_NOOP("StateChip", "failed"),
        Phase.UNCONFIRMED: QT_TRANSLATE_NOOP("StateChip", "unconfirmed"),
        Phase.CANCELLED: QT_TRANSLATE_NOOP("StateChip", "cancelled"),
        Phase.YOUR_TURN: QT_TRANSLATE_NOOP("StateChip", "your turn"),
    },
)


def explanation(chip: Chip, now: float) -> str:
    """A sentence or two for a tooltip or the details panel: what is going on and why."""
    status, reason = chip.status, chip.status.reason
    phase = status.phase
    if phase is Phase.QUEUED:
        text = QCoreApplication.translate(
            "StateChip", "Queued: it goes out as soon as the copies before it have."
        )
    elif phase is Phase.SCHEDULED:
        text = QCoreApplication.translate("StateChip", "Scheduled: it goes out at {when}.").format(
            when=clock_text(status.at or now, now)
        )
    elif phase is Phase.SENDING:
        text = QCoreApplication.translate("StateChip", "Sending now.")
    elif phase is Phase.WAITING:
        text = QCoreApplication.translate(
            "StateChip", "Waiting: the last try did not work; the next one is in {time}."
        ).format(time=countdown(status.seconds_left(now) or 0.0))
    elif phase is Phase.RETRYING:
        text = QCoreApplication.translate("StateChip", "Trying again now.")
    elif phase is Phase.CHECKING:
        text = QCoreApplication.translate(
            "StateChip",
            "Checking with the platform whether the last try went out, before sending again.",
        )
    elif phase is Phase.DOWN and status.since is not None:
        text = QCoreApplication.translate(
            "StateChip",
            "The platform has been down since {time}; this copy goes out when it is back.",
        ).format(time=clock_text(status.since, now))
    elif phase is Phase.DOWN:
        text = QCoreApplication.translate(
            "StateChip", "Waiting for the platform to recover; it goes out by itself."
        )
    elif phase is Phase.NEEDS_RECONNECT:
        text = QCoreApplication.translate(
            "StateChip", "The account needs reconnecting (Accounts page); then it goes out."
        )
    elif phase is Phase.SENT:
        text = (
            QCoreApplication.translate("StateChip", "Sent. Click to open it.")
            if status.url
            else QCoreApplication.translate("StateChip", "Sent.")
        )
    elif phase is Phase.FAILED:
        text = QCoreApplication.translate(
            "StateChip",
            "Failed: the platform refused it. Edit it and queue it again, or cancel it.",
        )
    elif phase is Phase.UNCONFIRMED:
        text = QCoreApplication.translate(
            "StateChip",
            "Unconfirmed: nobody can tell whether it went out. Check the platform, then "
            "tell Staffetta.",
        )
    elif phase is Phase.YOUR_TURN:
        # The engine's reason says the same in the engine's words; these are the window's.
        return QCoreApplication.translate(
            "StateChip",
            "Your turn: this one is posted by you. “Copy & open” puts the text (and the first "
            "image) on the clipboard and opens the app; paste it there, then choose “I posted "
            "it” — or “Skip”. Later posts to this account wait until then.",
        )
    else:
        text = QCoreApplication.translate("StateChip", "Cancelled: it will not be sent.")
    if reason and phase is not Phase.SENT:
        text += "\n" + reason
    return text


def clock_text(epoch: float, now: float, *, seconds: bool = False) -> str:
    """A time as people read it here: "14:03" today, date and time on another day (with
    ``seconds``, the locale's long time format)."""
    when = QDateTime.fromSecsSinceEpoch(int(epoch))
    today = QDateTime.fromSecsSinceEpoch(int(now)).date()
    locale = QLocale()
    length = QLocale.FormatType.LongFormat if seconds else QLocale.FormatType.ShortFormat
    time = locale.toString(when.time(), length)
    if when.date() == today:
        return time
    date_format = locale.dateFormat(QLocale.FormatType.ShortFormat)
    if when.date().year() == today.year():
        # This year's dates without the year, in the locale's order: "21/11", "11/21".
        date_format = _YEAR.sub("", date_format).strip(" ,./-") or date_format
    return f"{locale.toString(when.date(), date_format)} {time}"


_YEAR = re.compile(r"[\s,./-]*y+[\s,./-]*")


def rough_duration(seconds: float) -> str:
    """A wait as people say it: "45 s", "2 min", "3 h" (rounded up, never "0")."""
    seconds = max(1.0, seconds)
    if seconds < 60:
        return QCoreApplication.translate("StateChip", "%n s", None, int(-(-seconds // 1)))
    if seconds < 90 * 60:
        return QCoreApplication.translate("StateChip", "%n min", None, int(-(-seconds // 60)))
    return QCoreApplication.translate("StateChip", "%n h", None, int(-(-seconds // 3600)))


# --- painting -------------------------------------------------------------------------------------

CHIP_PAD = 6
ICON = 14
GAP = 6


def chip_height(metrics: QFontMetrics) -> int:
    return max(ICON, metrics.height()) + 6


def chip_width(metrics: QFontMetrics, chip: Chip, max_width: int = 10_000) -> int:
    # A few pixels of slack: elision must not kick in over a rounding difference.
    natural = CHIP_PAD + ICON + 5 + metrics.horizontalAdvance(chip.text) + 3 + CHIP_PAD
    return min(natural, max_width)


def phase_colour(phase: Phase) -> QColor:
    return QColor(PHASE_COLOURS[phase])


def readable(colour: QColor, palette: QPalette) -> QColor:
    """The colour nudged towards the text colour so it reads on the palette's base."""
    text = palette.color(QPalette.ColorRole.Text)
    return blend(colour, text, 0.35)


def blend(a: QColor, b: QColor, amount: float) -> QColor:
    """``amount`` of ``b`` over ``a``."""
    keep = 1.0 - amount
    return QColor.fromRgbF(
        a.redF() * keep + b.redF() * amount,
        a.greenF() * keep + b.greenF() * amount,
        a.blueF() * keep + b.blueF() * amount,
    )


def paint_chip(
    painter: QPainter,
    rect: QRect,
    chip: Chip,
    palette: QPalette,
    metrics: QFontMetrics,
    *,
    selected: bool = False,
) -> None:
    """One chip in ``rect`` (its width from :func:`chip_width`); the text is elided to fit."""
    colour = phase_colour(chip.phase)
    base = palette.color(QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Base)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    area = QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5)
    painter.setPen(colour)
    painter.setBrush(blend(base, colour, 0.18))
    radius = area.height() / 2
    painter.drawRoundedRect(area, radius, radius)
    icon_rect = QRect(rect.left() + CHIP_PAD, rect.center().y() - ICON // 2 + 1, ICON, ICON)
    channel_icon(chip.channel).paint(painter, icon_rect)
    text_left = icon_rect.right() + 5
    text_rect = QRect(text_left, rect.top(), rect.right() - CHIP_PAD - text_left + 1, rect.height())
    role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
    painter.setPen(palette.color(role))
    # Short of room, the account's name gives way before the state does.
    state = " · " + chip.words
    room = text_rect.width() - metrics.horizontalAdvance(state)
    if metrics.horizontalAdvance(chip.text) <= text_rect.width():
        text = chip.text
    elif room >= metrics.horizontalAdvance("M…"):
        text = metrics.elidedText(chip.account_name, Qt.TextElideMode.ElideRight, room) + state
    else:
        text = metrics.elidedText(chip.words, Qt.TextElideMode.ElideRight, text_rect.width())
    painter.drawText(
        text_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text
    )
    painter.restore()


class ChipPainter:
    """Paints chips from a cache of pixmaps: most rows repeat the same few chips ("Blog · sent"),
    and a pixmap is far cheaper to draw than a rounded, antialiased shape with an icon and
    text. Keyed by everything that changes a chip's look, so a new palette or font (a switch to
    dark mode) or a countdown's new second simply draws new ones."""

    def __init__(self, limit: int = 600) -> None:
        self._limit = limit
        self._pixmaps: dict[tuple[object, ...], QPixmap] = {}

    def paint(
        self,
        painter: QPainter,
        rect: QRect,
        chip: Chip,
        palette: QPalette,
        font: QFont,
        *,
        selected: bool = False,
    ) -> None:
        ratio = painter.device().devicePixelRatioF()
        key = (
            chip.text,
            chip.phase,
            chip.channel,
            selected,
            rect.width(),
            rect.height(),
            ratio,
            palette.cacheKey(),
            font.key(),
        )
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = QPixmap(QSize(round(rect.width() * ratio), round(rect.height() * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            canvas = QPainter(pixmap)
            canvas.setFont(font)
            area = QRect(0, 0, rect.width(), rect.height())
            paint_chip(canvas, area, chip, palette, QFontMetrics(font), selected=selected)
            canvas.end()
            if len(self._pixmaps) >= self._limit:
                self._pixmaps.clear()
            self._pixmaps[key] = pixmap
        painter.drawPixmap(rect.topLeft(), pixmap)
