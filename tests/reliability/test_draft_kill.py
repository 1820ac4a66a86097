"""SIGKILL the window while the user types: the draft on disk is never torn and a new window
brings back the text exactly as it was last saved.

The composer runs in a child process (``QT_QPA_PLATFORM=offscreen``) started from this very file
(``python test_draft_kill.py type|report``). In ``type`` mode it types a text key by key — ASCII,
accents, an emoji, a link, a hashtag, several lines — and prints ``SAVED <json body>`` each time
the autosave reports a draft durably written. The test kills it with SIGKILL, then starts a
``report`` child, which opens the composer as a user would after the crash and prints what it
shows.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest

pytestmark = pytest.mark.slow

TEXT = (
    "Crash test ✈️ from the train 😀\n"
    "Caffè at https://example.com/menu?day=1 with @anna@example.social #viaggio\n\n"
    "Second paragraph, written after a pause. It goes on for a while, one key at a time, "
    "the way a person types. Nothing of it may be lost.\n"
)
TIMEOUT = 60.0


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFETTA_")}
    env.update(
        STAFFETTA_HOME=str(home),
        QT_QPA_PLATFORM="offscreen",
        PYTHONUTF8="1",
        PYTHONIOENCODING="utf-8",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _spawn(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _lines(stream: IO[bytes]) -> tuple[queue.Queue[str | None], threading.Thread]:
    """The child's output lines as they come (None once it closed its output), and the thread
    reading them (it ends when the child is gone)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for raw in stream:
            lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=pump, name="child-output", daemon=True)
    reader.start()
    return lines, reader


def _saved_bodies(lines: queue.Queue[str | None], until: int, log: list[str]) -> list[str]:
    """Read until ``until`` SAVED lines arrived; returns the saved bodies."""
    bodies: list[str] = []
    while len(bodies) < until:
        try:
            line = lines.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError("the composer child saved nothing:\n" + "\n".join(log)) from None
        if line is None:
            raise AssertionError("the composer child exited:\n" + "\n".join(log))
        log.append(line)
        if line.startswith("SAVED "):
            bodies.append(json.loads(line.removeprefix("SAVED ")))
    return bodies


def _kill(child: subprocess.Popen[bytes], reader: threading.Thread | None) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=TIMEOUT)
    if reader is not None:
        reader.join(TIMEOUT)
    assert child.stdout is not None
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def _restored(home: Path) -> str:
    child = _spawn(home, "report")
    out, _ = child.communicate(timeout=TIMEOUT)
    text = out.decode("utf-8")
    assert child.returncode == 0, text
    report = next(line for line in text.splitlines() if line.startswith("BODY "))
    body: str = json.loads(report.removeprefix("BODY "))
    return body


def _no_torn_files(home: Path) -> None:
    drafts = home / "data" / "drafts"
    for path in drafts.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # every draft file parses


def test_killed_after_the_save_restores_the_text_exactly(home: Path) -> None:
    child = _spawn(home, "type", "0")  # type everything at once, then wait
    log: list[str] = []
    reader = None
    try:
        assert child.stdout is not None
        lines, reader = _lines(child.stdout)
        while TEXT not in _saved_bodies(lines, 1, log):
            pass
        assert list((home / "data" / "drafts").glob("*.json"))
    finally:
        _kill(child, reader)
    _no_torn_files(home)
    assert _restored(home) == TEXT


def test_killed_mid_typing_restores_the_last_saved_text(home: Path) -> None:
    child = _spawn(home, "type", "20")  # a key every 20 ms: saves come from the 2 s deadline
    log: list[str] = []
    reader = None
    try:
        assert child.stdout is not None
        lines, reader = _lines(child.stdout)
        announced = _saved_bodies(lines, 1, log)
    finally:
        _kill(child, reader)
    _no_torn_files(home)
    restored = _restored(home)
    # What a new window shows is a save at least as recent as the last one announced (a newer
    # one may have reached the disk just before the kill), and always a prefix of what was typed.
    assert len(restored) >= len(announced[-1]) > 0
    assert TEXT.startswith(restored)
    assert restored != TEXT, "the child finished typing before the kill; make it type slower"


# --- the child -----------------------------------------------------------------------------------


def _child(mode: str, interval_ms: int) -> int:
    from PySide6.QtCore import QEvent, Qt, QTimer
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    from staffetta.core.drafts import Draft
    from staffetta.core.paths import Paths
    from staffetta.core.secrets import MemoryKeyring, SecretStore
    from staffetta.runtime import Runtime
    from staffetta.ui.bridge import EngineBridge
    from staffetta.ui.composer import ComposerPage
    from staffetta.ui.context import AppContext

    app = QApplication([])
    paths = Paths.default()
    secrets = SecretStore(MemoryKeyring())
    runtime = Runtime.open(paths, secrets=secrets)
    ctx = AppContext(runtime, EngineBridge(paths, secrets), AppContext.settings_at(runtime))
    page = ComposerPage(ctx)
    page.show()
    if mode == "report":
        print("BODY " + json.dumps(page.body.toPlainText()), flush=True)
        page.shutdown()
        runtime.close()
        return 0

    def announce(draft: Draft) -> None:
        print("SAVED " + json.dumps(draft.body), flush=True)

    page.autosaver.saved.connect(announce)
    keys = iter(TEXT)

    def type_one() -> None:
        char = next(keys, None)
        if char is None:
            timer.stop()
            return
        key = Qt.Key.Key_Return if char == "\n" else Qt.Key.Key_unknown
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, char)
            QApplication.sendEvent(page.body, event)

    timer = QTimer()
    timer.timeout.connect(type_one)
    timer.start(interval_ms)
    return app.exec()  # until killed


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0))
