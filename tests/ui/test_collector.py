"""Qt objects caught in reference cycles are collected on the GUI thread, never on a worker."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from staffetta.ui.collector import collect_on_gui_thread_only


class _Holder:
    def __init__(self) -> None:
        self.timer = QTimer()
        self.me: _Holder | None = None


def test_a_running_timer_in_a_cycle_dies_on_the_gui_thread(qtbot: QtBot) -> None:
    collect_on_gui_thread_only()
    holder = _Holder()
    holder.timer.start(60_000)
    holder.me = holder  # only the cycle collector can free it, and the timer with it
    alive = weakref.ref(holder.timer)
    del holder

    kept: list[list[int]] = []

    def allocate() -> None:  # enough new container objects to cross the collection threshold
        kept.extend([n] for n in range(5_000))

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert alive() is not None  # the worker did not collect it (Qt would have warned: test fails)
    qtbot.waitUntil(lambda: alive() is None, timeout=5_000)
    assert not gc.isenabled()
