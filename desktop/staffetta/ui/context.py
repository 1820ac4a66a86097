"""What every window, page and dialog is given: built once in ``app.main`` and passed down.

No globals: tests build their own ``AppContext`` around a temp ``STAFFETTA_HOME``, an in-memory
keyring and a sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from staffetta.core.paths import Paths
from staffetta.runtime import Runtime
from staffetta.ui.bridge import EngineBridge


@dataclass
class AppContext:
    """``runtime`` is the GUI thread's own: its store is only *read* here (SQLite WAL lets the
    worker write meanwhile) and its channels compute previews. Every write and all network go
    through ``bridge``. ``settings`` holds preferences (never secrets)."""

    runtime: Runtime
    bridge: EngineBridge
    settings: QSettings

    @staticmethod
    def settings_at(runtime: Runtime) -> QSettings:
        """Preferences as an INI file in the config folder, so ``STAFFETTA_HOME`` isolates them."""
        return AppContext.settings_in(runtime.paths)

    @staticmethod
    def settings_in(paths: Paths) -> QSettings:
        """The same preferences before any runtime is open (the language of start-up errors)."""
        return QSettings(str(paths.config / "settings.ini"), QSettings.Format.IniFormat)
