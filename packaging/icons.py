"""Render the app icon's SVG source into every size each platform needs.

    python packaging/icons.py [OUT]      (default: build/icons)

Writes ``hicolor/<n>x<n>/apps/<APP_ID>.png`` and ``hicolor/scalable/apps/<APP_ID>.svg`` (Linux),
``staffetta.ico`` (Windows: 16–256 px) and ``staffetta.icns`` (macOS: 16–1024 px). Qt's SVG
renderer draws each size from the vector source, so small sizes are not blurry downscales.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from staffetta import APP_ID

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "desktop" / "staffetta" / "ui" / "assets" / "staffetta.svg"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render(renderer: QSvgRenderer, size: int) -> Image.Image:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(data.data()))).convert("RGBA")


def build(out: Path) -> list[Path]:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"icons: cannot read {SOURCE}")
    written: list[Path] = []
    rendered = {size: render(renderer, size) for size in sorted({*HICOLOR_SIZES, *ICNS_SIZES})}
    for size in HICOLOR_SIZES:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        rendered[size].save(target)
        written.append(target)
    scalable = out / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, scalable)
    written.append(scalable)
    ico = out / "staffetta.ico"
    rendered[256].save(ico, sizes=[(s, s) for s in ICO_SIZES])
    icns = out / "staffetta.icns"
    rendered[1024].save(icns, append_images=[rendered[s] for s in ICNS_SIZES[:-1]])
    written += [ico, icns]
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "icons"
    for path in build(target):
        print(path.relative_to(target))
