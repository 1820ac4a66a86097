"""The outbox's details panel: the selected post and, per channel, its state, reason and actions.

Real widgets (labels, buttons) rather than painted chips, so everything here is reachable with the
keyboard and readable by a screen reader.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.describe import Action, actions_for
from staffetta.core.store import PostSummary
from staffetta.ui.icons import channel_icon
from staffetta.ui.state_chip import Chip, clock_text, explanation, phase_colour


def action_text(action: Action) -> tuple[str, str]:
    """A button's or menu item's text (with its mnemonic) and its tooltip."""
    texts = {
        Action.OPEN: (
            QCoreApplication.translate("DeliveryActions", "&Open post"),
            QCoreApplication.translate("DeliveryActions", "Open the published post in the browser"),
        ),
        Action.WENT_OUT: (
            QCoreApplication.translate("DeliveryActions", "It &went out"),
            QCoreApplication.translate(
                "DeliveryActions", "It is on the platform: mark it sent, never send it again"
            ),
        ),
        Action.SEND_AGAIN: (
            QCoreApplication.translate("DeliveryActions", "&Send again"),
            QCoreApplication.translate(
                "DeliveryActions", "It is not on the platform: send it again now"
            ),
        ),
        Action.COPY_AND_OPEN: (
            QCoreApplication.translate("DeliveryActions", "Copy && &open"),
            QCoreApplication.translate(
                "DeliveryActions",
                "Put the text (and the first image) on the clipboard and open the app to paste it",
            ),
        ),
        Action.POSTED: (
            QCoreApplication.translate("DeliveryActions", "I &posted it"),
            QCoreApplication.translate(
                "DeliveryActions", "You posted it yourself: mark it sent; the next posts follow"
            ),
        ),
        Action.SKIP: (
            QCoreApplication.translate("DeliveryActions", "S&kip"),
            QCoreApplication.translate(
                "DeliveryActions", "You will not post this one: the next posts follow"
            ),
        ),
        Action.RETRY_NOW: (
            QCoreApplication.translate("DeliveryActions", "&Retry now"),
            QCoreApplication.translate("DeliveryActions", "Try this copy again right now"),
        ),
        Action.EDIT: (
            QCoreApplication.translate("DeliveryActions", "&Edit and requeue…"),
            QCoreApplication.translate(
                "DeliveryActions", "Open its text in the composer; publishing it queues a new copy"
            ),
        ),
        Action.CANCEL: (
            QCoreApplication.translate("DeliveryActions", "&Cancel"),
            QCoreApplication.translate(
                "DeliveryActions", "Stop this copy: it will not be sent to this account"
            ),
        ),
    }
    return texts[action]


def attempts_text() -> tuple[str, str]:
    return QCoreApplication.translate("DeliveryActions", "&Attempts…"), QCoreApplication.translate(
        "DeliveryActions", "Every try for this copy: when, and what happened"
    )


class _Dot(QWidget):
    """A small dot in a chip's colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colour = QColor("#8a8a8a")
        self.setFixedSize(QSize(10, 10))

    def set_colour(self, colour: QColor) -> None:
        if colour != self._colour:
            self._colour = colour
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._colour)
        painter.drawEllipse(self.rect().adjusted(1, 1, -1, -1))


