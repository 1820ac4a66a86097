"""An in-memory keyring backend for the demo and the tests (see :mod:`staffetta.core.secrets`)."""

from __future__ import annotations

import threading

import keyring.errors
from keyring.backend import KeyringBackend
from keyring.compat import properties


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in this process's memory only.

    Used explicitly by the demo mode and by tests; it forgets everything when the process ends.
    Its ``priority`` raises, which is ``keyring``'s way of saying "not viable": automatic backend
    detection skips it, so it can never stand in for the real keyring by accident.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._entries: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("MemoryKeyring is only used when passed explicitly")

    def __str__(self) -> str:  # the base class' __str__ reads the priority
        return f"{type(self).__module__}.{type(self).__qualname__} (in memory)"

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self._entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            if self._entries.pop((service, username), None) is None:
                raise keyring.errors.PasswordDeleteError("No such password")
