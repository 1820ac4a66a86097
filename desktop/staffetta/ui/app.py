"""Starting and stopping the desktop app.

``main()`` is what ``staffetta`` (no sub-command) runs: it sets up Qt (names, desktop file, icon,
translations), opens the outbox for the window's reads and starts the engine bridge, then shows the
window with its tray, notifications and network watch (:class:`Shell`). A database it cannot use
or a missing keyring is explained in a message box and the app exits 1 without touching any data.

The engine starts on its own thread while the window is being built: it opens its own use of the
outbox and asks the keyring (which may show the system's unlock prompt), so only an outbox that
cannot be opened keeps the window from appearing.
"""

from __future__ import annotations

import linecache
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

# The engine's modules (channels, store, HTTP) before Qt's: once PySide6 is loaded, its import hook
# reads the whole source of every module imported after it (looking for the word "PySide6"), and
# keeps the text in memory. Loaded first, the few hundred Qt-free modules are not read.
from staffetta.runtime import Runtime

# isort: split

from PySide6.QtCore import QCoreApplication, QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QApplication

from staffetta import APP_ID, __version__
from staffetta.core.errors import SecretStoreError, StaffettaError
from staffetta.core.paths import APP_AUTHOR, APP_NAME, Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.ui.bridge import EngineBridge
from staffetta.ui.collector import long_lived
from staffetta.ui.context import AppContext
from staffetta.ui.i18n import chosen_language, install_translators, resolve_language
from staffetta.ui.icons import app_icon
from staffetta.ui.main_window import MainWindow
from staffetta.ui.preferences import Preferences
from staffetta.ui.tray import Tray, TrayState

if TYPE_CHECKING:
    from staffetta.ui.network import NetworkMonitor
    from staffetta.ui.notifications import Notifier

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR = 0, 1
WORK_POLL_MS = 2000  # how soon posts queued by another process start or wake the engine


class StartupError(Exception):
    """Why the app cannot start, as a headline and the details; nothing was changed."""

    def __init__(self, headline: str, details: str) -> None:
        super().__init__(f"{headline}\n{details}")
        self.headline = headline
        self.details = details


def open_context(
    paths: Paths,
    secrets: SecretStore,
    *,
    policy: RetryPolicy | None = None,
    settings: QSettings | None = None,
) -> AppContext:
    """Open the window's read-only use of the outbox and the engine bridge.

    Raises :class:`StartupError` when the outbox cannot be opened (damaged, or from a newer
    version); the data is left exactly as it was. The engine starts in the background if
    deliveries are waiting (otherwise at the first job): a reason it cannot (no keyring while
    accounts need one) comes later, as the bridge's ``startFailed`` (see
    :func:`engine_startup_error`), before the engine has done anything.
    """
    try:
        runtime = Runtime.open(paths, secrets=secrets, policy=policy)
    except (StaffettaError, OSError) as exc:
        raise StartupError(
            QCoreApplication.translate(
                "Startup", "Staffetta cannot open your outbox. Nothing in it was changed."
            ),
            str(exc),
        ) from exc
    bridge = EngineBridge(paths, secrets, policy=policy)
    bridge.start_if_work(runtime.store)
    return AppContext(runtime, bridge, settings or AppContext.settings_at(runtime))


def engine_startup_error(exc: object) -> StartupError:
    """What the user is told when the engine could not start (``EngineBridge.startFailed``)."""
    if isinstance(exc, SecretStoreError):
        headline = QCoreApplication.translate(
            "Startup", "Staffetta needs the system keyring, where your account passwords are kept."
        )
    else:
        headline = QCoreApplication.translate(
            "Startup", "Staffetta cannot start its delivery engine. Nothing was changed."
        )
        if isinstance(exc, BaseException) and not isinstance(exc, StaffettaError | OSError):
            log.error("the delivery engine could not start", exc_info=exc)
    return StartupError(headline, str(exc))


def close_context(ctx: AppContext) -> None:
    ctx.bridge.stop()
    ctx.runtime.close()
    ctx.settings.sync()


