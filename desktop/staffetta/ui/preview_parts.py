"""The pieces a preview card is made of: shared rich-text documents, link card, part and problem
rows (the media grid is in :mod:`staffetta.ui.preview_media`).

Speed matters here: the composer updates every card on every keystroke. Laying out rich text is
the expensive part, so a :class:`DocumentView` does not own its document: it asks the pane's
:class:`DocumentCache` for the one laid out for its HTML at its width, and cards showing the same
text (every Mastodon account, whatever its server) share one layout per keystroke. Drawing that
text is the next most expensive part, so the cache also keeps the last few documents as painted
pictures: a view whose text did not change (a blog's body while the user types further down)
repaints by copying its picture, and views showing the same text share one.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QLinearGradient,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
    QResizeEvent,
    QTextDocument,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.channel import Fix, Problem
from staffetta.ui.preview_text import link_host

# A painted picture: its document's key (HTML, stylesheet, width, font), then the view's height,
# whether the last lines fade out, the palette's key and the device pixel ratio.
_PictureKey = tuple[str, str, int, str, int, bool, int, float]


class DocumentCache:
    """Rich-text documents laid out at a width, shared by every view showing the same HTML, and
    the last few of them painted (see :meth:`picture`)."""

    def __init__(self, capacity: int = 48, picture_bytes: int = 12 << 20) -> None:
        self._capacity = capacity
        self._docs: OrderedDict[tuple[str, str, int, str], QTextDocument] = OrderedDict()
        self._pictures: OrderedDict[_PictureKey, QPixmap] = OrderedDict()
        self._picture_bytes = picture_bytes  # at most this much memory in pictures

    def get(self, html: str, css: str, width: int, font: QFont, font_key: str) -> QTextDocument:
        """The document for ``html`` laid out at ``width`` (``font_key``: ``font.key()``)."""
        key = (html, css, width, font_key)
        doc = self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
            return doc
        if len(self._docs) >= self._capacity:
            # The oldest document takes the new text: a new one, with its stylesheet parsed
            # again, costs a third more (views look documents up by key, none keeps one).
            doc = self._docs.popitem(last=False)[1]
        else:
            doc = QTextDocument()
            doc.setUndoRedoEnabled(False)
            doc.setDocumentMargin(0)
        if doc.defaultFont() != font:
            doc.setDefaultFont(font)
        if doc.defaultStyleSheet() != css:
            doc.setDefaultStyleSheet(css)
        doc.setHtml(html)
        doc.setTextWidth(width)
        self._docs[key] = doc
        return doc

    def picture(self, view: DocumentView, doc: QTextDocument, fade: bool) -> QPixmap:
        """``doc`` as ``view`` shows it (its size, palette and pixel ratio; with ``fade``, the
        last lines fading out), on the palette's base colour: the card's own background, so text
        is antialiased exactly as if drawn on the card. Painted once, then copied."""
        palette = view.palette()
        ratio = view.devicePixelRatioF()
        html, css, width, font_key = view.content_key()
        height = max(1, view.height())
        key = (html, css, width, font_key, height, fade, palette.cacheKey(), ratio)
        pixmap = self._pictures.get(key)
        if pixmap is not None:
            self._pictures.move_to_end(key)
            return pixmap
        pixmap = QPixmap(round(width * ratio), round(height * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(palette.color(QPalette.ColorRole.Base))
        painter = QPainter(pixmap)
        _draw(painter, doc, palette, QRect(0, 0, width, height), QSize(width, height), fade)
        painter.end()
        self._pictures[key] = pixmap
        used = sum(kept.width() * kept.height() * 4 for kept in self._pictures.values())
        while used > self._picture_bytes and len(self._pictures) > 1:
            dropped = self._pictures.popitem(last=False)[1]
            used -= dropped.width() * dropped.height() * 4
        return pixmap

    def clear(self) -> None:
        self._docs.clear()
        self._pictures.clear()


def _draw(
    painter: QPainter, doc: QTextDocument, palette: QPalette, clip: QRect, size: QSize, fade: bool
) -> None:
    """The part ``clip`` of ``doc`` shown in a view of ``size``; with ``fade``, its last lines
    fade into the base colour."""
    painter.setClipRect(clip)
    context = QAbstractTextDocumentLayout.PaintContext()
    context.palette = palette
    context.clip = QRectF(clip)
    doc.documentLayout().draw(painter, context)
    if fade:
        # Fade the last lines into the card so the cut reads as "there is more".
        length = min(48, size.height())
        base = palette.color(QPalette.ColorRole.Base)
        transparent = QColor(base)
        transparent.setAlpha(0)
        gradient = QLinearGradient(0, size.height() - length, 0, size.height())
        gradient.setColorAt(0, transparent)
        gradient.setColorAt(1, base)
        painter.fillRect(0, size.height() - length, size.width(), length, gradient)


class DocumentView(QWidget):
    """Paints a shared document; its height follows its width (and an optional cap)."""

    def __init__(self, documents: DocumentCache | None, parent: QWidget | None = None) -> None:
        """With ``documents`` None the view keeps a document of its own (for short texts that
        differ per card, where building and caching a shared document costs more)."""
        super().__init__(parent)
        self._documents = documents
        self._own: QTextDocument | None = None
        self._own_content = ("", "", "")  # what the own document holds: html, css, font key
        self._plain = False
        # A single paragraph of plain text (a problem's message) is laid out and painted with a
        # QTextLayout: the same lines and pixels as a document, for a third of the time, and it
        # changes on every keystroke past a limit ("612 / 500 characters").
        self._line_layout: tuple[tuple[str, int, str], QTextLayout, int] | None = None
        self._html = ""
        self._layout_html = ""  # what the view is measured with (see set_content)
        self._css = ""
        self._max_height = 0
        self._font_key = self.font().key()
        self._heights: dict[int, int] = {}  # width -> full height, for the current content
        self._estimated: set[int] = set()  # widths answered with an estimate
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        # A shared document is painted as a picture on the base colour that covers the whole
        # view: when its text changes, the card beneath need not be painted again.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, documents is not None)

    def set_content(
        self, html: str, css: str = "", max_height: int = 0, *, layout_html: str = ""
    ) -> bool:
        """Show ``html``; returns False (and does nothing) when it is what is shown already.

        ``layout_html``, for a view of the shared documents, is the same text as ``html`` laid
        out the same way but for its colours: the view is measured with that document, which
        other views share, and ``html``'s own document is only built to be painted.
        """
        layout_html = layout_html or html
        if (html, css, max_height) == (self._html, self._css, self._max_height):
            return False
        laid_out = self.isVisible() and self.testAttribute(Qt.WidgetAttribute.WA_Resized)
        before = self.heightForWidth(self.width()) if laid_out else -1
        if (html, css) != (self._html, self._css):
            self._heights.clear()
        self._html, self._css, self._max_height = html, css, max_height
        self._layout_html = layout_html
        # Most keystrokes change no line count: then only this view repaints, and the pane is
        # spared a layout pass over every card.
        if not laid_out or self.heightForWidth(self.width()) != before:
            self.updateGeometry()
        self.update()
        return True

    def set_plain_text(self, text: str) -> bool:
        """Show ``text`` without markup, in the palette's text colour (own-document views)."""
        self._plain = True
        return self.set_content(text)

    def _simple_layout(self, width: int) -> tuple[QTextLayout, int] | None:
        """The plain text laid out at ``width`` and its height, when it is one paragraph."""
        if not self._plain or self._documents is not None or "\n" in self._html:
            return None
        key = (self._html, width, self._font_key)
        if self._line_layout is None or self._line_layout[0] != key:
            layout = QTextLayout(self._html, self.font())
            option = QTextOption()  # wrapped as a document wraps its text
            option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
            layout.setTextOption(option)
            layout.beginLayout()
            height = 0.0
            while (line := layout.createLine()).isValid():
                line.setLineWidth(width)
                line.setPosition(QPointF(0, height))
                height += line.height()
            layout.endLayout()
            self._line_layout = (key, layout, math.ceil(height))
        return self._line_layout[1], self._line_layout[2]

    def html(self) -> str:
        return self._html

    def document(self) -> QTextDocument:
        """The laid-out document this view paints (for tests and accessibility)."""
        return self._document(self.width())

    def _document(self, width: int) -> QTextDocument:
        width = max(1, width)
        if self._documents is not None:
            return self._documents.get(self._html, self._css, width, self.font(), self._font_key)
        doc = self._own
        if doc is None:
            doc = self._own = QTextDocument(self)
            doc.setUndoRedoEnabled(False)
            doc.setDocumentMargin(0)
        if self._own_content != (self._html, self._css, self._font_key):
            if self._own_content[2] != self._font_key:
                doc.setDefaultFont(self.font())
            self._own_content = (self._html, self._css, self._font_key)
            if self._plain:
                doc.setPlainText(self._html)
            else:
                doc.setDefaultStyleSheet(self._css)
                doc.setHtml(self._html)
        if doc.textWidth() != width:
            doc.setTextWidth(width)
        return doc

    def is_capped(self) -> bool:
        """Whether the text is taller than the cap, so only its start shows."""
        return bool(self._max_height) and self._full_height(self.width()) > self._max_height

    def _full_height(self, width: int) -> int:
        if not self._html:
            return 0
        height = self._heights.get(width)
        if height is None:
            simple = self._simple_layout(max(1, width))
            if simple is not None:
                height = simple[1]
            elif self._documents is not None and self._layout_html != self._html:
                measured = self._documents.get(
                    self._layout_html, self._css, max(1, width), self.font(), self._font_key
                )
                height = math.ceil(measured.size().height())
            else:
                height = math.ceil(self._document(width).size().height())
            if len(self._heights) > 8:
                self._heights.clear()
            self._heights[width] = height
        return height

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._font_key = self.font().key()
            self._heights.clear()
            self.updateGeometry()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        current = self.width()
        if width == current or not self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            height = self._full_height(width)
        else:
            # Layouts also ask about widths the view will not get (a scroll area weighs its
            # content with and without the scroll bar). Laying the text out again for those would
            # double the cost of a keystroke: scale the height at the real width instead, and if
            # the view does get this width, resizeEvent asks for an exact layout pass.
            height = math.ceil(self._full_height(current) * current / max(1, width))
            self._estimated.add(width)
        return min(height, self._max_height) if self._max_height else height

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.width() in self._estimated:
            self._estimated.clear()
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        # Only ever lay out at the width the view really has: another width is another layout.
        width = self.width() if self.width() > 1 else 320
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(60, 0)

    def content_key(self) -> tuple[str, str, int, str]:
        """What the shown document depends on: HTML, stylesheet, width and font."""
        return self._html, self._css, max(1, self.width()), self._font_key

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._html:
            if self._documents is not None:  # opaque: paints every pixel
                painter = QPainter(self)
                painter.fillRect(event.rect(), self.palette().color(QPalette.ColorRole.Base))
                painter.end()
            return
        fade = bool(self._max_height) and self._full_height(self.width()) > self.height()
        simple = None if fade else self._simple_layout(max(1, self.width()))
        painter = QPainter(self)
        if simple is not None:
            painter.setClipRect(event.rect())
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            simple[0].draw(painter, QPointF(0, 0))
            painter.end()
            return
        doc = self.document()
        if self._documents is not None:
            picture = self._documents.picture(self, doc, fade)
            painter.drawPixmap(event.rect(), picture, _device_rect(event.rect(), picture))
        else:
            _draw(painter, doc, self.palette(), event.rect(), self.size(), fade)
        painter.end()


