"""Browser sign-in from the window: open the system browser on the GUI thread for a job running on
the engine's thread, and let the user cancel the job while it waits.

A sign-in job (``Channel.authorize`` and then connecting the account) runs on the worker loop
through ``EngineBridge.submit``. It calls :meth:`BrowserOpener.open` there; the URL crosses to the
GUI thread as a queued signal, where ``QDesktopServices.openUrl`` (or a test's stand-in) opens it,
and whether that worked comes back through a future. :class:`Cancellable` wraps the job in a task
the GUI thread can cancel: cancelling unwinds ``core.oauth``'s ``finally`` blocks, which close the
loopback listener, and the job then ends with :class:`SignInCancelled`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices

T = TypeVar("T")

# Opens a URL in the user's browser on the GUI thread; False when no browser could be opened.
OpenUrl = Callable[[str], bool]


class SignInCancelled(Exception):
    """The user cancelled; the job stopped and its loopback listener is closed."""


def system_open_url(url: str) -> bool:
    return QDesktopServices.openUrl(QUrl(url))


class BrowserOpener(QObject):
    """Give :meth:`open` to ``Channel.authorize``; it may be awaited from any thread's loop.

    The object must live in the GUI thread. ``open_url`` runs there; it defaults to the system
    browser (tests pass a stand-in that plays the user's browser).
    """

    _requested = Signal(str, object)  # url, concurrent.futures.Future[bool]
    opened = Signal(str)  # on the GUI thread, after the browser was asked to show ``url``

    def __init__(self, open_url: OpenUrl | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_url = open_url or system_open_url
        # Emitted from the engine's thread: Qt queues the call to this object's (GUI) thread.
        self._requested.connect(self._on_requested)

    async def open(self, url: str) -> bool:
        future: concurrent.futures.Future[bool] = concurrent.futures.Future()
        self._requested.emit(url, future)
        return await asyncio.wrap_future(future)

    def open_now(self, url: str) -> bool:
        """Open ``url`` again from the GUI thread (the user asked for the page once more)."""
        return bool(self._open_url(url))

    @Slot(str, object)
    def _on_requested(self, url: str, future: concurrent.futures.Future[bool]) -> None:
        if not future.set_running_or_notify_cancel():
            return  # the sign-in was cancelled before the browser opened
        try:
            ok = bool(self._open_url(url))
        except Exception as exc:  # reported to the job, which shows it
            future.set_exception(exc)
            return
        future.set_result(ok)
        if ok:
            self.opened.emit(url)


class Cancellable:
    """One job on the engine's loop that the GUI thread may cancel at any time.

    ``await cancellable.run(coro)`` inside the job; ``cancellable.cancel()`` from the GUI thread.
    Once the job's own cleanup has run, ``run`` raises :class:`SignInCancelled`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Future[Any] | None = None
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._cancelled:
                coro.close()
                raise SignInCancelled
            self._loop = asyncio.get_running_loop()
            task = asyncio.ensure_future(coro)
            self._task = task
        try:
            return await task
        except asyncio.CancelledError:
            if self.cancelled and task.cancelled():
                raise SignInCancelled from None
            raise

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
