"""The one bridge between the window and the delivery engine.

The engine runs on its own asyncio loop in a worker thread, with its own ``Runtime`` (its own SQLite
connection, its own HTTP client). The GUI thread never waits for the network or a disk sync: every
write (publishing, retry, cancel, connecting an account) is a *job* sent to the worker, and its
result comes back as a callback on the GUI thread through a queued Qt signal. Engine events arrive
the same way.

The engine starts when there is something for it to do: at launch only if deliveries are waiting,
otherwise at the first job (publishing, retrying, connecting an account). A window with nothing to
deliver never loads the network stack, the keyring or asyncio.

The GUI keeps a second, read-only use of the database for its views (SQLite in WAL mode lets it read
while the worker writes). Two processes — this window and a ``staffetta flush`` — never send the
same delivery: the store's leases see to that, whichever process runs the engine.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

from staffetta.core.clock import Clock
from staffetta.core.events import DELIVERY, PLATFORM_DOWN, PLATFORM_UP, EngineEvent
from staffetta.core.model import Account, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store
from staffetta.runtime import Runtime
from staffetta.ui.collector import collect_on_gui_thread_only

if TYPE_CHECKING:
    import asyncio

    import httpx

    from staffetta.core.engine import Engine

log = logging.getLogger(__name__)

T = TypeVar("T")
Done = Callable[[Any], None]
Failed = Callable[[Exception], None]


@dataclass(frozen=True)
class Worker:
    """What a job gets: the worker thread's own runtime, HTTP client and engine."""

    runtime: Runtime
    http: httpx.AsyncClient
    engine: Engine


Job = Callable[[Worker], "T | Awaitable[T]"]


