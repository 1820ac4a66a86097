"""Account secrets (tokens, app passwords, API keys) in the operating system's keyring.

:class:`SecretStore` is the only way Staffetta stores or reads a secret. It is a thin layer over
``keyring`` that adds three promises:

* **No plaintext, ever.** Before its first use the store looks at the backend ``keyring`` picked
  (or the one it was given) and refuses, with :class:`SecretStoreError`, anything that is not a real
  OS keyring — see :func:`refusal_reason` for the exact rule. There is no fallback file.
* **Errors the user can act on.** Every failure of the keyring (locked, D-Bus gone, daemon not
  running, ...) comes out as :class:`SecretStoreError` whose message says what to install or
  unlock on this operating system.
* **The secret never leaks into text.** No message and no log line contains a secret. The
  keyring's own exception is *not* chained to ours (neither ``__cause__`` nor ``__context__``):
  some backends put the value in it (a ``UnicodeDecodeError`` carries the raw bytes), and crash
  reports print chained exceptions. Only its type name and, for ``keyring``'s own errors, its
  message with the secret blanked out, are kept in ours.

One keyring entry per account: service ``"staffetta"``, username = the account id. On Linux that is
``secret-tool lookup service staffetta username <account id>``.

:class:`MemoryKeyring` keeps secrets in a dict. ``keyring`` never selects it on its own; it is for
the demo mode (``staffetta demo`` runs against sandbox servers with throwaway tokens in a temporary
folder, and passes ``SecretStore(MemoryKeyring())`` explicitly) and for unit tests.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from staffetta.core.errors import SecretStoreError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from staffetta.core.memory_keyring import MemoryKeyring

# ``keyring`` itself (~25 ms and ~10 MB with what it loads to find its backends) is imported at the
# first use of a store, not with this module: a window with nothing to deliver never needs it.

__all__ = ["SERVICE", "MemoryKeyring", "SecretStore", "how_to_fix", "refusal_reason"]

SERVICE = "staffetta"
_CHECK_ACCOUNT = "staffetta-keyring-check"  # read by check(), never written
_T = TypeVar("_T")

# Backends whose module or class name says they keep secrets readable on disk. ``keyrings.alt``
# is listed as a whole: its README calls all of its backends "discouraged for general production
# use" (plaintext and weakly encrypted files, the Windows registry, ...).
_PLAINTEXT_NAME = re.compile(r"plain_?text|unencrypted|cleartext|insecure|^keyrings\.alt\.")


def _label(backend: KeyringBackend) -> str:
    """A name for the backend that is safe to show: never touches its priority or its secrets."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def refusal_reason(backend: KeyringBackend) -> str | None:
    """Why ``backend`` must not hold Staffetta's secrets, or ``None`` if it may.

    The rule, in order:

    1. :class:`MemoryKeyring` is accepted: it is only ever passed explicitly (demo, tests).
    2. ``keyring``'s fail and null backends are refused: there is no keyring at all.
    3. A module/class name that reads as plaintext storage (``plaintext``, ``plain_text``,
       ``unencrypted``, ``cleartext``, ``insecure``, or any ``keyrings.alt`` backend) is refused.
    4. A backend whose priority cannot be read (``keyring`` reports "not viable" this way: the
       daemon is not running, a library is missing) or is below 1 is refused. ``keyring``'s own
       guidance is that a priority below 1 means "usable but not recommended", which is where the
       plaintext and weakly encrypted backends sit; every real OS keyring backend is 1 or higher.

    Chainers are resolved before this check (see :class:`SecretStore`).
    """
    from keyring.backends import fail, null

    from staffetta.core.memory_keyring import MemoryKeyring

    if isinstance(backend, MemoryKeyring):
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return "no keyring backend is available"
    if _PLAINTEXT_NAME.search(_label(backend).lower()):
        return "it would keep secrets in a plaintext or weakly protected file"
    try:
        priority = float(type(backend).priority)
    except Exception as exc:  # how keyring says "not viable"; its text names the cause
        return f"it is not usable here ({type(exc).__name__}: {exc})"
    if priority < 1:
        return "keyring itself does not recommend it (priority below 1)"
    return None


