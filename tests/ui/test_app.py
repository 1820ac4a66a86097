"""Starting the app: the smoke flag, start-up errors a user can act on, and quitting cleanly."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from staffetta.core.model import Post
from staffetta.core.paths import Paths
from staffetta.core.schema import SCHEMA_VERSION
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store
from staffetta.ui.app import (
    Shell,
    StartupError,
    _report,
    close_context,
    engine_startup_error,
    open_context,
)
from staffetta.ui.context import AppContext

TIMEOUT = 60

# Qt's offscreen platform warns that it cannot pass size hints to a (non-existent) window manager.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFETTA_")}
    env.update(STAFFETTA_HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONUTF8="1", **extra)
    return env


def _run(args: list[str], home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=_env(home, **extra), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


STAFFETTA = [sys.executable, "-c", "import sys; from staffetta.cli import main; sys.exit(main())"]


@pytest.mark.parametrize(
    "command",
    [STAFFETTA, [sys.executable, "-m", "staffetta"]],
    ids=["staffetta", "python -m staffetta"],
)
def test_quit_after_startup_opens_the_window_and_exits_0(command: list[str], home: Path) -> None:
    result = _run([*command, "--quit-after-startup"], home)
    assert result.returncode == 0, result.stderr
    # The window really opened: it saved its geometry when it closed.
    settings = (home / "config" / "settings.ini").read_text(encoding="utf-8")
    assert "geometry=@ByteArray(" in settings
    assert (home / "data" / "outbox.sqlite3").exists()


def test_a_database_from_a_newer_staffetta_is_explained_and_left_alone(home: Path) -> None:
    store = Store.open(Paths.under(home).database)
    store.close()
    database = Paths.under(home).database
    conn = sqlite3.connect(database)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    before = database.read_bytes()

    result = _run([*STAFFETTA, "--quit-after-startup"], home)

    assert result.returncode == 1
    assert "cannot open your outbox" in result.stderr
    assert "newer" in result.stderr
    assert database.read_bytes() == before


def test_without_pyside6_the_cli_says_how_to_install_the_window(home: Path) -> None:
    blocked = (
        "import sys; sys.modules['PySide6'] = None; "
        "from staffetta.cli import main; sys.exit(main([]))"
    )
    result = _run([sys.executable, "-c", blocked], home)
    assert result.returncode == 1
    assert "pip install 'staffetta[gui]'" in result.stderr
    assert "Traceback" not in result.stderr


def _account_needing_the_keyring(home: Path, *, waiting: bool = False) -> None:
    store = Store.open(Paths.under(home).database)
    account = store.add_account("mastodon", "Social", {"instance_url": "https://social.example"})
    if waiting:
        store.enqueue(Post(body="Waiting for the keyring"), [account.id])
    store.close()


def test_no_keyring_with_posts_waiting_for_it_is_a_clear_startup_error(home: Path) -> None:
    # A post waiting for an account whose token lives in the keyring, where no keyring works.
    _account_needing_the_keyring(home, waiting=True)
    database = Paths.under(home).database
    before = database.read_bytes()

    result = _run(
        [*STAFFETTA, "--quit-after-startup"],
        home,
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )

    assert result.returncode == 1
    assert "needs the system keyring" in result.stderr
    assert "install" in result.stderr  # how to fix it on this system
    assert "Traceback" not in result.stderr
    assert database.read_bytes() == before


_COUNT_COLLECTIONS = """
import gc, importlib, sys
import staffetta.cli as cli
seen = []
gc.callbacks.append(lambda phase, info: phase == "start" and seen.append(info["generation"]))
load = importlib.import_module
def import_module(name, *rest):
    module = load(name, *rest)
    if name == "staffetta.ui.app":  # imported: from here on, the window is being built
        seen.clear()
        quit_when_idle = module._quit_when_idle
        def report(*args):
            print(len(seen), gc.get_freeze_count(), gc.isenabled())
            quit_when_idle(*args)
        module._quit_when_idle = report
    return module
