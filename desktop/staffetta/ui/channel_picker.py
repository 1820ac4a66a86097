"""Where a post goes: the connected accounts, grouped *owned* and *social*, each with a checkbox.

Owned channels (a site, a newsletter) come first: they are the ones a platform outage cannot take
away. The accounts the user picks become the default for the next post (remembered in QSettings as
JSON, never pickled). Each account has a "Customise" button that gives it its own text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.model import Account, ChannelGroup
from staffetta.ui.context import AppContext
from staffetta.ui.icons import channel_icon

DEFAULTS_KEY = "composer/default_accounts"
ICON = QSize(20, 20)


class AccountRow(QWidget):
    """One account: checkbox with platform icon and name, its handle, and "Customise"."""

    def __init__(
        self, account: Account, label: str, handle: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.account = account
        self.check = QCheckBox(account.name, self)
        self.check.setIcon(channel_icon(account.channel))
        self.check.setIconSize(ICON)
        self.check.setAccessibleName(
            self.tr("{name} on {platform} ({handle})").format(
                name=account.name, platform=label, handle=handle
            )
        )
        self.check.setToolTip(self.tr("{platform}: {handle}").format(platform=label, handle=handle))
        self.handle = QLabel(handle, self)
        self.handle.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.handle.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.note: QLabel | None = None  # a line under the handle, only for rows that need one
        self.customise = QToolButton(self)
        self.customise.setText(self.tr("Customise"))
        self.customise.setToolTip(self.tr("Give this account its own text"))
        self.customise.setAccessibleName(
            self.tr("Customise the text for {name}").format(name=account.name)
        )
        self.customise.setAutoRaise(True)
        self.customise.setCheckable(True)

        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.setSpacing(0)
        text.addWidget(self.check)
        handle_row = QHBoxLayout()
        handle_row.setContentsMargins(ICON.width() + 8, 0, 0, 0)
        handle_row.addWidget(self.handle, 1)
        text.addLayout(handle_row)
        self._text = text
        if account.paused_reason:
            self.show_note(self.tr("Needs reconnecting: posts will wait"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.addLayout(text, 1)
        layout.addWidget(self.customise, 0, Qt.AlignmentFlag.AlignTop)

    def show_note(self, text: str) -> None:
        if self.note is None:
            self.note = QLabel(self)
            self.note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            self._text.addWidget(self.note)
        self.note.setText(text)

    def set_customised(self, customised: bool) -> None:
        self.customise.setChecked(customised)
        self.customise.setText(self.tr("Custom text") if customised else self.tr("Customise"))


class ChannelPicker(QWidget):
    """Checkable accounts, owned first. Signals use account ids."""

    selectionChanged = Signal()
    customiseRequested = Signal(str)
    commonTextRequested = Signal(str)
    addAccountRequested = Signal(str)  # ChannelGroup value, or "" for any

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._rows: dict[str, AccountRow] = {}
        self._known: set[str] | None = None  # ids seen at the last refresh
        self._customised: set[str] = set()
        self._quiet = False

        self.heading = QLabel(self.tr("Publish to"), self)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)

        self._body = QWidget(self)
        self._list = QVBoxLayout(self._body)
        self._list.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidget(self._body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.empty = QLabel(
            self.tr("No accounts yet. Start with your own site or newsletter."), self
        )
        self.empty.setWordWrap(True)
        self.add_button = QPushButton(self.tr("Add an a&ccount…"), self)
        self.add_button.clicked.connect(lambda: self.addAccountRequested.emit(""))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addWidget(self.heading)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.add_button)
        self.refresh()
        ctx.bridge.accountsChanged.connect(self.refresh)

    # --- reading --------------------------------------------------------------------------------
    def accounts(self) -> list[Account]:
        return [row.account for row in self._rows.values()]

    def selected_ids(self) -> list[str]:
        return [aid for aid, row in self._rows.items() if row.check.isChecked()]

    def selected_accounts(self) -> list[Account]:
        return [row.account for row in self._rows.values() if row.check.isChecked()]

    def row(self, account_id: str) -> AccountRow:
        return self._rows[account_id]

    def group_titles(self) -> list[str]:
        """The visible group headings, in order (for tests and accessibility checks)."""
        titles = []
        for index in range(self._list.count()):
            item = self._list.itemAt(index)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QLabel) and widget.property("group"):
                titles.append(widget.text())
        return titles

    def default_ids(self) -> list[str]:
        """The accounts picked last time (that still exist); all accounts the first time."""
        raw = self.ctx.settings.value(DEFAULTS_KEY)
        if isinstance(raw, str):
            try:
                saved = json.loads(raw)
            except json.JSONDecodeError:
                saved = None
            if isinstance(saved, list):
                return [aid for aid in self._rows if aid in saved]
        return list(self._rows)

    # --- changing -------------------------------------------------------------------------------
    def set_selected(self, ids: Iterable[str]) -> None:
        """Tick exactly ``ids`` (unknown ids are ignored) without touching the defaults."""
        wanted = set(ids)
        self._quiet = True
        try:
            for aid, row in self._rows.items():
                row.check.setChecked(aid in wanted)
        finally:
            self._quiet = False
        self._update_buttons()
        self.selectionChanged.emit()

    def set_customised(self, ids: Iterable[str]) -> None:
        self._customised = set(ids)
        for aid, row in self._rows.items():
            row.set_customised(aid in self._customised)

    def refresh(self) -> None:
        """Rebuild from the store, keeping the ticks; newly connected accounts come ticked."""
        selected = set(self.selected_ids())
        accounts = self.ctx.runtime.store.accounts()
        new = {a.id for a in accounts} - self._known if self._known is not None else set()
        self._known = {a.id for a in accounts}
        while self._list.count():
            item = self._list.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self._rows = {}
        channels = self.ctx.runtime.channels
        groups: dict[ChannelGroup, list[Account]] = {g: [] for g in ChannelGroup}
        for account in accounts:
            channel = channels.get(account.channel)
            group = channel.group if channel is not None else ChannelGroup.SOCIAL
            groups[group].append(account)
        for group, members in groups.items():
            if not members:
                continue
            self._list.addWidget(self._group_heading(group))
            for account in members:
                self._add_row(account)
        self._list.addStretch(1)
        self.empty.setVisible(not accounts)
        self._quiet = True
        try:
            for aid, row in self._rows.items():
                row.check.setChecked(aid in selected or aid in new)
                row.set_customised(aid in self._customised)
        finally:
            self._quiet = False
        self._update_buttons()
        self.selectionChanged.emit()

    def _group_heading(self, group: ChannelGroup) -> QLabel:
        if group is ChannelGroup.OWNED:
            text = self.tr("Owned — your site and newsletters")
        else:
            text = self.tr("Social — platforms you post on")
        label = QLabel(text, self._body)
        label.setProperty("group", group.value)
        label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        return label

    def _add_row(self, account: Account) -> None:
        channel = self.ctx.runtime.channels.get(account.channel)
        label = channel.label if channel is not None else account.channel
        handle = channel.handle(account) if channel is not None else account.name
        row = AccountRow(account, label, handle, self._body)
        if channel is None:
            row.check.setEnabled(False)
            row.show_note(
                self.tr("This version of Staffetta does not know {platform}").format(
                    platform=account.channel
                )
            )
        row.check.toggled.connect(self._on_toggled)
        row.customise.clicked.connect(lambda on, aid=account.id: self._on_customise(aid, on))
        self._rows[account.id] = row
        self._list.addWidget(row)

    def _on_customise(self, account_id: str, on: bool) -> None:
        # The button shows state; the composer decides (and calls set_customised back).
        self._rows[account_id].set_customised(account_id in self._customised)
        if on:
            self.customiseRequested.emit(account_id)
        else:
            self.commonTextRequested.emit(account_id)

    def _on_toggled(self, _checked: bool) -> None:
        if self._quiet:
            return
        self._update_buttons()
        self.ctx.settings.setValue(DEFAULTS_KEY, json.dumps(self.selected_ids()))
        self.selectionChanged.emit()

    def _update_buttons(self) -> None:
        for row in self._rows.values():
            row.customise.setEnabled(row.check.isChecked())