class Shell(QObject):
    """The running app: window, tray, notifications and network watch, wired together.

    ``quit()`` really quits: the window closes, the engine stops (an attempt in flight is left to
    its lease), and ``finished`` fires. Closing the window with a tray available only hides it.
    """

    finished = Signal()

    def __init__(
        self, ctx: AppContext, *, tray_available: bool | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._prefs = Preferences(ctx.settings)
        self.quitting = False
        self.window = MainWindow(ctx)
        self.tray = Tray(ctx, available=tray_available, parent=self)
        self.window.tray_available = self.tray.available
        self._notifier: Notifier | None = None  # engine news: created when the engine starts
        # Watching the network only matters while the engine has something to deliver: it starts
        # with the engine (Qt's network module and the system's reachability backend load then).
        self.network: NetworkMonitor | None = None
        ctx.bridge.started.connect(self._on_engine_started)
        # A `staffetta publish` in a terminal queues posts without telling the window: notice its
        # commits (SQLite's data version, next to free to read), then start the engine, or wake
        # it from its sleep until the next due time.
        self._data_version = ctx.runtime.store.data_version()
        self._work_watch = QTimer(self)
        self._work_watch.setInterval(WORK_POLL_MS)
        self._work_watch.timeout.connect(self._on_outside_commits)
        self._work_watch.start()

        self.window.quitRequested.connect(self.quit)
        self.window.hiddenToTray.connect(self._on_hidden_to_tray)
        self.tray.quitRequested.connect(self.quit)
        self.tray.openRequested.connect(self.window.bring_to_front)
        self.tray.newPostRequested.connect(self._new_post_from_tray)
        self.tray.summaryChanged.connect(self._on_summary)
        self._on_summary(self.tray.summary)

    def show(self) -> None:
        self.window.show()

    @property
    def notifier(self) -> Notifier:
        if self._notifier is None:
            from staffetta.ui.notifications import Notifier

            self._notifier = Notifier(self.ctx, show=self._show_notification, parent=self)
        return self._notifier

    def _on_engine_started(self) -> None:
        """The engine's news (notifications) and the network watch matter from now on."""
        if self.quitting:
            return
        self.notifier  # noqa: B018  (listens to the engine's events from its first one)
        if self.network is None:
            from staffetta.ui.network import NetworkMonitor

            self.network = NetworkMonitor(self.ctx.bridge, self)
            self.network.start()

    def quit(self) -> None:
        if self.quitting:
            return
        self.quitting = True
        self._work_watch.stop()
        self.window.prepare_quit()
        # A visible window saves its geometry as it closes: once, since each save rewrites the
        # settings file and syncs it to disk.
        self.window.close()
        self.window.shutdown_pages()
        self.tray.hide()
        self.ctx.bridge.stop()
        self.finished.emit()

    def _on_outside_commits(self) -> None:
        bridge, store = self.ctx.bridge, self.ctx.runtime.store
        if not bridge.active:
            return
        version = store.data_version()
        if version == self._data_version:
            return
        self._data_version = version
        if bridge.running:
            bridge.wake()
        else:
            bridge.start_if_work(store)

    def _new_post_from_tray(self) -> None:
        self.window.bring_to_front()
        self.window.new_post()

    def _show_notification(self, title: str, message: str) -> None:
        if self.tray.available:
            self.tray.show_message(title, message)
        else:
            self.window.statusBar().showMessage(f"{title} — {message}", 15_000)

    def _on_hidden_to_tray(self) -> None:
        if self._prefs.close_explained:
            return
        self._prefs.close_explained = True
        self.notifier.notify(
            self.tr("Staffetta is still running"),
            self.tr(
                "Your posts keep going out from here. To stop Staffetta, choose Quit in this "
                "icon's menu. You can change this in Settings."
            ),
        )

    def _on_summary(self, summary: object) -> None:
        needs = 0
        if getattr(summary, "state", None) is TrayState.NEEDS_YOU:
            needs = int(getattr(summary, "needs_you", 0)) + int(
                getattr(summary, "paused_accounts", 0)
            )
        self.window.set_badge("outbox", needs)


def _application(argv: Sequence[str] | None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(APP_AUTHOR)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication([sys.argv[0] if sys.argv else "staffetta", *(argv or [])])
    QApplication.setDesktopFileName(APP_ID)
    return app


def _no_display() -> bool:
    """On Linux/BSD without X11, Wayland or an explicit platform, Qt would abort."""
    if sys.platform in ("win32", "darwin"):
        return False
    return not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _report(error: StartupError, *, interactive: bool) -> None:
    print(f"staffetta: {error.headline}\n{error.details}", file=sys.stderr)
    if interactive:
        from PySide6.QtWidgets import QMessageBox  # only ever needed here (its enums cost ~6 ms)

        box = QMessageBox(QMessageBox.Icon.Critical, "Staffetta", error.headline)
        box.setInformativeText(error.details)
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.setWindowIcon(app_icon())
        box.exec()


def _quit_on_signals(shell: Shell) -> QTimer:
    """Ctrl+C in a terminal and SIGTERM (logout, ``kill``) quit cleanly: the engine stops and the
    window saves its state. Qt's loop runs in C++, so a timer lets Python look at its signals."""

    def request_quit(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, shell.quit)

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), request_quit)
    wake = QTimer(shell)
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake


