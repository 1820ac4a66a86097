"""The real Secret Service, in a throwaway session that ``bash tests/run.sh`` starts.

run.sh runs these tests inside ``dbus-run-session`` with a fresh gnome-keyring whose login
collection it created and unlocked with a known password, in temporary XDG folders, and exports
that password as ``STAFFETTA_TEST_KEYRING_PASSWORD``. Elsewhere (a developer's own desktop session)
the tests are skipped rather than writing into the developer's real keyring.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import secretstorage
from jeepney.io.blocking import DBusConnection

PASSWORD_ENV = "STAFFETTA_TEST_KEYRING_PASSWORD"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get(PASSWORD_ENV):
        return
    skip = pytest.mark.skip(reason="real-keyring tests run only under `bash tests/run.sh`")
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):  # this hook sees every item of the session
            item.add_marker(skip)


@pytest.fixture
def keyring_password() -> str:
    return os.environ[PASSWORD_ENV]


@pytest.fixture
def bus() -> Iterator[DBusConnection]:
    """A D-Bus connection to the Secret Service, for looking behind SecretStore's back."""
    connection = secretstorage.dbus_init()
    try:
        yield connection
    finally:
        connection.close()