class EngineBridge(QObject):
    """Runs the engine in a worker thread and carries commands and events across.

    Signals are always delivered on the GUI thread. ``outboxChanged`` fires after anything that may
    change what the outbox shows (a job that writes, or any engine event); views coalesce it.
    """

    deliveryChanged = Signal(object)  # EngineEvent (kind DELIVERY)
    platformDown = Signal(object)  # EngineEvent (kind PLATFORM_DOWN)
    platformUp = Signal(object)  # EngineEvent (kind PLATFORM_UP, ``count`` released)
    outboxChanged = Signal()
    accountsChanged = Signal()
    started = Signal()
    startFailed = Signal(object)  # the exception that kept the engine from starting
    stopped = Signal()
    # internal: (callback, value) to run on the GUI thread
    _deliver = Signal(object, object)
    _event = Signal(object)

    def __init__(
        self,
        paths: Paths,
        secrets: SecretStore,
        *,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        http_factory: Callable[[], httpx.AsyncClient] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._paths = paths
        self._secrets = secrets
        self._clock = clock
        self._policy = policy
        self._rng = rng
        self._http_factory = http_factory
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: Worker | None = None
        self._stop: asyncio.Event | None = None  # set on the loop to stop the engine
        self._ready: asyncio.Event | None = None  # set on the loop once it started or failed
        self._failure: Exception | None = None  # why the engine could not start
        self._closed = False  # stop() was called: no job starts the engine again
        self._deliver.connect(self._on_deliver)
        self._event.connect(self._on_event)

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """The worker thread is there (starting, or delivering)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def active(self) -> bool:
        """Jobs are accepted (the engine starts at the first one if it is not running yet): from
        construction until :meth:`stop`."""
        return not self._closed

    def start_if_work(self, store: Store) -> None:
        """Start the engine if ``store`` holds a delivery it could act on now or later (anything
        but copies waiting for the user)."""
        if not self.running and not self._closed and has_work(store):
            self.start()

    def start(self) -> None:
        """Start the worker thread and its engine, without waiting for either.

        The worker opens its own store, makes sure the keyring answers when accounts keep their
        credentials there, and starts the engine; then ``started`` fires, or ``startFailed`` with
        the reason (the engine then never ran). Jobs submitted meanwhile wait for the worker and
        run in the order they came; if it cannot start, each reports that to its ``on_error``.
        """
        if self.running:
            return
        import asyncio  # with the engine's modules: only once there is something to deliver

        collect_on_gui_thread_only()  # no Qt object may be collected on the worker thread
        self._closed = False
        loop, ready, stop = asyncio.new_event_loop(), asyncio.Event(), asyncio.Event()
        self._loop, self._ready, self._stop, self._failure = loop, ready, stop, None
        self._thread = threading.Thread(
            target=self._run, args=(loop, ready, stop), name="staffetta-engine", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the engine (an attempt in flight is left to the lease) and join the thread."""
        thread, loop, stop = self._thread, self._loop, self._stop
        self._closed = True
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=timeout)
        self._thread = None
        self.stopped.emit()

    def _run(
        self, loop: asyncio.AbstractEventLoop, ready: asyncio.Event, stop: asyncio.Event
    ) -> None:
        try:
            loop.run_until_complete(self._main(ready, stop))
        except BaseException:
            log.exception("the delivery engine stopped unexpectedly")
        finally:
            ready.set()
            # After a failed start the waiting jobs report it; after a stop, jobs cut short are
            # dropped (their windows are closing).
            loop.run_until_complete(_end_jobs(cancel=self._failure is None))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            if self._loop is loop:
                self._loop = None

    async def _main(self, ready: asyncio.Event, stop: asyncio.Event) -> None:
        try:
            runtime = Runtime.open(
                self._paths, secrets=self._secrets, clock=self._clock, policy=self._policy
            )
        except Exception as exc:
            self._start_failed(exc)
            return
        try:
            try:
                check_keyring(runtime)
                http = self._http_factory() if self._http_factory else _new_http_client()
            except Exception as exc:
                self._start_failed(exc)
                return
            async with http:
                if stop.is_set():  # stopped before it had started
                    return
                engine = runtime.engine(http, on_event=self._event.emit, rng=self._rng)
                self._worker = Worker(runtime, http, engine)
                ready.set()
                self._deliver.emit(_emit_signal(self.started), None)
                await engine.run_forever(stop)
        finally:
            self._worker = None
            runtime.close()

    def _start_failed(self, exc: Exception) -> None:
        """On the worker: the engine cannot start; the GUI thread and waiting jobs learn why."""
        self._failure = exc
        self._deliver.emit(self._on_start_failed, exc)

    def _not_running(self) -> RuntimeError:
        failure = self._failure
        if failure is None:
            return RuntimeError("The delivery engine is not running.")
        return RuntimeError(f"The delivery engine is not running: {failure}")

    # --- jobs ---------------------------------------------------------------------------------
    def submit(
        self,
        job: Callable[[Worker], Any],
        on_done: Done | None = None,
        on_error: Failed | None = None,
        *,
        changes_outbox: bool = False,
        changes_accounts: bool = False,
    ) -> None:
        """Run ``job(worker)`` on the engine's loop; its result (awaited if it is awaitable) goes to
        ``on_done`` on the GUI thread, an exception to ``on_error`` (logged when there is none).
        The engine is started if it is not running (after a failed start, it is tried again: the
        keyring may have been unlocked since); the job runs once it has started."""
        if not self._closed and not self.running:
            self.start()
        loop, ready = self._loop, self._ready
        if loop is None or loop.is_closed() or ready is None:
            self._on_deliver(on_error or _log_error, self._not_running())
            return

        async def run() -> None:
            try:
                await ready.wait()  # at once, unless the engine is still starting
                worker = self._worker
                if worker is None:
                    raise self._not_running()
                result = job(worker)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:
                self._deliver.emit(on_error or _log_error, exc)
                return
            if changes_outbox or changes_accounts:
                worker.engine.wake()
            if on_done is not None:
                self._deliver.emit(on_done, result)
            if changes_outbox:
                self._deliver.emit(_emit_signal(self.outboxChanged), None)
            if changes_accounts:
                self._deliver.emit(_emit_signal(self.accountsChanged), None)

        try:
            loop.call_soon_threadsafe(lambda: loop.create_task(run()))
        except RuntimeError:  # the loop closed in between
            self._on_deliver(on_error or _log_error, self._not_running())

    # --- commands -----------------------------------------------------------------------------
    def publish(
        self,
        post: Post,
        account_ids: list[str],
        on_done: Callable[[int], None] | None = None,
        on_error: Failed | None = None,
    ) -> None:
        """Copy the media and queue the post for every account in one transaction (worker side)."""
        self.submit(
            lambda w: w.runtime.queue(post, account_ids), on_done, on_error, changes_outbox=True
        )

    def retry_now(self, delivery_id: int, on_error: Failed | None = None) -> None:
        self.submit(
            lambda w: w.runtime.store.retry_now(delivery_id), None, on_error, changes_outbox=True
        )

    def cancel(self, delivery_id: int, on_error: Failed | None = None) -> None:
        self.submit(
            lambda w: w.runtime.store.cancel(delivery_id), None, on_error, changes_outbox=True
        )

    def resolve_unconfirmed(
        self, delivery_id: int, *, went_out: bool, on_error: Failed | None = None
    ) -> None:
        self.submit(
            lambda w: w.runtime.store.resolve_unconfirmed(delivery_id, went_out=went_out),
            None,
            on_error,
            changes_outbox=True,
        )

    def confirm_assisted(
        self, delivery_id: int, *, posted: bool, url: str = "", on_error: Failed | None = None
    ) -> None:
        """The user posted an assisted copy by hand (sent) or skipped it (cancelled)."""
        self.submit(
            lambda w: w.runtime.store.confirm_assisted(delivery_id, posted=posted, url=url),
            None,
            on_error,
            changes_outbox=True,
        )

    def wake(self) -> None:
        """Look for work now (the outbox changed behind the engine's back); nothing to do when the
        engine is not running."""
        if self.running:
            self.submit(lambda w: w.engine.wake())

    def check_now(self) -> None:
        """The machine came online: probe every platform that is down at once (nothing to do when
        the engine is not running: no delivery is waiting for a platform)."""
        if not self.running:
            return
        self.submit(lambda w: w.engine.check_now(), changes_outbox=True)

    def connect_account(
        self,
        channel: str,
        name: str,
        settings: dict[str, Any],
        secret: str | None,
        on_done: Callable[[Account], None] | None = None,
        on_error: Failed | None = None,
    ) -> None:
        """Verify the credentials with the platform, then store the account (secret → keyring)."""
        self.submit(
            lambda w: w.runtime.connect(w.http, channel, name, settings, secret),
            on_done,
            on_error,
            changes_accounts=True,
        )

    def disconnect_account(
        self, account_id: str, on_done: Done | None = None, on_error: Failed | None = None
    ) -> None:
        """Remove the account and delete its keyring entry."""
        self.submit(
            lambda w: w.runtime.disconnect(account_id),
            on_done,
            on_error,
            changes_accounts=True,
            changes_outbox=True,
        )

    # --- GUI-thread side ----------------------------------------------------------------------
    @Slot(object, object)
    def _on_deliver(self, callback: Callable[[Any], None], value: object) -> None:
        callback(value)

    def _on_start_failed(self, exc: object) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)  # it is only closing its store
            self._thread = None
        self.startFailed.emit(exc)

    @Slot(object)
    def _on_event(self, event: EngineEvent) -> None:
        if event.kind == DELIVERY:
            self.deliveryChanged.emit(event)
        elif event.kind == PLATFORM_DOWN:
            self.platformDown.emit(event)
        elif event.kind == PLATFORM_UP:
            self.platformUp.emit(event)
        self.outboxChanged.emit()