def _quit_when_idle(app: QApplication, shell: Shell) -> None:
    """Run once the queued start-up work is done: one more pass of events, then quit."""
    app.processEvents()
    QTimer.singleShot(0, shell.quit)


def main(argv: Sequence[str] | None = None, *, quit_after_startup: bool = False) -> int:
    """Run the desktop app until the user quits; returns the process exit code.

    With ``quit_after_startup`` the window opens, the event loop runs until it is idle, and the
    app stops cleanly and returns 0 (a smoke test for packages, and the startup benchmark).
    """
    if _no_display():
        print(
            "staffetta: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). Start "
            "Staffetta from your desktop session, or use its commands: staffetta --help",
            file=sys.stderr,
        )
        return EXIT_ERROR
    app = _application(argv)
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the tray keeps delivering; Shell.quit() quits
    paths = Paths.default()
    settings = AppContext.settings_in(paths)
    translators = install_translators(app, resolve_language(chosen_language(settings)))
    try:
        ctx = open_context(paths, SecretStore(), settings=settings)
    except StartupError as error:
        _report(error, interactive=not quit_after_startup)
        return EXIT_ERROR
    with long_lived():
        shell = Shell(ctx)
    # PySide's import hook has read the source of every module imported after Qt, looking for
    # `from __feature__ import ...`; linecache keeps it (~60,000 lines, ~5 MB) only for
    # tracebacks, which read it again when they need it.
    linecache.clearcache()
    shell.finished.connect(app.quit)
    failures: list[StartupError] = []

    started_at_launch = ctx.bridge.running  # deliveries were waiting
    launching = [started_at_launch]
    ctx.bridge.started.connect(lambda: launching.clear())

    def engine_failed(exc: object) -> None:
        # At launch, with posts waiting, the user must know before anything else. Later (the
        # engine starts with the first job) the job that started it tells its window why.
        if not launching:
            log.warning("the delivery engine could not start: %s", exc)
            return
        launching.clear()
        failures.append(engine_startup_error(exc))
        _report(failures[-1], interactive=not quit_after_startup)
        shell.quit()

    ctx.bridge.startFailed.connect(engine_failed)
    if quit_after_startup:  # idle, with the engine started (or its failure reported) if it had work
        if started_at_launch:
            ctx.bridge.started.connect(
                lambda: QTimer.singleShot(0, lambda: _quit_when_idle(app, shell))
            )
        else:
            QTimer.singleShot(0, lambda: _quit_when_idle(app, shell))
    _quit_on_signals(shell)
    try:
        shell.show()
        code = app.exec()
    finally:
        shell.quit()
        close_context(ctx)
        for translator in translators:
            app.removeTranslator(translator)
    log.debug("the app exited with %s", code)
    return EXIT_ERROR if failures else code
