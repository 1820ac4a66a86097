"""The attempts log of one delivery, for the curious: every try, when, how long, and what happened.

Read from the store (``store.attempts``); it follows the outbox while open, so a retry shows up
as it happens.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.errors import StaffettaError
from staffetta.core.model import State
from staffetta.core.store import Attempt
from staffetta.ui.context import AppContext
from staffetta.ui.state_chip import clock_text

REFRESH_DELAY_MS = 150


def outcome_words(attempt: Attempt, latest: bool, sending: bool) -> str:
    """What an attempt's recorded outcome means, in words."""

    if attempt.finished_at is None:
        # Recorded before the request left and never closed: either in flight right now, or the
        # process stopped mid-way (then the engine reconciles it before sending again).
        return (
            QCoreApplication.translate("DeliveryDialog", "in progress")
            if latest and sending
            else QCoreApplication.translate("DeliveryDialog", "interrupted, outcome unknown")
        )
    words = {
        State.SENT.value: QCoreApplication.translate("DeliveryDialog", "sent"),
        State.WAITING.value: QCoreApplication.translate("DeliveryDialog", "failed, will retry"),
        State.DOWN.value: QCoreApplication.translate("DeliveryDialog", "failed, platform down"),
        State.RECONCILING.value: QCoreApplication.translate(
            "DeliveryDialog", "connection lost, checking"
        ),
        State.NEEDS_RECONNECT.value: QCoreApplication.translate(
            "DeliveryDialog", "sign-in refused"
        ),
        State.FAILED.value: QCoreApplication.translate("DeliveryDialog", "refused by the platform"),
        State.UNCONFIRMED.value: QCoreApplication.translate("DeliveryDialog", "unconfirmed"),
        State.CANCELLED.value: QCoreApplication.translate("DeliveryDialog", "cancelled"),
        State.YOUR_TURN.value: QCoreApplication.translate("DeliveryDialog", "your turn"),
    }
    return words.get(attempt.outcome, attempt.outcome)


class DeliveryDialog(QDialog):
    def __init__(self, ctx: AppContext, delivery_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.delivery_id = delivery_id
        self.setWindowTitle(self.tr("Attempts"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(640, 320)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setHeaderLabels(
            [self.tr("Started"), self.tr("Took"), self.tr("Outcome"), self.tr("Detail")]
        )
        self.table.setAccessibleName(self.tr("Attempts"))
        self.table.setWordWrap(True)
        self.empty = QLabel(self.tr("Not tried yet."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.reload)
        ctx.bridge.outboxChanged.connect(self._timer.start)
        self.reload()

    def reload(self) -> None:
        store, now = self.ctx.runtime.store, self.ctx.runtime.clock.now()
        try:
            delivery = store.delivery(self.delivery_id)
            attempts = store.attempts(self.delivery_id)
        except StaffettaError as exc:
            self.heading.setText(str(exc))
            return
        account = store.account(delivery.account_id)
        name = account.name if account is not None else delivery.account_id
        self.setWindowTitle(self.tr("Attempts — {account}").format(account=name))
        post = store.post(delivery.post_id)
        headline = " ".join((post.title or post.body).split())
        if len(headline) > 80:
            headline = headline[:79] + "…"
        self.heading.setText(
            self.tr("“{post}” to {account}: %n attempt(s).", "", len(attempts)).format(
                post=headline, account=name
            )
        )
        self.table.clear()
        for number, attempt in enumerate(attempts):
            latest = number == len(attempts) - 1
            took = ""
            if attempt.finished_at is not None:
                took = self.tr("{seconds} s").format(
                    seconds=f"{max(0.0, attempt.finished_at - attempt.started_at):.1f}"
                )
            item = QTreeWidgetItem(
                [
                    clock_text(attempt.started_at, now, seconds=True),
                    took,
                    outcome_words(attempt, latest, delivery.state is State.SENDING),
                    " ".join(attempt.detail.split()),
                ]
            )
            item.setToolTip(3, attempt.detail)
            self.table.addTopLevelItem(item)
        for column in range(3):
            self.table.resizeColumnToContents(column)
        self.empty.setVisible(not attempts)