def how_to_fix(platform: str | None = None) -> str:
    """What the user should install or unlock on ``platform`` (default: this machine)."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return (
            "On macOS the Keychain is built in: open Keychain Access, make sure the login "
            "keychain is unlocked, and allow Staffetta when macOS asks."
        )
    if platform == "win32":
        return (
            "On Windows the Credential Locker (Credential Manager) is built in: sign in with a "
            "normal user account (not a temporary profile) and try again."
        )
    return (
        "On Linux, install and run a Secret Service keyring - GNOME Keyring (package "
        "'gnome-keyring') or KWallet - and unlock your login keyring (it normally unlocks when "
        "you log in; use Passwords and Keys / 'seahorse' or KWalletManager otherwise). Staffetta "
        "reaches it over the D-Bus session bus, so it must run inside your desktop session."
    )


def _scrub(exc: BaseException, secret: str | None) -> str:
    """The type name of ``exc`` and, for ``keyring``'s own errors, its message without ``secret``.

    Messages of other exceptions are dropped: their text is not ours to vouch for.
    """
    import keyring.errors

    name = type(exc).__name__
    if not isinstance(exc, keyring.errors.KeyringError):
        return name
    text = str(exc).strip()
    if secret:
        text = text.replace(secret, "[secret]")
    return f"{name}: {text}" if text else name


class SecretStore:
    """The account secrets, one keyring entry per account.

    ``backend=None`` means the backend ``keyring`` selects for this machine, looked up at first use
    (not at construction: building a store is free and never blocks on D-Bus). A chainer (what
    ``keyring`` picks when several backends are viable) is replaced by its highest-priority
    acceptable member, so a plaintext backend further down the chain never receives or serves a
    secret. All methods are thread-safe as far as the backend is.
    """

    def __init__(self, backend: KeyringBackend | None = None, service: str = SERVICE) -> None:
        if not service:
            raise ValueError("service must not be empty")
        self._requested = backend
        self._service = service
        self._backend: KeyringBackend | None = None
        self._lock = threading.Lock()

    @property
    def service(self) -> str:
        return self._service

    @property
    def backend_name(self) -> str:
        """The keyring in use, for display (e.g. ``keyring.backends.SecretService.Keyring``).

        Raises :class:`SecretStoreError` when no acceptable keyring is available.
        """
        return _label(self._resolve())

    def check(self) -> None:
        """Make sure secrets can be stored and read; raise :class:`SecretStoreError` if not.

        Besides refusing unusable backends this reads one (absent) entry, so a locked keyring or a
        missing D-Bus daemon shows up here — at start-up, not in the middle of a delivery. On a
        desktop this read may show the system's unlock prompt, as any later use would.
        """
        self._call("cannot be read", lambda b: b.get_password(self._service, _CHECK_ACCOUNT))

    def set(self, account_id: str, secret: str) -> None:
        """Store (or replace) the secret of ``account_id``."""
        _check_account(account_id)
        if not isinstance(secret, str) or not secret:
            raise ValueError("the secret must be a non-empty string")
        self._call(
            f"could not save the credentials of account {account_id!r}",
            lambda b: b.set_password(self._service, account_id, secret),
            secret=secret,
        )

    def get(self, account_id: str) -> str | None:
        """The secret of ``account_id``, or ``None`` if none is stored."""
        _check_account(account_id)
        return self._call(
            f"could not read the credentials of account {account_id!r}",
            lambda b: b.get_password(self._service, account_id),
        )

    def delete(self, account_id: str) -> None:
        """Forget the secret of ``account_id``; nothing happens if none is stored."""
        _check_account(account_id)

        import keyring.errors

        def forget(backend: KeyringBackend) -> None:
            try:
                backend.delete_password(self._service, account_id)
            except keyring.errors.PasswordDeleteError:
                # Backends also raise this for "no such entry": only a secret that is still
                # there afterwards is a real failure.
                if backend.get_password(self._service, account_id) is not None:
                    raise

        self._call(f"could not remove the credentials of account {account_id!r}", forget)

    def _call(
        self, what: str, call: Callable[[KeyringBackend], _T], secret: str | None = None
    ) -> _T:
        """``call(backend)``, with any failure turned into a :class:`SecretStoreError`."""
        backend = self._resolve()
        try:
            return call(backend)
        except Exception as exc:
            error = _keyring_error(what, exc, secret)
        raise error  # outside the except block, so keyring's exception is not its __context__

    def _resolve(self) -> KeyringBackend:
        with self._lock:
            if self._backend is not None:
                return self._backend
            candidate = self._requested if self._requested is not None else _default_backend()
            chosen = _unchain(candidate)
            reason = (
                "none of the chained keyrings is usable"
                if chosen is None
                else refusal_reason(chosen)
            )
            if chosen is None or reason is not None:
                raise SecretStoreError(
                    "Staffetta keeps account passwords and tokens only in your system keyring, "
                    f"and the keyring it found ({_label(chosen or candidate)}) cannot be used: "
                    f"{reason}. Nothing was saved. {how_to_fix()}"
                )
            self._backend = chosen
            return chosen


def _keyring_error(what: str, exc: BaseException, secret: str | None) -> SecretStoreError:
    """The user-facing error for a failed keyring call; raise it outside any ``except``."""
    import keyring.errors

    if isinstance(exc, keyring.errors.KeyringLocked):
        hint = "The keyring is locked: unlock it and try again."
    else:
        hint = "The keyring may be locked or not running."
    return SecretStoreError(
        f"The system keyring {what} ({_scrub(exc, secret)}). {hint} Nothing was saved in plain "
        f"text. {how_to_fix()}"
    )


def _default_backend() -> KeyringBackend:
    """The backend ``keyring`` selects for this machine (it may itself fail to start)."""
    try:
        from keyring.core import get_keyring

        return get_keyring()
    except Exception as exc:
        error = _keyring_error("could not be opened", exc, None)
    raise error


def _unchain(backend: KeyringBackend) -> KeyringBackend | None:
    """A chainer's best acceptable member (``None`` if it has none); other backends unchanged."""
    from keyring.backends import chainer

    if not isinstance(backend, chainer.ChainerBackend):
        return backend
    members: list[KeyringBackend] = list(chainer.ChainerBackend.backends)
    return next((m for m in members if refusal_reason(m) is None), None)


def _check_account(account_id: str) -> None:
    if not isinstance(account_id, str) or not account_id:
        raise ValueError("account_id must be a non-empty string")


def __getattr__(name: str) -> Any:
    """``MemoryKeyring`` lives beside ``keyring``, which it subclasses; it is still importable from
    here, where the demo and the tests have always found it."""
    if name == "MemoryKeyring":
        from staffetta.core.memory_keyring import MemoryKeyring

        return MemoryKeyring
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