cli.importlib.import_module = import_module
sys.exit(cli.main(["--quit-after-startup"]))
"""


def test_start_up_runs_no_collection_and_sets_what_it_made_aside(home: Path) -> None:
    # The modules and the window live as long as the app: the cycle collector neither walks them
    # while the window is built (it used to run eleven times, 10-20 ms) nor ever after (frozen).
    result = _run([sys.executable, "-c", _COUNT_COLLECTIONS], home)
    assert result.returncode == 0, result.stderr
    collections, frozen, enabled = result.stdout.split()
    assert collections == "0"
    assert int(frozen) > 20_000  # the imports' objects and the window's
    assert enabled == "True"  # automatic collection is back on for what comes next


def test_with_nothing_to_deliver_the_window_opens_without_the_engine(home: Path) -> None:
    # Nothing waits, so the keyring is not needed yet: the window opens, drafts work offline.
    _account_needing_the_keyring(home)
    result = _run(
        [
            sys.executable,
            "-c",
            "import sys; from staffetta.cli import main; rc = main(['--quit-after-startup']); "
            "heavy = ('keyring', 'staffetta.core.engine', 'httpx', 'asyncio', 'ssl', 'hashlib',"
            " 'PIL.Image', 'markdown_it', 'regex', 'PySide6.QtNetwork');"
            " print(sorted(m for m in heavy if m in sys.modules)); sys.exit(rc)",
        ],
        home,
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    assert result.returncode == 0, result.stderr
    # Neither the keyring nor the engine, the network stack, image handling, Markdown or the
    # Unicode tables: they load with the first post, image or keystroke that needs them.
    assert result.stdout.strip().splitlines()[-1] == "[]"


_WAIT_FOR_WARM_UP = """
import sys, time
from staffetta.cli import main
import staffetta.ui.app as app

WANTED = ("staffetta.ui.preview_card", "regex", "markdown_it")
shown = app.Shell.show

def show(shell):
    shown(shell)
    from PySide6.QtCore import QTimer
    deadline = time.monotonic() + 20
    def check():
        if all(m in sys.modules for m in WANTED) or time.monotonic() > deadline:
            print("warm:", sorted(m for m in WANTED if m in sys.modules))
            shell.quit()
    shell.poll = QTimer(shell)
    shell.poll.timeout.connect(check)
    shell.poll.start(50)

app.Shell.show = show
print("at start:", sorted(m for m in WANTED if m in sys.modules))
sys.exit(main([]))
"""


def test_while_the_user_has_not_typed_the_previews_code_is_loaded(home: Path) -> None:
    # A blog and a social account selected, an empty draft: the window opens without the cards'
    # code, counting's Unicode tables and Markdown, then loads them before the first keystroke.
    store = Store.open(Paths.under(home).database)
    store.add_account("static_site", "Blog", {"folder": str(home / "site")})
    store.add_account("mastodon", "Social", {"instance_url": "https://social.example"})
    store.close()
    result = _run([sys.executable, "-c", _WAIT_FOR_WARM_UP], home)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "at start: []" in lines
    assert "warm: ['markdown_it', 'regex', 'staffetta.ui.preview_card']" in lines


def test_the_first_job_starts_the_engine_and_learns_why_it_could_not(
    home: Path, qtbot: QtBot
) -> None:
    _account_needing_the_keyring(home)
    context = open_context(Paths.under(home), SecretStore())  # the suite's keyring: none works
    try:
        assert not context.bridge.running  # nothing to deliver yet
        errors: list[Exception] = []
        context.bridge.submit(lambda w: None, None, errors.append)  # sent before it failed
        with qtbot.waitSignal(context.bridge.startFailed) as failed:
            pass
        error = engine_startup_error(failed.args[0])
        assert "keyring" in error.headline
        assert "Nothing was saved" in error.details
        qtbot.waitUntil(lambda: bool(errors))
        assert "not running" in str(errors[0])
        assert "keyring" in str(errors[0])
        assert not context.bridge.running
    finally:
        close_context(context)


def test_a_startup_error_is_shown_in_a_message_box(qtbot: QtBot) -> None:
    seen: list[tuple[str, str]] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append((box.text(), box.informativeText()))
        box.close()

    QTimer.singleShot(0, read_and_close)
    _report(
        StartupError("Staffetta cannot open your outbox.", "The file is damaged."), interactive=True
    )
    assert seen == [("Staffetta cannot open your outbox.", "The file is damaged.")]


@pytest.fixture
def ctx(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[AppContext]:
    context = open_context(Paths.under(home), secrets)
    yield context
    close_context(context)


def test_quit_stops_the_engine_and_finishes(ctx: AppContext, qtbot: QtBot) -> None:
    shell = Shell(ctx, tray_available=False)
    qtbot.addWidget(shell.window)
    shell.show()
    qtbot.waitExposed(shell.window)
    assert not ctx.bridge.running  # nothing to deliver
    with qtbot.waitSignal(ctx.bridge.started):
        ctx.bridge.submit(lambda _worker: None)  # the first job starts it
    assert ctx.bridge.running
    with qtbot.waitSignal(shell.finished):
        shell.window.quit_action.trigger()
    assert not ctx.bridge.running
    assert not shell.window.isVisible()