def check_keyring(runtime: Runtime) -> None:
    """With accounts whose credentials live in the keyring, make sure it can be read before the
    engine starts, rather than failing delivery after delivery (raises ``SecretStoreError``).

    On a desktop this may show the system's unlock prompt: it runs on the worker thread, so the
    window is already there and responsive meanwhile.
    """
    for account in runtime.store.accounts():
        channel = runtime.channels.get(account.channel)
        if channel is not None and any(f.secret for f in channel.fields):
            runtime.secrets.check()
            return


def has_work(store: Store) -> bool:
    """Whether a delivery is on its way: queued, scheduled, waiting to retry, sending or
    unconfirmed (copies the user posts by hand wait for the user, not for the engine)."""
    return any(delivery.state is not State.YOUR_TURN for delivery, _owner in store.heads())


def _new_http_client() -> httpx.AsyncClient:
    from staffetta.core.http import new_http_client

    return new_http_client()


async def _end_jobs(*, cancel: bool) -> None:
    import asyncio

    current = asyncio.current_task()
    jobs = [task for task in asyncio.all_tasks() if task is not current]
    for task in jobs if cancel else ():
        task.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)


def _emit_signal(signal: Any) -> Callable[[object], None]:
    return lambda _value: signal.emit()


def _log_error(exc: Exception) -> None:
    log.error("background job failed: %s", exc)