def _device_rect(rect: QRect, pixmap: QPixmap) -> QRect:
    """``rect`` (in the view's coordinates) in ``pixmap``'s device pixels."""
    ratio = pixmap.devicePixelRatio()
    return QRect(
        round(rect.x() * ratio),
        round(rect.y() * ratio),
        round(rect.width() * ratio),
        round(rect.height() * ratio),
    )


class ElidedLabel(QLabel):
    """A one-line label that shows ``…`` instead of growing when its text is too long."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def set_full_text(self, text: str) -> None:
        if text == self._full:
            return
        self._full = text
        self.setToolTip(text)
        self.setAccessibleName(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: object) -> None:
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 10)
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width))

    def minimumSizeHint(self) -> QSize:
        return QSize(10, super().minimumSizeHint().height())


# --- link card -----------------------------------------------------------------------------------


class LinkCard(QFrame):
    """The card a platform builds for a link: its host, and the address shortened its way."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._url = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(2)
        self.host = ElidedLabel(self)
        font = self.host.font()
        font.setBold(True)
        self.host.setFont(font)
        self.address = ElidedLabel(self)
        self.address.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(self.host)
        layout.addWidget(self.address)

    def set_url(self, url: str, shown: str) -> None:
        """Show a card for ``url`` (``shown``: how the platform prints it); "" hides the card."""
        if url == self._url and self.address.full_text() == shown:
            return
        self._url = url
        self.setVisible(bool(url))
        if url:
            self.host.set_full_text(link_host(url))
            self.address.set_full_text(shown)
            self.setAccessibleName(link_host(url))

    def url(self) -> str:
        return self._url


