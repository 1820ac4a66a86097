"""Isolation for every test (the way qutebrowser and napari do it).

* Qt runs headless: ``QT_QPA_PLATFORM=offscreen`` is set here, before any test module imports
  Qt (set ``STAFFETTA_TEST_QPA=xcb`` to watch the windows instead, e.g. under Xvfb).
* Each test gets its own empty ``STAFFETTA_HOME`` (fixture ``home``), so nothing touches the
  user's data, config or logs.
* Tests outside ``tests/keyring`` cannot reach the machine's keyring: ``keyring`` is pointed at its
  fail backend, so ``SecretStore()`` refuses as on a machine without one. They use the ``secrets``
  fixture (an in-memory keyring) instead. Tests under ``tests/keyring`` are marked
  ``keyring_real`` and use the real Secret Service (``bash tests/run.sh`` starts a throwaway one).
* A test that leaves a non-daemon thread running after its teardown fails.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Generator, Iterator
from pathlib import Path

import keyring.core
import pytest
from keyring.backends import fail

from staffetta.core.paths import HOME_ENV
from staffetta.core.secrets import MemoryKeyring, SecretStore

# pytest loads this file before any test module, and nothing above imports Qt.
os.environ["QT_QPA_PLATFORM"] = os.environ.get("STAFFETTA_TEST_QPA", "offscreen")

KEYRING_DIR = Path(__file__).parent / "keyring"

# Threads left behind get this long, in total, to finish on their own before the test fails.
THREAD_GRACE_SECONDS = 2.0


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(KEYRING_DIR):
            item.add_marker(pytest.mark.keyring_real)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty ``STAFFETTA_HOME`` for this test."""
    folder = tmp_path / "staffetta-home"
    folder.mkdir()
    monkeypatch.setenv(HOME_ENV, str(folder))
    return folder


@pytest.fixture(autouse=True)
def _no_real_keyring(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("keyring_real") is None:
        monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())


@pytest.fixture
def secrets() -> SecretStore:
    """A secret store backed by memory only."""
    return SecretStore(MemoryKeyring())


# --- threads left behind -------------------------------------------------------------------------

_threads_before = pytest.StashKey[set[threading.Thread]]()
# Threads started while a module-, class- or session-scoped fixture was being set up belong to
# that fixture, which stops them at its own (later) teardown: they are not the test's leak.
_long_lived: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def _non_daemon_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive() and not t.daemon}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest
) -> Generator[None, object, object]:
    if fixturedef.scope == "function":
        return (yield)
    before = set(threading.enumerate())
    try:
        return (yield)
    finally:
        _long_lived.update(t for t in threading.enumerate() if t not in before)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_threads_before] = _non_daemon_threads()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    result = yield  # every function-scoped fixture of the test has been torn down now
    before = item.stash.get(_threads_before, set())
    leftover = [t for t in _non_daemon_threads() - before if t not in _long_lived]
    deadline = time.monotonic() + THREAD_GRACE_SECONDS
    for thread in leftover:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    leaked = [t for t in leftover if t.is_alive()]
    if leaked:
        names = ", ".join(sorted(f"{t.name!r} (ident {t.ident})" for t in leaked))
        pytest.fail(
            f"{item.nodeid} left {len(leaked)} non-daemon thread(s) running after teardown: "
            f"{names}. Stop and join them in the test or its fixture.",
            pytrace=False,
        )
    return result
