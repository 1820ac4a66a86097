"""Python's cycle collector, run on the GUI thread only.

Left to itself the collector runs in whichever thread allocates when a threshold is crossed: often
the engine's worker. A Qt object (a widget, a timer) caught in a reference cycle would then be
destroyed on that thread, which Qt forbids ("Timers cannot be stopped from another thread") and
which can crash the app. So once a worker thread exists, automatic collection is off and a timer on
the GUI thread collects instead, one generation at a time, as the usual thresholds say.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QCoreApplication, QObject, QTimer

CHECK_MS = 500  # a young-generation pass takes well under a millisecond


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> int:
        """Collect the oldest generation whose threshold is crossed; returns what was freed."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return 0
        generation = 0
        if counts[1] > thresholds[1]:
            generation = 2 if counts[2] > thresholds[2] else 1
        return gc.collect(generation)


_collector: GuiThreadCollector | None = None


def collect_on_gui_thread_only() -> None:
    """Turn automatic collection off and collect on the GUI thread from now on (idempotent; call
    on the GUI thread, before starting a worker thread)."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector(QCoreApplication.instance())
    gc.disable()


@contextmanager
def long_lived() -> Iterator[None]:
    """Objects made inside live as long as the app (the window and its pages): the collector does
    not walk them while they are made, nor at any later collection (``gc.freeze``).

    Automatic collection comes back afterwards only if it was on and no worker thread has turned
    it off meanwhile (see :func:`collect_on_gui_thread_only`)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled and _collector is None:
            gc.enable()
