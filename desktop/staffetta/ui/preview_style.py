"""The look of the previews: count states readable in light and dark themes, platform accents,
avatars.

Everything else a card draws comes from the palette, so it follows the system's scheme.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPixmap

from staffetta.ui.icons import CHANNEL_MARKS, channel_icon

WARNING_SHARE = 0.9  # the count turns to the warning colour from 90 % of the limit
_MIN_CONTRAST = 3.0  # WCAG's minimum for large text and graphical objects

# Count states and their colours (light theme, dark theme): readable on either background.
OK, WARNING, ERROR = "ok", "warning", "error"
_STATE_COLOURS = {WARNING: ("#9a5b00", "#ffc46b"), ERROR: ("#c62828", "#ff8a80")}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def state_colour(state: str, palette: QPalette) -> QColor:
    """The colour of a count or problem in ``state`` on ``palette``'s background."""
    if state not in _STATE_COLOURS:
        return palette.color(QPalette.ColorRole.PlaceholderText)
    light, dark = _STATE_COLOURS[state]
    return QColor(dark if is_dark(palette) else light)


def count_state(count: int, limit: int) -> str:
    if not limit:
        return OK
    if count > limit:
        return ERROR
    return WARNING if count >= limit * WARNING_SHARE else OK


def _contrast(a: QColor, b: QColor) -> float:
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
        )

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def accent_colour(channel: str, palette: QPalette) -> QColor:
    """The platform's colour for entities, or the palette's link colour where it would not read."""
    base = palette.color(QPalette.ColorRole.Base)
    mark = CHANNEL_MARKS.get(channel)
    if mark is not None:
        colour = QColor(mark[0])
        if _contrast(colour, base) >= _MIN_CONTRAST:
            return colour
    return palette.color(QPalette.ColorRole.Link)


_AVATARS: dict[tuple[str, str, str, float, int], QPixmap] = {}


def draw_avatar(channel: str, initial: str, font: QFont, ratio: float, size: int) -> QPixmap:
    """A round avatar in the platform's colour with the account's initial and the channel's mark.

    (Staffetta never downloads profile pictures: the preview must work offline.) Painted once per
    look: twenty accounts of two channels share a handful of pixmaps.
    """
    key = (channel, initial, font.key(), ratio, size)
    pixmap = _AVATARS.get(key)
    if pixmap is None:
        pixmap = _AVATARS[key] = _paint_avatar(channel, initial, font, ratio, size)
    return pixmap


def _paint_avatar(channel: str, initial: str, font: QFont, ratio: float, size: int) -> QPixmap:
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(CHANNEL_MARKS.get(channel, ("#757575", ""))[0]))
    painter.drawEllipse(QRectF(0, 0, size, size))
    font = QFont(font)
    font.setBold(True)
    font.setPixelSize(size // 2)
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, initial)
    badge = size * 0.42
    channel_icon(channel).paint(painter, QRectF(size - badge, size - badge, badge, badge).toRect())
    painter.end()
    return pixmap
