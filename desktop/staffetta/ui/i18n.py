"""The window's language: the system's (its first preferred language we have), or the user's choice.

Qt Linguist workflow: the sources of the translations are ``resources/translations/*.ts``
(``python scripts/translations.py update`` refreshes them from the code), compiled into
``staffetta/ui/i18n/*.qm`` (package data, ``scripts/translations.py compile``). English is the
source language; its ``.qm`` only carries plural forms ("1 post" / "2 posts").

Qt's own strings (the buttons of standard dialogs, context menus of text fields) come from the
``qtbase_<lang>.qm`` Qt ships, installed alongside ours.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

log = logging.getLogger(__name__)

LANGUAGE_KEY = "language"
SOURCE_LANGUAGE = "en"
# (code, name in that language); "" = follow the system. Native names are never translated.
LANGUAGES: tuple[tuple[str, str], ...] = (("", ""), ("en", "English"), ("it", "Italiano"))
SUPPORTED = tuple(code for code, _ in LANGUAGES if code)


def translations_dir() -> Path:
    """Where the compiled ``staffetta_<lang>.qm`` files are (inside the package)."""
    return Path(str(resources.files("staffetta.ui").joinpath("i18n")))


def chosen_language(settings: QSettings) -> str:
    """The language the user picked in Settings, or ``""`` to follow the system."""
    value = settings.value(LANGUAGE_KEY, "")
    code = str(value or "")
    return code if code in SUPPORTED else ""


def resolve_language(choice: str, system: QLocale | None = None) -> str:
    """The language the window will speak: ``choice`` if set, else the first of the system's
    preferred languages that Staffetta has, else English."""
    if choice in SUPPORTED:
        return choice
    locale = system if system is not None else QLocale.system()
    for tag in locale.uiLanguages():
        primary = tag.replace("_", "-").split("-")[0].lower()
        if primary in SUPPORTED:
            return primary
    return SOURCE_LANGUAGE


def language_name(code: str) -> str:
    """A language's own name; for ``""``, the name of the language the system choice gives."""
    names = dict(LANGUAGES)
    return names[resolve_language(code)] if code == "" else names.get(code, code)


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Load and install Staffetta's and Qt's translators for ``language``; return them (the
    caller keeps them alive for as long as the app runs)."""
    QLocale.setDefault(QLocale(language))
    installed: list[QTranslator] = []
    ours = QTranslator(app)
    if ours.load(f"staffetta_{language}", str(translations_dir())):
        app.installTranslator(ours)
        installed.append(ours)
    else:
        log.warning("no translation file for %s in %s", language, translations_dir())
    if language != SOURCE_LANGUAGE:
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        qt = QTranslator(app)
        if qt.load(f"qtbase_{language}", qt_dir):
            app.installTranslator(qt)
            installed.append(qt)
        else:
            log.info("Qt ships no qtbase translation for %s in %s", language, qt_dir)
    return installed


def remove_translators(app: QCoreApplication, translators: list[QTranslator]) -> None:
    for translator in translators:
        app.removeTranslator(translator)
    translators.clear()
