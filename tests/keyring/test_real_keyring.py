"""SecretStore against the real Secret Service (gnome-keyring over D-Bus).

Each check looks behind the store's back — with secretstorage and with ``secret-tool`` — to prove
the secret really is in the keyring, encrypted at rest by the daemon, under service ``staffetta``.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
import uuid
import warnings
from collections.abc import Iterator

import pytest
import secretstorage
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import DBusConnection
from secretstorage.util import format_secret, open_session

from staffetta.core.errors import SecretStoreError
from staffetta.core.secrets import SERVICE, SecretStore

pytestmark = pytest.mark.keyring_real

SECRET = "tøkén-🔑-значение-秘密-\u200d-" + "x" * 200


@pytest.fixture
def account() -> Iterator[str]:
    account_id = f"test-{uuid.uuid4()}"
    yield account_id
    SecretStore().delete(account_id)


def _items(bus: DBusConnection, account_id: str) -> list[secretstorage.Item]:
    collection = secretstorage.get_default_collection(bus)
    return list(collection.search_items({"service": SERVICE, "username": account_id}))


def test_default_store_uses_the_secret_service() -> None:
    store = SecretStore()
    store.check()
    assert store.backend_name == "keyring.backends.SecretService.Keyring"


def test_round_trip_is_really_in_the_keyring(bus: DBusConnection, account: str) -> None:
    store = SecretStore()
    assert store.get(account) is None
    store.set(account, SECRET)
    assert store.get(account) == SECRET
    # A fresh store (as after a restart) reads it back.
    assert SecretStore().get(account) == SECRET

    [item] = _items(bus, account)
    assert item.get_secret().decode() == SECRET
    assert item.get_attributes()["service"] == SERVICE

    store.set(account, "rotated")
    [item] = _items(bus, account)  # replaced, not added
    assert item.get_secret() == b"rotated"

    store.delete(account)
    assert store.get(account) is None
    assert _items(bus, account) == []
    store.delete(account)  # already gone: no error


@pytest.mark.skipif(shutil.which("secret-tool") is None, reason="libsecret-tools not installed")
def test_secret_tool_sees_the_entry(account: str) -> None:
    SecretStore().set(account, SECRET)
    found = subprocess.run(
        ["secret-tool", "lookup", "service", SERVICE, "username", account],
        capture_output=True,
        check=True,
        timeout=30,
    )
    assert found.stdout.decode() == SECRET


def _unlock(bus: DBusConnection, collection_path: str, password: str) -> None:
    """Unlock without a prompt, through gnome-keyring's own interface (as its PAM module does)."""
    session = open_session(bus)
    address = DBusAddress(
        "/org/freedesktop/secrets",
        bus_name="org.freedesktop.secrets",
        interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
    )
    message = new_method_call(
        address,
        "UnlockWithMasterPassword",
        "o(oayays)",
        (collection_path, format_secret(session, password.encode(), "text/plain")),
    )
    bus.send_and_get_reply(message)


def test_locked_keyring_is_a_clear_error(
    bus: DBusConnection, account: str, keyring_password: str
) -> None:
    store = SecretStore()
    store.set(account, SECRET)
    collection = secretstorage.get_default_collection(bus)
    collection.lock()
    caught = None
    try:
        assert collection.is_locked()
        # Unlocking needs the user: gnome-keyring's prompt cannot show here (no display), which
        # is what a dismissed prompt looks like.
        with pytest.raises(SecretStoreError) as caught:
            store.get(account)
        message = str(caught.value)
        assert "KeyringLocked" in message
        assert "unlock" in message
        assert "gnome-keyring" in message
        assert SECRET not in message
        with pytest.raises(SecretStoreError, match="KeyringLocked"):
            store.set(account, "new value")
    finally:
        _unlock(bus, collection.collection_path, keyring_password)
        # keyring's SecretService.get_preferred_collection raises KeyringLocked without closing
        # the D-Bus connection it opened (its callers close it only on success); collect those
        # here rather than let their ResourceWarning surface in some later test.
        del caught
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
    assert not collection.is_locked()
    assert store.get(account) == SECRET  # the failed set changed nothing
