"""The row of images attached to a post: thumbnail, alt-text editor, reorder and remove.

The strip holds the post's :class:`~staffetta.core.model.Image` values (already copied into the
drafts' media folder by the composer) in order. Thumbnails are decoded on the composer's background
thread (:func:`read_thumbnail`, a scaled ``QImageReader`` read) and handed back as ``QImage``; the
strip turns them into pixmaps on the GUI thread.

An image without alt text shows a gentle reminder under its editor, never a blocking error: the
previews decide what blocks publishing.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.model import Image
from staffetta.ui.body_editor import mime_images

THUMBNAIL = QSize(160, 120)

# (path, size) -> the thumbnail, delivered later on the GUI thread
ThumbnailLoader = Callable[[str, QSize, Callable[[QImage], None]], None]


def read_thumbnail(path: str, box: QSize = THUMBNAIL) -> QImage:
    """A small image of ``path`` (EXIF rotation applied); a null QImage if it cannot be read.

    Safe on any thread: only QImage/QImageReader are used. Formats that support it (JPEG) decode
    directly at the reduced size.
    """
    from PySide6.QtGui import QImageReader  # with the first image

    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > box.width() or size.height() > box.height()):
        reader.setScaledSize(size.scaled(box, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return image
    if image.width() > box.width() or image.height() > box.height():
        image = image.scaled(
            box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return image


class ImageCard(QFrame):
    """One attached image: its thumbnail, alt editor, move and remove buttons."""

    altChanged = Signal()
    moveRequested = Signal(int)  # -1 left, +1 right
    removeRequested = Signal()

    def __init__(self, image: Image, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = image
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

        self.thumbnail = QLabel(self)
        self.thumbnail.setFixedSize(THUMBNAIL)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setText(self.tr("Loading…"))

        self.alt_edit = QPlainTextEdit(self)
        self.alt_edit.setTabChangesFocus(True)
        self.alt_edit.setPlaceholderText(self.tr("Describe the image for people who can't see it"))
        self.alt_edit.setPlainText(image.alt)
        self.alt_edit.setFixedSize(THUMBNAIL.width() + 40, 64)
        self.alt_edit.textChanged.connect(self._on_alt_changed)

        self.nag = QLabel(self.tr("No description yet"), self)
        self.nag.setWordWrap(True)
        self.nag.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        font = self.nag.font()
        font.setItalic(True)
        self.nag.setFont(font)

        left, right = self.tr("Move left"), self.tr("Move right")
        self.left_button = self._tool("‹", left, lambda: self.moveRequested.emit(-1))
        self.right_button = self._tool("›", right, lambda: self.moveRequested.emit(1))
        self.remove_button = self._tool("✕", self.tr("Remove image"), self.removeRequested.emit)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.left_button)
        buttons.addWidget(self.right_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.thumbnail, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.alt_edit)
        layout.addWidget(self.nag)
        layout.addLayout(buttons)
        self.set_number(number)
        self._update_nag()

    def _tool(self, text: str, name: str, slot: Callable[[], object]) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(name)
        button.setAccessibleName(name)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def set_number(self, number: int, count: int = 0) -> None:
        name = Path(self.image.path).name
        self.thumbnail.setAccessibleName(self.tr("Image {n}").format(n=number))
        self.thumbnail.setToolTip(name)
        self.alt_edit.setAccessibleName(self.tr("Description of image {n}").format(n=number))
        self.left_button.setEnabled(number > 1)
        self.right_button.setEnabled(count == 0 or number < count)

    def set_thumbnail(self, pixmap: QPixmap | None) -> None:
        if pixmap is None or pixmap.isNull():
            self.thumbnail.setText(self.tr("No preview"))
        else:
            self.thumbnail.setPixmap(pixmap)

    def alt(self) -> str:
        return self.alt_edit.toPlainText()

    def current(self) -> Image:
        return dataclasses.replace(self.image, alt=self.alt().strip())

    def _on_alt_changed(self) -> None:
        self._update_nag()
        self.altChanged.emit()

    def _update_nag(self) -> None:
        self.nag.setVisible(not self.alt().strip())


class ImageStrip(QWidget):
    """The post's images, in order. ``changed`` fires when images or their alt texts change."""

    changed = Signal()
    addRequested = Signal()
    filesDropped = Signal(list)
    imagePasted = Signal(QImage)

    def __init__(self, load_thumbnail: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._load_thumbnail = load_thumbnail
        self._thumbnails: dict[str, QPixmap] = {}
        self._cards: list[ImageCard] = []
        self.setAcceptDrops(True)

        self.add_button = QPushButton(self.tr("Add &images…"), self)
        self.add_button.setToolTip(self.tr("Or drop pictures here, or paste one into the text"))
        self.add_button.clicked.connect(self.addRequested.emit)
        self.busy = QLabel(self)
        self.busy.hide()

        self._row = QHBoxLayout()
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.addStretch(1)
        inner = QWidget(self)
        inner.setLayout(self._row)
        self.scroller = QScrollArea(self)
        self.scroller.setWidget(inner)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.hide()

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.add_button)
        header.addWidget(self.busy)
        header.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.scroller)

    # --- contents ------------------------------------------------------------------------------
    def images(self) -> tuple[Image, ...]:
        return tuple(card.current() for card in self._cards)

    def cards(self) -> list[ImageCard]:
        return list(self._cards)

    def set_images(self, images: Sequence[Image]) -> None:
        """Show ``images`` (replacing what is there) without emitting ``changed``."""
        for card in self._cards:
            self._row.removeWidget(card)
            card.deleteLater()
        self._cards = []
        for image in images:
            self._append(image)
        self._renumber()

    def add_image(self, image: Image) -> None:
        self._append(image)
        self._renumber()
        self.changed.emit()

    def replace_image(self, index: int, image: Image) -> None:
        """Put ``image`` (e.g. a resized copy) in place of the one at ``index``, keeping its alt."""
        old = self._cards[index]
        self._row.removeWidget(old)
        old.deleteLater()
        card = self._make_card(image)
        self._cards[index] = card
        self._row.insertWidget(index, card)
        self._renumber()
        self.changed.emit()

    def remove_image(self, index: int) -> None:
        card = self._cards.pop(index)
        self._row.removeWidget(card)
        card.deleteLater()
        self._renumber()
        self.changed.emit()

    def move_image(self, index: int, step: int) -> None:
        target = index + step
        if not (0 <= index < len(self._cards) and 0 <= target < len(self._cards)):
            return
        card = self._cards.pop(index)
        self._cards.insert(target, card)
        self._row.removeWidget(card)
        self._row.insertWidget(target, card)
        self._renumber()
        (card.left_button if step < 0 and target > 0 else card.right_button).setFocus()
        self.changed.emit()

    def focus_first_missing_alt(self) -> bool:
        """Put the cursor in the first empty description; False if every image has one."""
        for card in self._cards:
            if not card.alt().strip():
                self.scroller.ensureWidgetVisible(card)
                card.alt_edit.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
        return False

    def remember_thumbnail(self, path: str, image: QImage) -> None:
        """A thumbnail made elsewhere (while importing), so the card needs no second decode."""
        if not image.isNull():
            self._thumbnails[path] = QPixmap.fromImage(image)

    def set_busy(self, text: str) -> None:
        self.busy.setText(text)
        self.busy.setVisible(bool(text))

    # --- building cards -------------------------------------------------------------------------
    def _append(self, image: Image) -> None:
        card = self._make_card(image)
        self._cards.append(card)
        self._row.insertWidget(len(self._cards) - 1, card)

    def _make_card(self, image: Image) -> ImageCard:
        card = ImageCard(image, len(self._cards) + 1, self)
        card.altChanged.connect(self.changed.emit)
        card.moveRequested.connect(functools.partial(self._move_card, card))
        card.removeRequested.connect(functools.partial(self._remove_card, card))
        cached = self._thumbnails.get(image.path)
        if cached is not None:
            card.set_thumbnail(cached)
        else:
            self._load_thumbnail(image.path, THUMBNAIL, functools.partial(self._got, image.path))
        return card

    def _move_card(self, card: ImageCard, step: int) -> None:
        self.move_image(self._cards.index(card), step)

    def _remove_card(self, card: ImageCard) -> None:
        self.remove_image(self._cards.index(card))

    def _got(self, path: str, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image) if not image.isNull() else QPixmap()
        if not pixmap.isNull():
            self._thumbnails[path] = pixmap
        for card in self._cards:
            if card.image.path == path:
                card.set_thumbnail(pixmap)

    def _renumber(self) -> None:
        count = len(self._cards)
        for number, card in enumerate(self._cards, start=1):
            card.set_number(number, count)
        self.scroller.setVisible(bool(count))

    # --- drops -----------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        files, image = mime_images(event.mimeData())
        if files or image is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files, image = mime_images(event.mimeData())
        if files:
            self.filesDropped.emit(files)
        elif image is not None:
            self.imagePasted.emit(image)
        event.acceptProposedAction()
