"""SecretStore: round trip, refusal of anything that is not a real keyring, and no secret in text.

The test backends below are real ``keyring`` backends (subclasses of ``KeyringBackend``) that
behave like the ones the store must refuse or survive; they are passed explicitly and removed
from ``keyring``'s automatic detection so they never leak into another test.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable

import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.compat import properties

from staffetta.core.errors import SecretStoreError, StaffettaError
from staffetta.core.secrets import MemoryKeyring, SecretStore, how_to_fix, refusal_reason

SECRET = "tok-ÄÖ-🔑-s3cr3t-value-123"


def _explicit_only(cls: type[KeyringBackend]) -> type[KeyringBackend]:
    # keyring registers every concrete backend class for auto-detection; these are test doubles.
    KeyringBackend._classes.discard(cls)
    return cls


@_explicit_only
class PlaintextFileKeyring(KeyringBackend):
    """Claims a high priority but its name says plaintext (detection rule 3)."""

    priority = 9

    def __init__(self) -> None:
        super().__init__()
        self.stored: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.stored.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.stored[(service, username)] = password


@_explicit_only
class LowPriorityKeyring(PlaintextFileKeyring):
    """An innocent name but a priority below 1, like keyrings.alt's file backends (rule 4)."""

    priority = 0.5


@_explicit_only
class NotViableKeyring(PlaintextFileKeyring):
    """A backend whose priority raises, as keyring's do when their daemon is not running."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("The Secret Service daemon is neither running nor activatable")


@_explicit_only
class GoodKeyring(PlaintextFileKeyring):
    """Stands for a real OS keyring: ordinary name, priority >= 1."""

    priority = 5


@_explicit_only
class LockedKeyring(GoodKeyring):
    """Every call fails the way keyring's SecretService backend does when unlock is dismissed."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


@_explicit_only
class LeakyKeyring(GoodKeyring):
    """Puts the secret into its exceptions, as some backends (and UnicodeDecodeError) do."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"cannot store {password!r} for {username}")

    def get_password(self, service: str, username: str) -> str | None:
        raise UnicodeDecodeError("utf-8", SECRET.encode(), 0, 1, "invalid start byte")


@_explicit_only
class DBusGoneKeyring(GoodKeyring):
    """The D-Bus connection drops mid-call (jeepney raises plain OSError subclasses)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise ConnectionResetError("Connection reset by peer")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ConnectionResetError("Connection reset by peer")


def _every_operation(store: SecretStore) -> list[Callable[[], object]]:
    return [
        store.check,
        lambda: store.set("acct", SECRET),
        lambda: store.get("acct"),
        lambda: store.delete("acct"),
    ]


def _full_text(exc: BaseException) -> str:
    """Everything a crash report could print about ``exc``, chained exceptions included."""
    return "".join(traceback.format_exception(exc)) + repr(exc.args)


def test_round_trip(secrets: SecretStore) -> None:
    assert secrets.get("mastodon:alice") is None
    secrets.set("mastodon:alice", SECRET)
    secrets.set("bluesky:alice", "other")
    assert secrets.get("mastodon:alice") == SECRET
    secrets.set("mastodon:alice", "rotated")
    assert secrets.get("mastodon:alice") == "rotated"
    assert secrets.get("bluesky:alice") == "other"

    secrets.delete("mastodon:alice")
    assert secrets.get("mastodon:alice") is None
    assert secrets.get("bluesky:alice") == "other"
    secrets.delete("mastodon:alice")  # absent: no error


def test_one_entry_per_account_under_the_service_name() -> None:
    backend = MemoryKeyring()
    SecretStore(backend, service="staffetta-test").set("acct-1", SECRET)
    assert backend.get_password("staffetta-test", "acct-1") == SECRET
    assert backend.get_password("staffetta", "acct-1") is None
    assert SecretStore(backend, service="staffetta-test").backend_name.endswith("MemoryKeyring")


def test_rejects_empty_account_and_secret(secrets: SecretStore) -> None:
    with pytest.raises(ValueError, match="account_id"):
        secrets.set("", SECRET)
    with pytest.raises(ValueError, match="secret"):
        secrets.set("a", "")


def test_memory_keyring_is_never_selected_automatically() -> None:
    assert MemoryKeyring not in set(KeyringBackend.get_viable_backends())
    assert str(MemoryKeyring()).endswith("(in memory)")


def test_default_backend_is_resolved_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_get_keyring() -> KeyringBackend:
        calls.append(1)
        return GoodKeyring()

    monkeypatch.setattr("keyring.core.get_keyring", fake_get_keyring)
    store = SecretStore()
    assert calls == []
    store.set("a", SECRET)
    assert store.get("a") == SECRET
    assert store.backend_name.endswith("GoodKeyring")
    assert calls == [1]


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), PlaintextFileKeyring(), LowPriorityKeyring()],
    ids=["fail", "null", "plaintext-name", "priority-below-1"],
)
def test_refuses_backends_that_are_not_a_real_keyring(backend: KeyringBackend) -> None:
    store = SecretStore(backend)
    for call in _every_operation(store):
        with pytest.raises(SecretStoreError) as caught:
            call()
        message = str(caught.value)
        assert "Nothing was saved" in message
        assert "gnome-keyring" in message
        assert "KWallet" in message
        assert SECRET not in _full_text(caught.value)
    if isinstance(backend, PlaintextFileKeyring):
        assert backend.stored == {}  # not even tried


