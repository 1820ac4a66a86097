"""An inline message above the composer's buttons: what just happened, or what to fix.

Non-modal on purpose: the text stays editable while the message is shown, and an action (Undo,
Open) sits right next to it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QWidget,
)


class MessageBar(QFrame):
    """``show_message(text, error=..., action=(label, callback))``; hidden until used."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Message"))
        self.icon = QLabel(self)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton(self)
        self.action.hide()
        self.action.clicked.connect(self._run_action)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip(self.tr("Dismiss"))
        self.close_button.setAccessibleName(self.tr("Dismiss message"))
        self.close_button.clicked.connect(self.dismiss)
        self._callback: Callable[[], object] | None = None
        self.error = False

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def text(self) -> str:
        return self.label.text() if not self.isHidden() else ""

    def show_message(
        self,
        text: str,
        *,
        error: bool = False,
        action: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        from PySide6.QtWidgets import QStyle  # its ~20 enums: not at start-up (see preview.py)

        self.error = error
        pixmap = (
            QStyle.StandardPixmap.SP_MessageBoxWarning
            if error
            else (QStyle.StandardPixmap.SP_MessageBoxInformation)
        )
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(QSize(20, 20)))
        self.label.setText(text)
        self.setAccessibleDescription(text)
        if action is not None:
            self.action.setText(action[0])
            self._callback = action[1]
            self.action.show()
        else:
            self._callback = None
            self.action.hide()
        self.show()

    def dismiss(self) -> None:
        self._callback = None
        self.hide()

    def _run_action(self) -> None:
        callback = self._callback
        self.dismiss()
        if callback is not None:
            callback()
