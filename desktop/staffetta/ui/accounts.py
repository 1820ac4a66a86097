"""The Accounts page: every connected account with its state, and adding, testing, reconnecting and
removing accounts.

The list is read from the GUI thread's store (reads only) and rebuilt when the bridge says accounts
or the outbox changed; every change goes through the bridge to the engine thread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QDateTime, QLocale, QSize, Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.errors import StaffettaError
from staffetta.core.model import Account, State
from staffetta.core.store import EndpointHealth
from staffetta.ui.account_dialog import AccountDialog, scaled_font
from staffetta.ui.channel_chooser import ChannelChooser, translated
from staffetta.ui.context import AppContext
from staffetta.ui.icons import channel_icon
from staffetta.ui.sign_in import OpenUrl

T = TypeVar("T")

# Columns of the list.
NAME, HANDLE, CHANNEL, STATUS = range(4)
_ID_ROLE = Qt.ItemDataRole.UserRole + 1
_REFRESH_MS = 100  # outboxChanged comes in bursts during a flush: one rebuild per burst
_UNSENT = tuple(s for s in State if not s.is_final)


@dataclass(frozen=True)
class AccountStatus:
    """What the status column says about one account."""

    kind: str  # "ok", "warning", "reconnect", "down", "unknown_channel"
    text: str
    detail: str = ""


class AccountsPage(QWidget):
    """Connected accounts; ``add_account(group)`` starts adding one ("owned", "social" or all).

    ``open_url`` opens sign-in pages (default: the system browser), on the GUI thread.
    """

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, open_url: OpenUrl | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._open_url = open_url
        self._chooser: ChannelChooser | None = None
        self._dialog: AccountDialog | None = None
        self._confirm: QMessageBox | None = None
        self._busy: set[str] = set()  # accounts with a test or removal in flight
        self._statuses: dict[str, AccountStatus] = {}

        title = QLabel(self.tr("Accounts"), self)
        font = scaled_font(title.font(), 1.4)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel(
            self.tr(
                "Where your posts go. Passwords and tokens are kept in your system keyring, "
                "never in Staffetta's files."
            ),
            self,
        )
        subtitle.setWordWrap(True)

        self.list = QTreeWidget(self)
        self.list.setColumnCount(4)
        self.list.setHeaderLabels(
            [self.tr("Account"), self.tr("Handle"), self.tr("Channel"), self.tr("Status")]
        )
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setIconSize(QSize(24, 24))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAccessibleName(self.tr("Connected accounts"))
        header = self.list.header()
        header.setStretchLastSection(True)
        for column in (NAME, HANDLE, CHANNEL):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.list.itemActivated.connect(self._on_activated)

        self.empty = QLabel(
            self.tr(
                "No accounts yet. Start with a place of your own, such as your site or "
                "newsletter: it stays yours whatever happens to the platforms."
            ),
            self,
        )
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName(self.tr("About the selected account"))
        self.details.hide()

        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAccessibleName(self.tr("Result"))
        self.message.hide()

        self.add_button = QPushButton(self.tr("&Add account…"), self)
        self.test_button = QPushButton(self.tr("&Test connection"), self)
        self.reconnect_button = QPushButton(self.tr("&Reconnect…"), self)
        self.remove_button = QPushButton(self.tr("Re&move…"), self)
        self.add_button.clicked.connect(lambda: self.add_account())
        self.test_button.clicked.connect(lambda: self._with_selected(self.test_connection))
        self.reconnect_button.clicked.connect(lambda: self._with_selected(self.reconnect_account))
        self.remove_button.clicked.connect(lambda: self._with_selected(self.remove_account))
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.reconnect_button)
        buttons.addWidget(self.remove_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(_REFRESH_MS)
        self._refresh_timer.timeout.connect(self._on_changed)
        ctx.bridge.accountsChanged.connect(self._on_changed)
        ctx.bridge.outboxChanged.connect(self._refresh_timer.start)
        ctx.bridge.stopped.connect(self._refresh_timer.stop)
        self.refresh()

    # --- reading --------------------------------------------------------------------------------
    def account_ids(self) -> list[str]:
        """The accounts listed, in order."""
        return [str(item.data(NAME, _ID_ROLE)) for item in self._items()]

    def row_texts(self, account_id: str) -> tuple[str, str, str, str]:
        """What the row of ``account_id`` says: name, handle, channel, status."""
        item = self._item(account_id)
        return (item.text(NAME), item.text(HANDLE), item.text(CHANNEL), item.text(STATUS))

    def select(self, account_id: str) -> None:
        self.list.setCurrentItem(self._item(account_id))

    def selected_id(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(NAME, _ID_ROLE)) if item is not None else None

    def message_text(self) -> str:
        return self.message.text() if not self.message.isHidden() else ""

    def details_text(self) -> str:
        """The full story of the selected account when it needs attention."""
        return self.details.text() if not self.details.isHidden() else ""

    def chooser(self) -> ChannelChooser | None:
        """The channel chooser while it is open."""
        return self._chooser

    def dialog(self) -> AccountDialog | None:
        """The add or reconnect dialog while it is open."""
        return self._dialog

    def confirmation(self) -> QMessageBox | None:
        """The remove confirmation while it is open."""
        return self._confirm

    def status_of(
        self, account: Account, health: dict[str, EndpointHealth], waiting: int = 0
    ) -> AccountStatus:
        """OK, needs reconnecting (with the platform's reason and how many posts wait for it),
        or its platform is down (since when, and the last error)."""
        channel = self._ctx.runtime.channels.get(account.channel)
        if channel is None:
            return AccountStatus(
                "unknown_channel",
                self.tr("Unknown channel"),
                self.tr("This version of Staffetta does not know the channel '{channel}'.").format(
                    channel=account.channel
                ),
            )
        if account.paused_reason:
            if waiting:
                text = self.tr("Needs reconnecting, %n post(s) waiting: {reason}", "", waiting)
            else:
                text = self.tr("Needs reconnecting: {reason}")
            return AccountStatus(
                "reconnect", text.format(reason=account.paused_reason), account.paused_reason
            )
        endpoint = health.get(channel.endpoint(account))
        if endpoint is not None and endpoint.is_down and endpoint.down_since is not None:
            since = QLocale().toString(
                QDateTime.fromSecsSinceEpoch(int(endpoint.down_since)).time(),
                QLocale.FormatType.ShortFormat,
            )
            return AccountStatus(
                "down",
                self.tr("{platform} down since {time}").format(
                    platform=translated(channel.label), time=since
                ),
                endpoint.last_error,
            )
        warning = channel.account_warning(account, self._ctx.runtime.clock.now())
        if warning:  # it works, but needs the user soon (a token about to lapse)
            return AccountStatus("warning", warning, warning)
        return AccountStatus("ok", self.tr("OK"))

    # --- actions --------------------------------------------------------------------------------
    def add_account(self, group: str = "") -> None:
        """Choose a channel (only ``group``'s when given, with a way to see all), then connect."""
        if self._dialog is not None:
            self._dialog.raise_()
            self._dialog.activateWindow()
            return
        if self._chooser is not None:
            self._chooser.close()
        chooser = ChannelChooser(self._ctx.runtime.channels, group, self)
        chooser.chosen.connect(self.open_add_dialog)
        chooser.finished.connect(lambda _result: self._forget_chooser(chooser))
        self._chooser = chooser
        chooser.open()

    def open_add_dialog(self, channel_name: str) -> AccountDialog:
        return self._open_dialog(AccountDialog(self._ctx, channel_name, open_url=self._open_url,
                                               parent=self))  # fmt: skip

    def reconnect_account(self, account_id: str) -> AccountDialog | None:
        account = self._ctx.runtime.store.account(account_id)
        if account is None or account.channel not in self._ctx.runtime.channels:
            return None
        dialog = AccountDialog(
            self._ctx, account.channel, account=account, open_url=self._open_url, parent=self
        )
        return self._open_dialog(dialog)

    def test_connection(self, account_id: str) -> None:
        """Ask the platform whether the account works; the answer shows under the list."""
        account = self._ctx.runtime.store.account(account_id)
        if account is None or account_id in self._busy:
            return
        self._busy.add(account_id)
        self._update_buttons()
        self._show_message(self.tr("Testing {name}…").format(name=account.name))

        def done(handle: str) -> None:
            self._busy.discard(account_id)
            self._update_buttons()
            self._show_message(
                self.tr("{name}: connected as {handle}.").format(name=account.name, handle=handle)
            )

        def failed(error: Exception) -> None:
            self._busy.discard(account_id)
            self._update_buttons()
            self._show_message(
                self.tr("{name}: {problem}").format(name=account.name, problem=_plain(error))
            )

        self._ctx.bridge.submit(
            lambda w: w.runtime.verify_account(w.http, account_id),
            self._guard(done),
            self._guard(failed),
            changes_accounts=True,
        )

    def remove_account(self, account_id: str) -> None:
        """Ask first; then forget the account and delete its keyring entry."""
        account = self._ctx.runtime.store.account(account_id)
        if account is None or self._confirm is not None:
            return
        deliveries = self._ctx.runtime.store.deliveries(states=_UNSENT)
        unsent = sum(1 for d in deliveries if d.account_id == account_id)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Remove account"))
        box.setText(self.tr("Remove {name}?").format(name=account.name))
        details = self.tr(
            "Staffetta forgets this account and deletes its password or token from your system "
            "keyring. What was already published stays where it is."
        )
        if unsent:
            details += " " + self.tr("%n post(s) not yet sent to it will be cancelled.", "", unsent)
        box.setInformativeText(details)
        remove = box.addButton(self.tr("&Remove"), QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)

        def decided(_result: int) -> None:
            self._confirm = None
            if box.clickedButton() is remove:
                self._disconnect(account)
            box.deleteLater()

        box.finished.connect(decided)
        self._confirm = box
        box.open()

    def refresh(self) -> None:
        """Rebuild the list from the store, keeping the selection."""
        self._refresh_timer.stop()
        store = self._ctx.runtime.store
        selected = self.selected_id()
        accounts = store.accounts()
        health = {h.key: h for h in store.endpoints()}
        waiting = Counter(d.account_id for d in store.deliveries(states=[State.NEEDS_RECONNECT]))
        self._statuses = {a.id: self.status_of(a, health, waiting[a.id]) for a in accounts}
        self.list.clear()
        for account in accounts:
            self.list.addTopLevelItem(self._row(account, self._statuses[account.id]))
        self.list.setVisible(bool(accounts))
        self.empty.setVisible(not accounts)
        if selected is not None and selected in self.account_ids():
            self.select(selected)
        elif accounts:
            self.list.setCurrentItem(self._items()[0])
        self._update_buttons()

    # --- internals ------------------------------------------------------------------------------
    def _on_changed(self) -> None:
        # News that arrive after the engine stopped come from a closing app: its store may be gone.
        if self._ctx.bridge.active:
            self.refresh()

    def _row(self, account: Account, status: AccountStatus) -> QTreeWidgetItem:
        channel = self._ctx.runtime.channels.get(account.channel)
        handle = channel.handle(account) if channel is not None else ""
        label = translated(channel.label) if channel is not None else account.channel
        text = status.text
        item = QTreeWidgetItem([account.name, handle, label, text])
        item.setData(NAME, _ID_ROLE, account.id)
        item.setIcon(NAME, channel_icon(account.channel))
        tip = status.detail or status.text
        item.setToolTip(STATUS, tip)
        item.setToolTip(NAME, f"{account.name} ({account.id})")
        if status.kind != "ok":
            bold = QFont(item.font(STATUS))
            bold.setBold(True)
            item.setFont(STATUS, bold)
        item.setData(
            NAME,
            Qt.ItemDataRole.AccessibleTextRole,
            self.tr("{name}, {channel} {handle}, {status}").format(
                name=account.name, channel=label, handle=handle, status=text
            ),
        )
        return item

    def _items(self) -> list[QTreeWidgetItem]:
        rows = (self.list.topLevelItem(row) for row in range(self.list.topLevelItemCount()))
        return [item for item in rows if item is not None]

    def _item(self, account_id: str) -> QTreeWidgetItem:
        for item in self._items():
            if item.data(NAME, _ID_ROLE) == account_id:
                return item
        raise KeyError(account_id)

    def _with_selected(self, action: Callable[[str], object]) -> None:
        account_id = self.selected_id()
        if account_id is not None:
            action(account_id)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        account = self._ctx.runtime.store.account(str(item.data(NAME, _ID_ROLE)))
        if account is not None and account.paused_reason:
            self.reconnect_account(account.id)

    def _update_buttons(self) -> None:
        account_id = self.selected_id()
        account = self._ctx.runtime.store.account(account_id) if account_id else None
        known = account is not None and account.channel in self._ctx.runtime.channels
        idle = account_id is not None and account_id not in self._busy
        self.test_button.setEnabled(known and idle)
        self.reconnect_button.setEnabled(known and idle)
        self.remove_button.setEnabled(account is not None and idle)
        # A paused account's way out is Reconnect: make it the obvious button.
        self.reconnect_button.setDefault(account is not None and bool(account.paused_reason))
        status = self._statuses.get(account_id or "")
        text = self._explain(status) if status is not None else ""
        self.details.setText(text)
        self.details.setVisible(bool(text))

    def _explain(self, status: AccountStatus) -> str:
        if status.kind == "reconnect":
            then = self.tr(
                "Choose Reconnect… to sign in again; the posts waiting for it go out as soon "
                "as it works."
            )
            return f"{status.text}\n{then}"
        if status.kind == "down":
            said = f" ({status.detail})" if status.detail else ""
            then = self.tr("Its posts wait and go out by themselves when it is back.")
            return f"{status.text}{said}\n{then}"
        if status.kind == "unknown_channel":
            return status.detail
        return ""

    def _open_dialog(self, dialog: AccountDialog) -> AccountDialog:
        if self._dialog is not None:
            self._dialog.close()
        dialog.connected.connect(self._on_connected)
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        self._dialog = dialog
        dialog.open()
        return dialog

    def _forget_chooser(self, chooser: ChannelChooser) -> None:
        if self._chooser is chooser:
            self._chooser = None
        chooser.deleteLater()

    def _forget_dialog(self, dialog: AccountDialog) -> None:
        if self._dialog is dialog:
            self._dialog = None
        dialog.deleteLater()

    def _on_connected(self, account: Account) -> None:
        self.refresh()
        if account.id in self.account_ids():
            self.select(account.id)
        channel = self._ctx.runtime.channels.get(account.channel)
        handle = channel.handle(account) if channel is not None else ""
        self._show_message(
            self.tr("{name} is connected as {handle}.").format(name=account.name, handle=handle)
        )

    def _disconnect(self, account: Account) -> None:
        self._busy.add(account.id)
        self._update_buttons()

        def done(_none: object) -> None:
            self._busy.discard(account.id)
            self.refresh()
            self._show_message(
                self.tr("Removed {name}; its keyring entry is deleted.").format(name=account.name)
            )

        def failed(error: Exception) -> None:
            self._busy.discard(account.id)
            self._update_buttons()
            self._show_message(
                self.tr("{name} was not removed: {problem}").format(
                    name=account.name, problem=_plain(error)
                )
            )

        self._ctx.bridge.disconnect_account(account.id, self._guard(done), self._guard(failed))

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _guard(self, callback: Callable[[T], None]) -> Callable[[T], None]:
        """Jobs may answer after the page is gone: then there is nobody to tell."""

        def call(value: T) -> None:
            if shiboken6.isValid(self):
                callback(value)

        return call


def _plain(error: Exception) -> str:
    """Our errors are written for the user; anything else is named only by its kind."""
    if isinstance(error, StaffettaError):
        return str(error)
    return QCoreApplication.translate(
        "AccountsPage", "something unexpected went wrong ({kind})"
    ).format(kind=type(error).__name__)
