"""Pick when a post goes out: a date and time in the user's local time zone, in the future."""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

_STEP = 5 * 60  # a new schedule starts on a round five minutes, an hour from now


def _local(epoch: float) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(epoch))  # local time


class ScheduleDialog(QDialog):
    """``chosen()`` is the picked time (epoch seconds), or None when the user cleared the
    schedule. Accepting a time that is not in the future is refused with a message."""

    def __init__(
        self,
        current: float | None,
        now: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._now = now
        self._cleared = False
        self.setWindowTitle(self.tr("Schedule post"))

        start = current if current is not None else _suggestion(now())
        intro = QLabel(self.tr("The post waits in the outbox and goes out at this time:"), self)
        intro.setWordWrap(True)
        self.when = QDateTimeEdit(_local(start), self)
        self.when.setCalendarPopup(True)
        self.when.setMinimumDateTime(_local(now()))
        self.when.setAccessibleName(self.tr("Date and time to publish"))
        intro.setBuddy(self.when)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("&Schedule"))
        self.clear_button: QPushButton | None = None
        if current is not None:
            self.clear_button = self.buttons.addButton(
                self.tr("&Don't schedule"), QDialogButtonBox.ButtonRole.ResetRole
            )
            self.clear_button.clicked.connect(self._clear)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.when)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def chosen(self) -> float | None:
        if self._cleared:
            return None
        return float(self.when.dateTime().toSecsSinceEpoch())

    def accept(self) -> None:
        when = self.chosen()
        if when is not None and when <= self._now():
            self.error.setText(self.tr("Pick a time in the future."))
            self.error.show()
            self.when.setFocus()
            return
        super().accept()

    def _clear(self) -> None:
        self._cleared = True
        super().accept()


def _suggestion(now: float) -> float:
    return math.ceil((now + 3600) / _STEP) * _STEP
