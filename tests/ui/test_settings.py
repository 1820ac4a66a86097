"""The Settings dialog: what it shows, what it saves, and that the choices survive a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from staffetta.core.paths import Paths
from staffetta.core.secrets import SecretStore
from staffetta.ui.app import close_context, open_context
from staffetta.ui.context import AppContext
from staffetta.ui.i18n import chosen_language, resolve_language
from staffetta.ui.settings_dialog import Preferences, SettingsDialog

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen has no window manager


@pytest.fixture
def ctx(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[AppContext]:
    context = open_context(Paths.under(home), secrets)
    yield context
    close_context(context)


def _dialog(ctx: AppContext, qtbot: QtBot) -> SettingsDialog:
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _reopened(ctx: AppContext) -> Preferences:
    """The preferences as the next start of the app reads them from disk."""
    ctx.settings.sync()
    return Preferences(QSettings(ctx.settings.fileName(), QSettings.Format.IniFormat))


def test_defaults_and_the_data_folder(ctx: AppContext, qtbot: QtBot) -> None:
    dialog = _dialog(ctx, qtbot)
    assert dialog.language.currentText().startswith("System default (")
    assert dialog.close_to_tray.isChecked()
    assert not dialog.notify_sent.isChecked()
    assert dialog.data_folder.text() == str(ctx.runtime.paths.data)
    assert dialog.data_folder.isReadOnly()
    assert not dialog.language_note.isVisible()
    languages = [dialog.language.itemText(i) for i in range(dialog.language.count())]
    assert languages[1:] == ["English", "Italiano"]


def test_choices_are_saved_and_survive_a_restart(ctx: AppContext, qtbot: QtBot) -> None:
    dialog = _dialog(ctx, qtbot)
    dialog.language.setCurrentIndex(dialog.language.findText("Italiano"))
    assert dialog.language_note.isVisible()
    assert "restarts" in dialog.language_note.text()
    qtbot.mouseClick(dialog.close_to_tray, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.notify_sent, Qt.MouseButton.LeftButton)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    prefs = _reopened(ctx)
    assert prefs.language == "it"
    assert not prefs.close_to_tray
    assert prefs.notify_sent
    assert resolve_language(chosen_language(ctx.settings)) == "it"
    again = _dialog(ctx, qtbot)
    assert again.language.currentText() == "Italiano"
    assert not again.close_to_tray.isChecked()
    assert again.notify_sent.isChecked()


def test_cancel_changes_nothing(ctx: AppContext, qtbot: QtBot) -> None:
    dialog = _dialog(ctx, qtbot)
    dialog.notify_sent.setChecked(True)
    dialog.language.setCurrentIndex(dialog.language.findText("English"))
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    prefs = _reopened(ctx)
    assert not prefs.notify_sent
    assert prefs.language == ""


def test_the_system_language_is_the_first_preferred_one_we_have() -> None:

    assert resolve_language("", QLocale("it_IT")) == "it"
    assert resolve_language("", QLocale("de_DE")) == "en"  # German is not translated yet
    assert resolve_language("en", QLocale("it_IT")) == "en"  # the user's choice wins