class DeliveryRow(QFrame):
    """One channel of the selected post: who, how it stands, why, and what can be done."""

    actionTriggered = Signal(int, str)  # delivery id, core.describe.Action value
    attemptsRequested = Signal(int)  # delivery id

    def __init__(self, chip: Chip, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.delivery_id = chip.delivery_id
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        header = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(channel_icon(chip.channel).pixmap(QSize(18, 18), self.devicePixelRatioF()))
        self.name = QLabel(chip.account_name)
        font = self.name.font()
        font.setBold(True)
        self.name.setFont(font)
        self.dot = _Dot()
        self.state = QLabel()
        header.addWidget(icon)
        header.addWidget(self.name)
        header.addStretch(1)
        header.addWidget(self.dot)
        header.addWidget(self.state)
        text, tip = attempts_text()
        self.attempts = QPushButton(text)
        self.attempts.setFlat(True)
        self.attempts.setToolTip(tip)
        self.attempts.clicked.connect(lambda: self.attemptsRequested.emit(self.delivery_id))
        header.addWidget(self.attempts)
        layout.addLayout(header)
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.reason)
        buttons = QHBoxLayout()
        self.buttons: dict[Action, QPushButton] = {}
        order = (
            Action.COPY_AND_OPEN,
            Action.POSTED,
            Action.SKIP,
            Action.OPEN,
            Action.WENT_OUT,
            Action.SEND_AGAIN,
            Action.RETRY_NOW,
        )
        for action in (*order, Action.EDIT, Action.CANCEL):  # as actions_for offers them
            text, tip = action_text(action)
            button = QPushButton(text)
            button.setToolTip(tip)
            button.setAccessibleDescription(tip)
            button.clicked.connect(lambda _=False, a=action: self._trigger(a))
            buttons.addWidget(button)
            self.buttons[action] = button
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self._chip = chip

    @property
    def chip(self) -> Chip:
        return self._chip

    def show_chip(self, chip: Chip, now: float) -> None:
        self._chip = chip
        self.name.setText(chip.account_name)
        self.state.setText(chip.words)
        self.dot.set_colour(phase_colour(chip.phase))
        text = explanation(chip, now)
        self.reason.setText(text)
        self.setAccessibleName(f"{chip.text}. {text}")
        allowed = set(actions_for(chip.state, chip.status.url))
        for action, button in self.buttons.items():
            button.setVisible(action in allowed)
            button.setAccessibleName(f"{button.text().replace('&', '')} — {chip.account_name}")

    def _trigger(self, action: Action) -> None:
        self.actionTriggered.emit(self.delivery_id, action.value)


class DetailsPanel(QScrollArea):
    """The selected post. ``show_post(None, [], now)`` shows the hint for an empty selection."""

    actionTriggered = Signal(int, str)  # delivery id, Action value
    attemptsRequested = Signal(int)  # delivery id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self.title = QLabel()
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.meta = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self._layout.addWidget(self.title)
        self._layout.addWidget(self.meta)
        self._layout.addWidget(self.text)
        self._rows_box = QVBoxLayout()
        self._layout.addLayout(self._rows_box)
        self._layout.addStretch(1)
        self.setWidget(body)
        self.rows: list[DeliveryRow] = []
        self.post_id: int | None = None
        self.show_post(None, [], 0.0)

    def show_post(self, post: PostSummary | None, chips: list[Chip], now: float) -> None:
        self.post_id = post.id if post is not None else None
        if post is None:
            self.title.setText(self.tr("Select a post to see how each copy is doing."))
            self.meta.clear()
            self.text.clear()
        else:
            self.title.setText(post.title.strip() or self.tr("Post"))
            meta = self.tr("Written {when}").format(when=clock_text(post.created_at, now))
            if post.scheduled_at is not None:
                scheduled = clock_text(post.scheduled_at, now)
                meta += " · " + self.tr("scheduled for {when}").format(when=scheduled)
            self.meta.setText(meta)
            self.text.setText(post.excerpt.strip())
        ids = [chip.delivery_id for chip in chips]
        if ids != [row.delivery_id for row in self.rows]:
            self._rebuild(chips)
        for row, chip in zip(self.rows, chips, strict=True):
            row.show_chip(chip, now)

    def focus_first_action(self) -> bool:
        for row in self.rows:
            for button in [*row.buttons.values(), row.attempts]:
                if button.isVisibleTo(self):
                    button.setFocus(Qt.FocusReason.OtherFocusReason)
                    self.ensureWidgetVisible(button)
                    return True
        return False

    def row(self, delivery_id: int) -> DeliveryRow:
        return next(row for row in self.rows if row.delivery_id == delivery_id)

    def _rebuild(self, chips: list[Chip]) -> None:
        for row in self.rows:
            self._rows_box.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for chip in chips:
            row = DeliveryRow(chip, self)
            row.actionTriggered.connect(self.actionTriggered)
            row.attemptsRequested.connect(self.attemptsRequested)
            self._rows_box.addWidget(row)
            row.show()  # now, not when the layout gets round to it: it is what the user reads
            self.rows.append(row)
