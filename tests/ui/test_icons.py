"""Icons render at any size and device pixel ratio: crisp on HiDPI, never a blank square."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from staffetta.ui.icons import app_icon, channel_icon


def _opaque_share(icon_size: int, image_pixels: list[QColor]) -> float:
    return sum(1 for c in image_pixels if c.alpha() > 0) / (icon_size * icon_size)


def test_app_icon_renders_from_its_svg(qtbot: QtBot) -> None:
    image = app_icon().pixmap(QSize(64, 64)).toImage()
    pixels = [image.pixelColor(x, y) for x in range(64) for y in range(64)]
    assert _opaque_share(64, pixels) > 0.5
    assert image.pixelColor(32, 12).name() == "#1e3c8c"  # the blue tile of the SVG


def test_channel_marks_are_drawn_in_the_platform_colour_at_hidpi(qtbot: QtBot) -> None:
    pixmap = channel_icon("mastodon").pixmap(QSize(32, 32), 2.0)
    image = pixmap.toImage()
    assert image.width() == 64  # drawn for the 2x screen, not scaled up
    assert image.pixelColor(6, 32).name() == "#6364ff"
    unknown = channel_icon("carrier_pigeon").pixmap(QSize(16, 16)).toImage()
    assert unknown.pixelColor(2, 8).name() == "#757575"


def test_a_channel_mark_is_drawn_once_per_size(qtbot: QtBot) -> None:
    icon = channel_icon("mastodon")
    first, again = icon.pixmap(QSize(22, 22)), icon.pixmap(QSize(22, 22))
    assert first.cacheKey() == again.cacheKey()  # the same pixels, not drawn twice
    assert icon.pixmap(QSize(44, 44)).size() == QSize(44, 44)
    assert first.toImage().pixelColor(11, 11).alpha() > 0  # really drawn


def test_sidebar_icons_follow_a_palette_change(qtbot: QtBot) -> None:
    from staffetta.ui.main_window import PAGES, _LineIcon

    icon = QIcon(_LineIcon(PAGES[0].icon))
    before = icon.pixmap(QSize(24, 24)).toImage()
    palette = QGuiApplication.palette()
    changed = QPalette(palette)
    changed.setColor(QPalette.ColorRole.WindowText, QColor("#ff0000"))
    QApplication.setPalette(changed)
    try:
        after = icon.pixmap(QSize(24, 24)).toImage()
    finally:
        QApplication.setPalette(palette)
    assert after != before
    pixels = [after.pixelColor(x, y) for x in range(24) for y in range(24)]
    assert any(c.red() > 200 and c.green() < 60 and c.alpha() > 200 for c in pixels)