# --- a card's rows ----------------------------------------------------------------------------


class PartBubble(QFrame):
    """One post of a thread (or the only one): "1/3", the text, and that part's count."""

    def __init__(self, documents: DocumentCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.number = QLabel(self)
        self.number.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.text = DocumentView(documents, self)
        self.count = QLabel(self)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.number)
        layout.addWidget(self.text)
        layout.addWidget(self.count)
        self._threaded: bool | None = None

    def set_threaded(self, threaded: bool) -> None:
        if threaded == self._threaded:
            return
        self._threaded = threaded
        self.number.setVisible(threaded)
        self.count.setVisible(threaded)
        self.setFrameShape(QFrame.Shape.StyledPanel if threaded else QFrame.Shape.NoFrame)
        margin = 8 if threaded else 0
        layout = self.layout()
        assert layout is not None
        layout.setContentsMargins(margin, margin // 2, margin, margin // 2)


class ProblemRow(QWidget):
    """A problem's message, and its fix as a button when the channel offers one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.icon = QLabel(self)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        # Not a word-wrapped QLabel: the message changes on every keystroke past the limit, and a
        # QLabel lays its text out again for every size query of every layout pass.
        self.message = DocumentView(None, self)
        self.button = QPushButton(self)
        self.button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        self.problem: Problem | None = None
        self.look: tuple[bool, Fix | None] | None = None  # what the icon and button show


__all__ = [
    "DocumentCache",
    "DocumentView",
    "ElidedLabel",
    "LinkCard",
    "PartBubble",
    "ProblemRow",
]
