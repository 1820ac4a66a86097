"""Pick the kind of account to add: every registered channel, grouped owned first, each with one
line that says what connecting it takes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.channel import Channel
from staffetta.core.model import ChannelGroup
from staffetta.ui.icons import channel_icon

_NAME_ROLE = Qt.ItemDataRole.UserRole + 1


def translated(text: str) -> str:
    """A channel's own English text (labels, help), translated where a translation exists."""
    return QCoreApplication.translate("Channels", text) if text else text


def group_title(group: ChannelGroup | str) -> str:
    if group == ChannelGroup.OWNED:
        return QCoreApplication.translate(
            "ChannelChooser", "Your own channels: site, blog, newsletter"
        )
    if group == ChannelGroup.SOCIAL:
        return QCoreApplication.translate("ChannelChooser", "Social networks")
    return str(group).replace("_", " ").capitalize()


def describe(channel: Channel) -> str:
    """One line for the chooser: the channel's own description if it has one, else what connecting
    it takes, read from its fields."""
    own = getattr(channel, "description", "")
    if isinstance(own, str) and own:
        return translated(own)
    if not channel.needs_network:
        return QCoreApplication.translate(
            "ChannelChooser", "A folder on this computer. No account and no internet needed."
        )
    if channel.browser_sign_in:
        return QCoreApplication.translate("ChannelChooser", "Sign in with your browser.")
    secrets = [f.label for f in channel.fields if f.secret]
    if secrets:
        return QCoreApplication.translate("ChannelChooser", "Connect with your {what}.").format(
            what=_lower_first(translated(secrets[0]))
        )
    return QCoreApplication.translate("ChannelChooser", "Connect with the address of your account.")


def _lower_first(text: str) -> str:
    # "Access token" -> "access token", but "API key" stays as it is.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def grouped(channels: Iterable[Channel]) -> list[tuple[ChannelGroup, list[Channel]]]:
    """Channels by group, owned first, each group in label order."""
    order = {ChannelGroup.OWNED: 0, ChannelGroup.SOCIAL: 1}
    groups: dict[ChannelGroup, list[Channel]] = {}
    for channel in channels:
        groups.setdefault(channel.group, []).append(channel)
    return [
        (group, sorted(members, key=lambda c: c.label.casefold()))
        for group, members in sorted(groups.items(), key=lambda g: (order.get(g[0], 9), g[0]))
    ]


class ChannelChooser(QDialog):
    """``chosen(channel_name)`` when the user picks a channel and continues."""

    chosen = Signal(str)

    def __init__(
        self, channels: Mapping[str, Channel], group: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._channels = channels
        self._group = group
        self.setWindowTitle(self.tr("Add an account"))
        self.setMinimumSize(460, 420)

        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setIconSize(QSize(32, 32))
        self.list.setSpacing(2)
        self.list.setWordWrap(True)
        self.list.setAccessibleName(self.tr("Channels"))
        self.show_all = QPushButton(self.tr("Show &all channels"), self)
        self.show_all.clicked.connect(self._on_show_all)

        self.buttons = QDialogButtonBox(self)
        self.continue_button = self.buttons.addButton(
            self.tr("&Continue…"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_accept)
        self.buttons.rejected.connect(self.reject)
        self.list.itemActivated.connect(lambda _item: self._on_accept())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.show_all, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.buttons)
        self._fill()

    def channel_names(self) -> list[str]:
        """The channels offered, in the order shown."""
        names = []
        for row in range(self.list.count()):
            name = self.list.item(row).data(_NAME_ROLE)
            if name:
                names.append(str(name))
        return names

    def select(self, channel_name: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(_NAME_ROLE) == channel_name:
                self.list.setCurrentRow(row)
                return
        raise KeyError(channel_name)

    # --- internals ------------------------------------------------------------------------------
    def _fill(self) -> None:
        self.list.clear()
        wanted = [c for c in self._channels.values() if not self._group or c.group == self._group]
        if not wanted:  # an unknown group: better all channels than an empty list
            self._group = ""
            wanted = list(self._channels.values())
        self.show_all.setVisible(bool(self._group))
        if self._group == ChannelGroup.OWNED:
            self.intro.setText(
                self.tr(
                    "A place of your own keeps your readers when a platform goes down. "
                    "Choose your site, blog or newsletter:"
                )
            )
        else:
            self.intro.setText(self.tr("Where do you want to publish? Choose a channel:"))
        heading_font = QFont(self.font())
        heading_font.setBold(True)
        for group, members in grouped(wanted):
            heading = QListWidgetItem(group_title(group))
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading: readable, not a choice
            heading.setFont(heading_font)
            heading.setData(Qt.ItemDataRole.AccessibleTextRole, group_title(group))
            self.list.addItem(heading)
            for channel in members:
                label, line = translated(channel.label), describe(channel)
                item = QListWidgetItem(channel_icon(channel.name), f"{label}\n{line}")
                item.setData(_NAME_ROLE, channel.name)
                item.setToolTip(line)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, label)
                item.setData(Qt.ItemDataRole.AccessibleDescriptionRole, line)
                self.list.addItem(item)
        first = next(
            (r for r in range(self.list.count()) if self.list.item(r).data(_NAME_ROLE)), -1
        )
        self.list.setCurrentRow(first)
        self._update_buttons()

    def _on_show_all(self) -> None:
        self._group = ""
        self._fill()

    def _update_buttons(self) -> None:
        item = self.list.currentItem()
        self.continue_button.setEnabled(item is not None and bool(item.data(_NAME_ROLE)))

    def _on_accept(self) -> None:
        item = self.list.currentItem()
        name = item.data(_NAME_ROLE) if item is not None else None
        if not name:
            return
        self.accept()
        self.chosen.emit(str(name))