def test_default_backend_is_refused_when_keyring_finds_none() -> None:
    # conftest points keyring at its fail backend for every unit test: a machine without keyring.
    with pytest.raises(SecretStoreError, match=r"keyring\.backends\.fail\.Keyring"):
        SecretStore().check()
    with pytest.raises(SecretStoreError):
        SecretStore().backend_name  # noqa: B018


def test_not_viable_backend_says_why() -> None:
    with pytest.raises(SecretStoreError, match="neither running nor activatable"):
        SecretStore(NotViableKeyring()).set("a", SECRET)


def test_refusal_rule() -> None:
    assert refusal_reason(MemoryKeyring()) is None
    assert refusal_reason(GoodKeyring()) is None
    for bad in (fail.Keyring(), null.Keyring(), PlaintextFileKeyring(), LowPriorityKeyring()):
        assert refusal_reason(bad) is not None


def test_chainer_uses_its_best_acceptable_member(monkeypatch: pytest.MonkeyPatch) -> None:
    good, plain = GoodKeyring(), PlaintextFileKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plain, good])
    store = SecretStore(chainer.ChainerBackend())
    store.set("a", SECRET)
    assert good.stored == {("staffetta", "a"): SECRET}
    assert plain.stored == {}
    assert store.backend_name.endswith("GoodKeyring")


def test_chainer_without_usable_members_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = PlaintextFileKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plain, LowPriorityKeyring()])
    with pytest.raises(SecretStoreError, match="none of the chained keyrings"):
        SecretStore(chainer.ChainerBackend()).set("a", SECRET)
    assert plain.stored == {}


def test_locked_keyring_is_a_clear_error() -> None:
    store = SecretStore(LockedKeyring())
    for call in _every_operation(store):
        with pytest.raises(SecretStoreError) as caught:
            call()
        message = str(caught.value)
        assert "locked" in message
        assert "unlock" in message
        assert "KeyringLocked" in message
        assert SECRET not in _full_text(caught.value)
        assert isinstance(caught.value, StaffettaError)


def test_secret_never_appears_even_when_the_backend_puts_it_in_its_error() -> None:
    store = SecretStore(LeakyKeyring())
    with pytest.raises(SecretStoreError) as caught:
        store.set("acct", SECRET)
    assert "PasswordSetError" in str(caught.value)
    assert "[secret]" in str(caught.value)
    with pytest.raises(SecretStoreError) as read:
        store.get("acct")
    assert "UnicodeDecodeError" in str(read.value)
    for exc in (caught.value, read.value):
        assert exc.__cause__ is None
        assert exc.__context__ is None
        assert SECRET not in _full_text(exc)
        assert SECRET.encode() not in _full_text(exc).encode()


def test_dbus_failure_is_wrapped() -> None:
    with pytest.raises(SecretStoreError, match="ConnectionResetError") as caught:
        SecretStore(DBusGoneKeyring()).set("acct", SECRET)
    assert SECRET not in _full_text(caught.value)


def test_delete_of_absent_entry_is_quiet_but_real_failures_are_not() -> None:
    store = SecretStore(GoodKeyring())  # the base class' delete_password raises PasswordDeleteError
    store.delete("never-stored")

    backend = GoodKeyring()
    backend.stored[("staffetta", "kept")] = SECRET
    with pytest.raises(SecretStoreError, match="could not remove") as caught:
        SecretStore(backend).delete("kept")
    assert SECRET not in _full_text(caught.value)


def test_init_error_when_keyring_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> KeyringBackend:
        raise keyring.errors.InitError("Failed to create the collection: Prompt dismissed.")

    monkeypatch.setattr("keyring.core.get_keyring", broken)
    with pytest.raises(SecretStoreError, match="InitError: Failed to create the collection"):
        SecretStore().get("a")


@pytest.mark.parametrize(
    ("platform", "words"),
    [
        ("linux", ["gnome-keyring", "KWallet", "unlock", "D-Bus"]),
        ("darwin", ["Keychain", "unlocked"]),
        ("win32", ["Credential Locker"]),
    ],
)
def test_how_to_fix_names_what_to_do_per_os(platform: str, words: list[str]) -> None:
    text = how_to_fix(platform)
    for word in words:
        assert word in text
    assert how_to_fix() == how_to_fix(sys.platform)


def test_memory_keyring_is_safe_across_threads() -> None:
    store = SecretStore(MemoryKeyring())

    def work(n: int) -> None:
        for i in range(200):
            store.set(f"acct-{n}-{i}", f"secret-{n}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(store.get(f"acct-{n}-199") == f"secret-{n}-199" for n in range(4))
