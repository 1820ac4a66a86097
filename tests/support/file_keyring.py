"""A keyring backend that keeps entries in a JSON file, for tests that run the CLI as a child.

It stands in for the operating system's keyring (an external peer) when several processes must see
the same secrets: the test process and every ``staffetta`` child it starts. Children load it through
``keyring``'s own switch::

    PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring
    PYTHONPATH=<repo>/tests/support
    STAFFETTA_TEST_KEYRING=/tmp/.../keyring.json   # outside STAFFETTA_HOME

The file is ``{service: {username: password}}``. Writers take an exclusive ``flock`` on a lock file
beside it and replace the file atomically (temporary file, fsync, ``os.replace``), so concurrent
processes neither lose updates nor ever read half a file. Without ``STAFFETTA_TEST_KEYRING`` the
backend is not viable (its priority raises, as ``keyring``'s backends do), so it can never be
picked by accident. Never use this outside tests: it is plaintext on purpose.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import keyring.errors
from keyring.backend import KeyringBackend
from keyring.compat import properties

ENV = "STAFFETTA_TEST_KEYRING"

Entries = dict[str, dict[str, str]]


def keyring_path() -> Path:
    value = os.environ.get(ENV)
    if not value:
        raise RuntimeError(f"{ENV} is not set: the test keyring file has no place")
    return Path(value)


def read_entries(path: Path) -> Entries:
    """The file's entries (empty when it does not exist yet)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise keyring.errors.KeyringError(f"{path} does not hold a JSON object")
    return {str(s): {str(u): str(p) for u, p in users.items()} for s, users in data.items()}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _write_atomically(path: Path, entries: Entries) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(entries, out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class FileKeyring(KeyringBackend):
    """Secrets in the JSON file named by ``$STAFFETTA_TEST_KEYRING`` (tests only)."""

    @properties.classproperty
    def priority(cls) -> float:
        keyring_path()  # raises (= not viable) when the test did not configure a file
        return 1.0

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self._path = path

    @property
    def path(self) -> Path:
        return self._path if self._path is not None else keyring_path()

    def __str__(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__} ({self.path})"

    def get_password(self, service: str, username: str) -> str | None:
        # Writers replace the file atomically, so a reader never needs the lock.
        return read_entries(self.path).get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        with _locked(self.path):
            entries = read_entries(self.path)
            entries.setdefault(service, {})[username] = password
            _write_atomically(self.path, entries)

    def delete_password(self, service: str, username: str) -> None:
        with _locked(self.path):
            entries = read_entries(self.path)
            if entries.get(service, {}).pop(username, None) is None:
                raise keyring.errors.PasswordDeleteError("No such password")
            _write_atomically(self.path, entries)
