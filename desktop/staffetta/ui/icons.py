"""Icons: the app's own SVG, and a drawn mark per channel.

Platform logos are trademarks we do not ship; each channel gets a rounded square in a colour close
to its platform's with its initial, drawn at whatever size and device pixel ratio is asked for, so
it stays crisp on HiDPI screens.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

# channel name -> (background colour, mark). Unknown channels get a neutral grey and their initial.
CHANNEL_MARKS: dict[str, tuple[str, str]] = {
    "static_site": ("#2e7d32", "S"),
    "mastodon": ("#6364ff", "M"),
    "bluesky": ("#1185fe", "B"),
    "telegram": ("#229ed9", "T"),
    "discord": ("#5865f2", "D"),
    "wordpress": ("#21759b", "W"),
    "ghost": ("#15171a", "G"),
    "micropub": ("#5b8c3b", "μ"),
    "buttondown": ("#0069ff", "B"),
    "listmonk": ("#0055d4", "L"),
    "smtp": ("#6d4c41", "@"),
    "instagram": ("#d62976", "I"),
    "facebook": ("#0866ff", "f"),
    "threads": ("#000000", "@"),
    "linkedin": ("#0a66c2", "in"),
    "x": ("#000000", "X"),
    "whatsapp": ("#25d366", "W"),
}


def _svg_bytes() -> bytes:
    return resources.files("staffetta.ui").joinpath("assets/staffetta.svg").read_bytes()


@cache
def app_icon() -> QIcon:
    """The Staffetta icon, rendered from its SVG at every size Qt asks for."""
    return QIcon(_SvgEngine(_svg_bytes()))


@cache
def channel_icon(channel: str) -> QIcon:
    colour, mark = CHANNEL_MARKS.get(channel, ("#757575", (channel[:1] or "?").upper()))
    return QIcon(_MarkEngine(QColor(colour), mark))


class PaintedIconEngine(QIconEngine):
    """An icon drawn by :meth:`paint`, at any size. Each pixmap (size, mode, state and
    :meth:`look`) is drawn once and kept: twenty account rows of one channel share one."""

    def __init__(self) -> None:
        super().__init__()
        self._pixmaps: dict[tuple[object, ...], QPixmap] = {}

    def look(self) -> object:
        """What else the drawing depends on (the palette, for icons in the text colour)."""
        return None

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        key = (size.width(), size.height(), mode, state, self.look())
        pixmap = self._pixmaps.get(key)
        if pixmap is None:
            pixmap = QPixmap(size)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            self.paint(painter, pixmap.rect(), mode, state)
            painter.end()
            self._pixmaps[key] = pixmap
        return QPixmap(pixmap)  # shares the pixels until someone paints on it


class _SvgEngine(PaintedIconEngine):
    def __init__(self, svg: bytes) -> None:
        super().__init__()
        self._svg = svg
        self._renderer = QSvgRenderer(QByteArray(svg))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        self._renderer.render(painter, QRectF(rect))

    def clone(self) -> QIconEngine:
        return _SvgEngine(self._svg)


class _MarkEngine(PaintedIconEngine):
    def __init__(self, colour: QColor, mark: str) -> None:
        super().__init__()
        self._colour = colour
        self._mark = mark

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        area = QRectF(rect)
        side = min(area.width(), area.height())
        square = QRectF(0, 0, side, side)
        square.moveCenter(area.center())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        colour = QColor(self._colour)
        if mode == QIcon.Mode.Disabled:
            colour.setAlpha(90)
        painter.setBrush(colour)
        painter.drawRoundedRect(square, side * 0.22, side * 0.22)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(1, int(side * (0.42 if len(self._mark) > 1 else 0.58))))
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(square, Qt.AlignmentFlag.AlignCenter, self._mark)
        painter.restore()

    def clone(self) -> QIconEngine:
        return _MarkEngine(self._colour, self._mark)
