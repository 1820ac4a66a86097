"""Translations: complete, compiled from their sources, and really used — by our window, by Qt's
own dialogs, at start-up, and in the .desktop and AppStream files."""

from __future__ import annotations

import configparser
import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from staffetta import APP_ID
from staffetta.core.model import Post
from staffetta.core.paths import Paths
from staffetta.core.schema import SCHEMA_VERSION
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store
from staffetta.ui.app import close_context, open_context
from staffetta.ui.context import AppContext
from staffetta.ui.i18n import install_translators, remove_translators, translations_dir
from staffetta.ui.main_window import MainWindow
from staffetta.ui.preview import PreviewPane

ROOT = Path(__file__).resolve().parents[2]
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen has no window manager


@pytest.fixture
def italian(qapp: QApplication) -> Iterator[None]:
    locale = QLocale()
    translators = install_translators(qapp, "it")
    assert len(translators) == 2  # ours and Qt's
    yield
    remove_translators(qapp, translators)
    QLocale.setDefault(locale)


@pytest.fixture
def ctx(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[AppContext]:
    context = open_context(Paths.under(home), secrets)
    yield context
    close_context(context)


def test_translations_are_complete_and_compiled() -> None:
    """Every string in the code is in the .ts files, Italian has no unfinished entry, and the
    committed .qm files are exactly what lrelease makes of them."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "translations.py"), "check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p.name for p in translations_dir().glob("*.qm")} >= {
        "staffetta_en.qm",
        "staffetta_it.qm",
    }


def test_the_italian_window_speaks_italian(italian: None, ctx: AppContext, qtbot: QtBot) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    assert [menu.title() for menu in window.menus] == ["&File", "&Visualizza", "&Aiuto"]
    pages = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert pages == ["Scrivi", "Posta in uscita", "Account"]
    assert window.new_post_action.text() == "&Nuovo post"
    assert window.quit_action.text() == "&Esci"
    assert QLocale().language() is QLocale.Language.Italian


def test_a_channels_own_counting_unit_is_translated(
    italian: None, ctx: AppContext, qtbot: QtBot
) -> None:
    # X counts in its own way, and the preview says so in the user's language.
    account = ctx.runtime.store.add_account("x", "Me on X", {"handle": "me"})
    pane = PreviewPane(ctx)
    qtbot.addWidget(pane)
    pane.set_post(Post(body="Ciao a tutti"), [account])
    (card,) = pane.cards()
    assert card.count_label.toolTip() == (
        "12 su 280 caratteri (conteggio di X), contati come li conta la piattaforma"
    )


def test_qt_own_dialogs_are_translated_too(italian: None, qtbot: QtBot) -> None:
    box = QMessageBox()
    qtbot.addWidget(box)
    box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
    cancel = box.button(QMessageBox.StandardButton.Cancel)
    assert cancel is not None
    assert cancel.text().replace("&", "") == "Annulla"


def test_a_startup_error_speaks_the_chosen_language(home: Path) -> None:
    (home / "config").mkdir()
    (home / "config" / "settings.ini").write_text("[General]\nlanguage=it\n", encoding="utf-8")
    Store.open(Paths.under(home).database).close()
    conn = sqlite3.connect(Paths.under(home).database)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFETTA_")}
    env.update(STAFFETTA_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "staffetta", "--quit-after-startup"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Staffetta non riesce ad aprire la posta in uscita" in result.stderr


def test_the_desktop_file_is_translated() -> None:
    path = ROOT / "resources" / f"{APP_ID}.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Icon"] == APP_ID
    for key in ("GenericName", "Comment", "Keywords"):
        assert entry[f"{key}[it]"]
        assert entry[f"{key}[it]"] != entry[key]


def test_every_appstream_text_has_an_italian_version() -> None:
    root = ET.parse(ROOT / "resources" / f"{APP_ID}.metainfo.xml").getroot()
    assert root.findtext("id") == APP_ID
    for parent in root.iter():
        for tag in ("summary", "caption", "p", "li", "name"):
            english = [e for e in parent.findall(tag) if XML_LANG not in e.attrib]
            italian = [e for e in parent.findall(tag) if e.get(XML_LANG) == "it"]
            if english and not (tag == "name" and parent is root):  # the name stays Staffetta
                assert len(italian) == len(english), f"<{parent.tag}>/<{tag}> lacks Italian"
