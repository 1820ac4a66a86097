"""The Settings dialog: what the user can change (kept by :class:`Preferences`)."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from staffetta.ui.context import AppContext
from staffetta.ui.i18n import LANGUAGES, language_name
from staffetta.ui.preferences import Preferences

__all__ = ["Preferences", "SettingsDialog"]


class SettingsDialog(QDialog):
    """Language, close-to-tray, notifications, and where the outbox lives (read-only)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._prefs = Preferences(ctx.settings)
        self.setWindowTitle(self.tr("Settings"))
        self.setObjectName("settings_dialog")

        self.language = QComboBox()
        self.language.setAccessibleName(self.tr("Language"))
        for code, _native in LANGUAGES:
            label = (
                self.tr("System default ({language})").format(language=language_name(""))
                if code == ""
                else language_name(code)
            )
            self.language.addItem(label, code)
        index = self.language.findData(self._prefs.language)
        self.language.setCurrentIndex(max(0, index))
        self.language_note = QLabel(self.tr("The new language applies when Staffetta restarts."))
        self.language_note.setWordWrap(True)
        self.language_note.setVisible(False)
        self.language.currentIndexChanged.connect(self._on_language_changed)

        self.close_to_tray = QCheckBox(
            self.tr("&Keep delivering in the background when the window is closed")
        )
        self.close_to_tray.setChecked(self._prefs.close_to_tray)
        self.close_to_tray.setToolTip(
            self.tr(
                "Staffetta stays in the system tray and posts keep going out. "
                "Quit from the tray menu to stop it."
            )
        )
        self.notify_sent = QCheckBox(self.tr("&Notify me about every post that goes out"))
        self.notify_sent.setChecked(self._prefs.notify_sent)
        self.notify_sent.setToolTip(
            self.tr(
                "Without this, Staffetta only tells you when something needs you or when posts "
                "went out after a platform came back."
            )
        )

        folder = str(ctx.runtime.paths.data)
        self.data_folder = QLineEdit(folder)
        self.data_folder.setReadOnly(True)
        self.data_folder.setAccessibleName(self.tr("Data folder"))
        self.data_folder.setToolTip(self.tr("Your outbox, drafts and images live here."))
        self.data_folder.setCursorPosition(0)
        open_folder = QPushButton(self.tr("&Open"))
        open_folder.setAccessibleName(self.tr("Open the data folder"))
        open_folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(folder)))
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_folder, 1)
        folder_row.addWidget(open_folder)

        form = QFormLayout()
        language_label = QLabel(self.tr("&Language:"))
        language_label.setBuddy(self.language)
        form.addRow(language_label, self.language)
        form.addRow("", self.language_note)
        form.addRow(self.close_to_tray)
        form.addRow(self.notify_sent)
        folder_label = QLabel(self.tr("&Data folder:"))
        folder_label.setBuddy(self.data_folder)
        form.addRow(folder_label, folder_row)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def _on_language_changed(self) -> None:
        self.language_note.setVisible(self.language.currentData() != self._prefs.language)

    def accept(self) -> None:
        """Save what the dialog shows; the language applies at the next start."""
        self._prefs.language = str(self.language.currentData())
        self._prefs.close_to_tray = self.close_to_tray.isChecked()
        self._prefs.notify_sent = self.notify_sent.isChecked()
        self._prefs.sync()
        super().accept()
