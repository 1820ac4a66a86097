"""The body editor: plain text with links, mentions and hashtags highlighted as the user types.

Highlighting has to keep up with typing in a 5,000-character paragraph, so it does not run the
entity finder over the whole block on every keystroke. Links, mentions and hashtags never contain
whitespace, and every whitespace character is a boundary for all three (checked against
``core.text.entities`` on random texts in the tests), so the block is cut into whitespace-free runs
and each run's entities are remembered: a keystroke re-examines only the run it changed. Runs with
no ``.``, ``:``, ``@`` or ``#`` cannot hold an entity and are skipped outright.

Images pasted or dropped into the editor are not inserted as text: the editor hands them to the
composer (``imagePasted`` for picture data, ``filesDropped`` for local files).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMimeData, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPalette,
    QSyntaxHighlighter,
    QTextDocument,
)
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from staffetta.core.text import SpanKind, entities

if TYPE_CHECKING:
    from PySide6.QtGui import QTextCharFormat

# A whitespace-free run holding one of . : @ # ＃ (anchored at the run's start by the lookbehind):
# only these can hold a link, a mention or a hashtag. Found by the regex engine, not in Python.
_CANDIDATE = re.compile(r"(?<!\S)\S*?[.:@#\uff03]\S*")
_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]")
_CACHE_LIMIT = 8192

Entity = tuple[int, int, SpanKind]  # [start, end) in Python str indices


class RunEntities:
    """Entities of a text, found run by run and remembered per run."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Entity, ...]] = {}

    def find(self, text: str) -> Iterator[Entity]:
        """The same spans as ``core.text.entities(text)``, in order."""
        cache = self._cache
        for match in _CANDIDATE.finditer(text):
            run = match.group()
            found = cache.get(run)
            if found is None:
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                found = tuple((s.start, s.end, s.kind) for s in entities(run))
                cache[run] = found
            offset = match.start()
            for start, end, kind in found:
                yield start + offset, end + offset, kind


class _Utf16:
    """Python ``str`` index -> Qt (UTF-16) position, for texts with astral characters."""

    def __init__(self, text: str) -> None:
        self._astral = [m.start() for m in _ASTRAL.finditer(text)] if not text.isascii() else []

    def __call__(self, index: int) -> int:
        if not self._astral:
            return index
        return index + bisect.bisect_left(self._astral, index)


class EntityHighlighter(QSyntaxHighlighter):
    """Colours links (underlined), mentions and hashtags in the palette's link colour."""

    def __init__(self, document: QTextDocument, palette: QPalette) -> None:
        super().__init__(document)
        self._finder = RunEntities()
        self._palette = palette
        # Made with the first entity: QTextCharFormat's Python enums (~120 text properties) cost
        # the window's start-up ~1 %, and an empty draft has nothing to colour.
        self._formats: dict[SpanKind, QTextCharFormat] = {}
        self.rehighlight()

    def set_palette(self, palette: QPalette) -> None:
        self._palette = palette
        self._formats = {}
        self.rehighlight()

    def format_for(self, kind: SpanKind) -> QTextCharFormat:
        if not self._formats:
            link = self._palette.color(QPalette.ColorRole.Link)
            visited = self._palette.color(QPalette.ColorRole.LinkVisited)
            self._formats = {
                SpanKind.LINK: _format(link, underline=True),
                SpanKind.MENTION: _format(link, bold=True),
                SpanKind.HASHTAG: _format(visited if visited.isValid() else link),
            }
        return self._formats[kind]

    def highlightBlock(self, text: str) -> None:
        if not text:
            return
        utf16 = _Utf16(text)
        for start, end, kind in self._finder.find(text):
            begin = utf16(start)
            self.setFormat(begin, utf16(end) - begin, self.format_for(kind))


def _format(colour: QColor, *, underline: bool = False, bold: bool = False) -> QTextCharFormat:
    from PySide6.QtGui import QTextCharFormat

    fmt = QTextCharFormat()
    fmt.setForeground(colour)
    if underline:
        fmt.setFontUnderline(True)
    if bold:
        fmt.setFontWeight(QFont.Weight.DemiBold)
    return fmt


class BodyEditor(QPlainTextEdit):
    """A plain-text editor for a post body with live entity highlighting.

    Pasted or dropped pictures become ``imagePasted(QImage)``; dropped local files become
    ``filesDropped(list[str])``; neither is inserted as text.
    """

    imagePasted = Signal(QImage)
    filesDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.highlighter = EntityHighlighter(self.document(), self.palette())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.highlighter.set_palette(self.palette())

    # --- pictures instead of text ---------------------------------------------------------------
    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(source.hasImage() or _local_files(source)) or super().canInsertFromMimeData(
            source
        )

    def insertFromMimeData(self, source: QMimeData) -> None:
        files, image = mime_images(source)
        if files:
            self.filesDropped.emit(files)
        elif image is not None:
            self.imagePasted.emit(image)
        else:
            super().insertFromMimeData(source)


def _local_files(source: QMimeData) -> list[str]:
    if not source.hasUrls():
        return []
    return [url.toLocalFile() for url in source.urls() if url.isLocalFile()]


def mime_images(source: QMimeData) -> tuple[list[str], QImage | None]:
    """What a drop or paste carries as pictures: local files, or image data."""
    files = _local_files(source)
    if files:
        return files, None
    if source.hasImage():
        image = source.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return [], image
    return [], None


__all__ = ["BodyEditor", "EntityHighlighter", "RunEntities", "mime_images"]
