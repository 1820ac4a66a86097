"""Disk work for the composer, off the GUI thread: draft saves and image imports.

:class:`BackgroundJobs` is one worker thread (a single-worker queue, so jobs run one after the
other in the order given: a save is never overtaken by an older save, a delete never by the save it
follows). Results and errors come back on the GUI thread through a queued signal.

:class:`Autosaver` turns "something changed" into durable draft saves: it waits for a pause in
typing (``delay_ms``) but never longer than ``max_delay_ms`` during a long burst, takes one snapshot
then, and hands it to the worker. If the disk is slower than the typing, only the newest snapshot
waiting is written. The GUI thread never waits for an fsync, except in :meth:`Autosaver.flush`
with ``wait=True``, which the window calls when it quits.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from staffetta.core.drafts import Draft, DraftStore

log = logging.getLogger(__name__)

T = TypeVar("T")


class BackgroundJobs(QObject):
    """One background thread; ``on_done``/``on_error`` run on the GUI thread.

    The thread is a daemon started on the first job, so a page that is simply dropped (a test, a
    window torn down without quitting) never keeps the process alive; the window calls
    :meth:`shutdown` when it quits, which runs everything queued first.
    """

    _deliver = Signal(object, object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._deliver.connect(self._on_deliver)

    def run(
        self,
        job: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> bool:
        """Queue ``job``; False once shut down (the job is then not run)."""
        if self._closed:
            log.warning("background job dropped after shutdown")
            return False

        def work() -> None:
            try:
                result = job()
            except Exception as exc:
                self._emit(on_error or _log_error, exc)
                return
            if on_done is not None:
                self._emit(on_done, result)

        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()
        self._queue.put(work)
        return True

    def _loop(self) -> None:
        while (work := self._queue.get()) is not None:
            work()

    def _emit(self, callback: Callable[[Any], None], value: object) -> None:
        try:
            self._deliver.emit(callback, value)
        except RuntimeError:  # the window went away first: nobody is left to tell
            log.debug("background result dropped: receiver deleted")

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until every job queued so far has run (at shutdown, and in tests)."""
        if self._closed or self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(done.set)
        return done.wait(timeout)

    def shutdown(self, timeout: float = 60.0) -> None:
        """Run what is queued, then stop the thread. Results still pending are not delivered."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)

    @Slot(object, object)
    def _on_deliver(self, callback: Callable[[Any], None], value: object) -> None:
        callback(value)


def _log_error(exc: Exception) -> None:
    log.error("background job failed: %s", exc)


class Autosaver(QObject):
    """Debounced, durable saving of the draft the composer shows.

    ``snapshot()`` is called on the GUI thread when a save is due and returns the draft as it is
    now. An empty draft is not written; a draft that became empty is deleted (there is nothing in
    it to lose). ``saved(Draft)`` and ``failed(str)`` arrive on the GUI thread.
    """

    saved = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        store: DraftStore,
        jobs: BackgroundJobs,
        snapshot: Callable[[], Draft],
        *,
        delay_ms: int = 300,
        max_delay_ms: int = 2000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._jobs = jobs
        self._snapshot = snapshot
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.save_now)
        self._deadline = QTimer(self)
        self._deadline.setSingleShot(True)
        self._deadline.setInterval(max_delay_ms)
        self._deadline.timeout.connect(self.save_now)
        self._lock = threading.Lock()
        # the newest snapshot (and whether to delete it) not yet taken by the worker
        self._waiting: tuple[Draft, bool] | None = None
        self._queued = False
        self._last: Draft | None = None  # last snapshot handed over (GUI thread only)
        self._on_disk: set[str] = set()  # ids this saver wrote and has not deleted

    @property
    def pending(self) -> bool:
        """A change has not been handed to the worker yet."""
        return self._timer.isActive()

    def changed(self) -> None:
        """Something in the composer changed: save after a pause (or the maximum delay)."""
        self._timer.start()
        if not self._deadline.isActive():
            self._deadline.start()

    def cancel(self) -> None:
        """Forget a pending change (the caller saves or drops the draft itself)."""
        self._timer.stop()
        self._deadline.stop()

    def forget(self, draft_id: str) -> None:
        """The draft was published or deleted elsewhere: the next empty snapshot of it must not
        try to delete it again, and an unchanged one is not rewritten."""
        self.cancel()
        self._on_disk.discard(draft_id)
        if self._last is not None and self._last.id == draft_id:
            self._last = None

    def adopt(self, draft: Draft, *, on_disk: bool) -> None:
        """``draft`` is now shown, as loaded from disk (``on_disk``) or fresh."""
        self.cancel()
        self._last = draft
        if on_disk:
            self._on_disk.add(draft.id)

    @Slot()
    def save_now(self) -> None:
        self.cancel()
        draft = self._snapshot()
        if self._last is not None and _same_content(draft, self._last):
            return
        self._last = draft
        if draft.is_empty:
            if draft.id in self._on_disk:
                self._on_disk.discard(draft.id)
                self._hand_over(draft, delete=True)
            return
        self._on_disk.add(draft.id)
        self._hand_over(draft, delete=False)

    def flush(self, *, wait: bool = False) -> None:
        """Save a pending change now; with ``wait``, return only once it is on disk."""
        if self.pending:
            self.save_now()
        if wait:
            self._jobs.wait_idle()

    def _hand_over(self, draft: Draft, *, delete: bool) -> None:
        with self._lock:
            self._waiting = (draft, delete)
            if self._queued:
                return
            self._queued = True
        self._jobs.run(self._write_waiting, self._on_written, self._on_error)

    def _write_waiting(self) -> Draft | None:  # worker thread
        with self._lock:
            waiting, self._waiting, self._queued = self._waiting, None, False
        if waiting is None:
            return None
        draft, delete = waiting
        if delete:
            self._store.delete(draft.id)
            return None
        return self._store.save(draft)

    def _on_written(self, draft: Draft | None) -> None:
        if draft is not None:
            self.saved.emit(draft)

    def _on_error(self, exc: Exception) -> None:
        self._last = None  # try again on the next change
        self.failed.emit(str(exc))


def _same_content(a: Draft, b: Draft) -> bool:
    """Equal apart from the time stamp of the last change."""
    return a.id == b.id and a.to_json() | {"updated_at": 0} == b.to_json() | {"updated_at": 0}
