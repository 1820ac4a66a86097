"""Every path the app uses, in one place.

``STAFFETTA_HOME`` overrides them all (portable mode, tests): data, config, cache and logs then
live below that one folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import platformdirs

APP_NAME = "Staffetta"
APP_AUTHOR = "Staffetta"
HOME_ENV = "STAFFETTA_HOME"


class Paths(NamedTuple):
    data: Path
    config: Path
    cache: Path
    logs: Path

    @property
    def database(self) -> Path:
        return self.data / "outbox.sqlite3"

    @property
    def media(self) -> Path:
        return self.data / "media"

    @property
    def drafts(self) -> Path:
        return self.data / "drafts"

    @classmethod
    def under(cls, home: Path) -> Paths:
        return cls(
            data=home / "data", config=home / "config", cache=home / "cache", logs=home / "logs"
        )

    @classmethod
    def default(cls) -> Paths:
        home = os.environ.get(HOME_ENV)
        if home:
            return cls.under(Path(home).expanduser())
        dirs = platformdirs.PlatformDirs(APP_NAME, APP_AUTHOR)
        return cls(
            data=Path(dirs.user_data_dir),
            config=Path(dirs.user_config_dir),
            cache=Path(dirs.user_cache_dir),
            logs=Path(dirs.user_log_dir),
        )

    def ensure(self) -> Paths:
        for folder in (self.data, self.config, self.cache, self.logs, self.media):
            folder.mkdir(parents=True, exist_ok=True)
        return self
