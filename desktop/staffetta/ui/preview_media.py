"""The media grid of a preview card: up to four thumbnails laid out the way platforms show them.

Thumbnails are decoded once per file version (``ThumbnailCache``), so typing never touches the
image files again; each tile carries an "ALT" badge, or a warning badge when alt text is missing.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QImageReader,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from staffetta.core.model import Image


class ThumbnailCache:
    """Small decoded copies of the post's images, by file version, so typing never re-decodes."""

    def __init__(self, capacity: int = 32) -> None:
        self._capacity = capacity
        self._images: OrderedDict[tuple[str, int, int], QImage] = OrderedDict()

    def get(self, path: str, edge: int = 480) -> QImage:
        """A thumbnail whose longer side is at most ``edge`` pixels; a null image if unreadable."""
        try:
            stat = os.stat(path)
        except OSError:
            return QImage()
        key = (path, stat.st_mtime_ns, stat.st_size)
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
            return image
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > edge:
            reader.setScaledSize(size.scaled(edge, edge, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        self._images[key] = image
        while len(self._images) > self._capacity:
            self._images.popitem(last=False)
        return image


class MediaTile(QWidget):
    """One image of the grid, cropped to fill its cell like the platforms do, with its badge."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._more = 0
        self.setMinimumSize(24, 24)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.badge = QLabel(self)
        self.badge.setAutoFillBackground(True)
        self.badge.setMargin(2)
        font = self.badge.font()
        font.setBold(True)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.8))
        self.badge.setFont(font)

    def set_image(self, image: QImage, badge: str, badge_colours: tuple[QColor, QColor]) -> None:
        self._image = image
        self.badge.setText(badge)
        palette = self.badge.palette()
        palette.setColor(QPalette.ColorRole.Window, badge_colours[0])
        palette.setColor(QPalette.ColorRole.WindowText, badge_colours[1])
        self.badge.setPalette(palette)
        self.badge.adjustSize()
        self._place_badge()
        self.update()

    def set_more(self, more: int) -> None:
        self._more = more
        self.update()

    def resizeEvent(self, event: object) -> None:
        self._place_badge()

    def _place_badge(self) -> None:
        self.badge.move(6, max(0, self.height() - self.badge.height() - 6))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        area = QRectF(self.rect())
        clip = QPainterPath()
        clip.addRoundedRect(area, 6, 6)
        painter.setClipPath(clip)
        painter.fillRect(area, self.palette().color(QPalette.ColorRole.Mid))
        if not self._image.isNull():
            source = _cover(QSize(self._image.width(), self._image.height()), self.size())
            painter.drawImage(area, self._image, source)
        if self._more:
            painter.fillRect(area, QColor(0, 0, 0, 140))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.6)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, f"+{self._more}")
        painter.end()


def _cover(image: QSize, cell: QSize) -> QRectF:
    """The centred part of an image of size ``image`` that fills ``cell`` without distortion."""
    if image.isEmpty() or cell.isEmpty():
        return QRectF(0, 0, image.width(), image.height())
    scale = max(cell.width() / image.width(), cell.height() / image.height())
    width, height = cell.width() / scale, cell.height() / scale
    return QRectF((image.width() - width) / 2, (image.height() - height) / 2, width, height)


# Where each tile goes, as (x, y, width, height) fractions of the box, for 1–4 images, the way
# Mastodon and Bluesky lay out a post's media: one fills the box, two side by side, three as one
# tall on the left and two stacked on the right, four in a 2 x 2 grid.
_GRID: dict[int, tuple[tuple[float, float, float, float], ...]] = {
    1: ((0, 0, 1, 1),),
    2: ((0, 0, 0.5, 1), (0.5, 0, 0.5, 1)),
    3: ((0, 0, 0.5, 1), (0.5, 0, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)),
    4: ((0, 0, 0.5, 0.5), (0.5, 0, 0.5, 0.5), (0, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)),
}
MAX_TILES = 4
_GAP = 4


class MediaGrid(QWidget):
    """Up to four tiles in a 16:9 box; more images show as ``+N`` on the last tile."""

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._images: tuple[Image, ...] = ()
        self._tiles: list[MediaTile] = []
        # Not Fixed: a fixed height is the size hint, taken before the grid knows its width.
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_images(
        self, images: Sequence[Image], alt_badges: tuple[str, str], colours: BadgeColours
    ) -> None:
        """Show ``images``; ``alt_badges`` are the texts for "has alt text" and "has none"."""
        images = tuple(images)
        if images == self._images:
            return
        self._images = images
        shown = images[:MAX_TILES]
        while len(self._tiles) < len(shown):
            self._tiles.append(MediaTile(self))
        for tile in self._tiles[len(shown) :]:
            tile.setVisible(False)
        for tile, image in zip(self._tiles, shown, strict=False):
            has_alt = bool(image.alt.strip())
            tile.set_image(
                self._thumbnails.get(image.path),
                alt_badges[0] if has_alt else alt_badges[1],
                colours.alt if has_alt else colours.missing,
            )
            tile.set_more(0)
            tile.setToolTip(image.alt.strip() or os.path.basename(image.path))
            tile.setAccessibleName(image.alt.strip() or alt_badges[1])
            tile.setVisible(True)
        if len(images) > MAX_TILES:
            self._tiles[MAX_TILES - 1].set_more(len(images) - MAX_TILES + 1)
        self._place_tiles()
        self.setVisible(bool(images))
        self.updateGeometry()

    def tiles(self) -> list[MediaTile]:
        """The tiles shown, in order."""
        return self._tiles[: min(len(self._images), MAX_TILES)]

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place_tiles()

    def _place_tiles(self) -> None:
        count = min(len(self._images), MAX_TILES)
        width, height = self.width(), self.height()
        for tile, (x, y, w, h) in zip(self._tiles, _GRID.get(count, ()), strict=False):
            left, top = round(x * width), round(y * height)
            right, bottom = round((x + w) * width), round((y + h) * height)
            gap_right = _GAP // 2 if x + w < 1 else 0
            gap_bottom = _GAP // 2 if y + h < 1 else 0
            gap_left = _GAP // 2 if x > 0 else 0
            gap_top = _GAP // 2 if y > 0 else 0
            tile.setGeometry(
                left + gap_left,
                top + gap_top,
                right - left - gap_left - gap_right,
                bottom - top - gap_top - gap_bottom,
            )

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return round(width * 9 / 16)

    def sizeHint(self) -> QSize:
        width = self.width() if self.width() > 1 else 320
        return QSize(width, self.heightForWidth(width))


class BadgeColours:
    """Background and text colours of the alt badges (readable on any photo)."""

    alt = (QColor(0, 0, 0, 200), QColor("#ffffff"))
    missing = (QColor("#ffb300"), QColor("#000000"))


BADGE_COLOURS = BadgeColours()
