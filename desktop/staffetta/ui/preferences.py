"""Preferences: the user's choices, where they are kept and their defaults.

Preferences live in ``AppContext.settings`` (an INI file in the config folder, never a secret).
:class:`Preferences` is the one place that knows their keys and defaults, so the tray, the
notifications and the Settings dialog read them the same way. (The dialog's own module, with its
widgets, loads when it first opens.)
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from staffetta.ui.i18n import LANGUAGE_KEY, chosen_language


class Preferences:
    """Typed access to the user's preferences in ``settings``."""

    CLOSE_TO_TRAY = "close_to_tray"
    NOTIFY_SENT = "notify_sent"
    CLOSE_EXPLAINED = "close_to_tray_explained"

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    @property
    def language(self) -> str:
        """``""`` for the system's language, else a language code such as ``"it"``."""
        return chosen_language(self._settings)

    @language.setter
    def language(self, code: str) -> None:
        self._settings.setValue(LANGUAGE_KEY, code)

    @property
    def close_to_tray(self) -> bool:
        """Closing the window keeps delivering from the tray (on unless the user says no)."""
        return self._bool(self.CLOSE_TO_TRAY, default=True)

    @close_to_tray.setter
    def close_to_tray(self, value: bool) -> None:
        self._settings.setValue(self.CLOSE_TO_TRAY, value)

    @property
    def notify_sent(self) -> bool:
        """Also notify routine successes (off: only news the user would want to hear)."""
        return self._bool(self.NOTIFY_SENT, default=False)

    @notify_sent.setter
    def notify_sent(self, value: bool) -> None:
        self._settings.setValue(self.NOTIFY_SENT, value)

    @property
    def close_explained(self) -> bool:
        """The first-time "still running in the tray" message was shown."""
        return self._bool(self.CLOSE_EXPLAINED, default=False)

    @close_explained.setter
    def close_explained(self, value: bool) -> None:
        self._settings.setValue(self.CLOSE_EXPLAINED, value)

    def _bool(self, key: str, *, default: bool) -> bool:
        value = self._settings.value(key, default)
        if isinstance(value, str):  # INI files give strings back
            return value.strip().lower() in ("true", "1", "yes", "on")
        return bool(value)

    def sync(self) -> None:
        self._settings.sync()
