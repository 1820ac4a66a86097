"""The main window: a sidebar of pages (Compose, Outbox, Accounts), the platform-health strip in the
status bar, and the menus.

Pages are built the first time they are shown, so a start with a long history costs no more than
the composer. Window geometry and every named splitter are remembered as the plain bytes Qt
produces (``saveGeometry``/``saveState``), never pickled.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QIcon,
    QIconEngine,
    QKeySequence,
    QPainter,
    QPalette,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from staffetta.ui.context import AppContext
from staffetta.ui.icons import PaintedIconEngine, app_icon
from staffetta.ui.preferences import Preferences

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDialog

log = logging.getLogger(__name__)

GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"
SPLITTER_PREFIX = "window/splitters/"
DEFAULT_SIZE = QSize(1180, 760)


class PageSpec(NamedTuple):
    key: str
    module: str
    widget: str
    icon: str  # an SVG path drawn in the palette's text colour
    shortcut: str


PAGES = (
    PageSpec(
        "compose",
        "staffetta.ui.composer",
        "ComposerPage",
        '<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="M13.5 6.5l4 4"/>',
        "Ctrl+1",
    ),
    PageSpec(
        "outbox",
        "staffetta.ui.outbox",
        "OutboxPage",
        '<path d="M3 13v6a1 1 0 0 0 1 1h16a1 1 0 0 0 1-1v-6"/><path d="M3 13h5l1.5 2.5h5L16 13h5"/>'
        '<path d="M12 3v8.5"/><path d="M8.5 6.5L12 3l3.5 3.5"/>',
        "Ctrl+2",
    ),
    PageSpec(
        "accounts",
        "staffetta.ui.accounts",
        "AccountsPage",
        '<circle cx="9" cy="8" r="3.2"/><path d="M3 19.5c0-3.3 2.7-5.5 6-5.5s6 2.2 6 5.5"/>'
        '<circle cx="17" cy="9" r="2.4"/><path d="M16 14.2c2.9 0 5 1.8 5 4.8"/>',
        "Ctrl+3",
    ),
)


def _import_widget(module: str, name: str) -> Callable[..., QWidget] | None:
    """The widget class ``module.name``, or None while that module does not exist yet. A module
    that exists but fails to import is a bug and is raised, not hidden behind a placeholder."""
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
    widget: Callable[..., QWidget] = getattr(loaded, name)
    return widget


class _LineIcon(PaintedIconEngine):
    """A stroked SVG drawn in the palette's text colour for the icon's mode, so it follows the
    light/dark scheme and the selection colour, crisp at any pixel ratio."""

    def __init__(self, paths: str) -> None:
        super().__init__()
        self._paths = paths

    def _svg(self, mode: QIcon.Mode) -> QByteArray:
        palette = QGuiApplication.palette()
        role = (
            QPalette.ColorRole.HighlightedText
            if mode == QIcon.Mode.Selected
            else QPalette.ColorRole.WindowText
        )
        group = (
            QPalette.ColorGroup.Disabled
            if mode == QIcon.Mode.Disabled
            else QPalette.ColorGroup.Active
        )
        colour = palette.color(group, role).name()
        return QByteArray(
            (
                '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
                f'stroke="{colour}" stroke-width="1.8" stroke-linecap="round" '
                f'stroke-linejoin="round">{self._paths}</svg>'
            ).encode()
        )

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        QSvgRenderer(self._svg(mode)).render(painter, QRectF(rect))

    def look(self) -> object:
        return QGuiApplication.palette().cacheKey()

    def clone(self) -> QIconEngine:
        return _LineIcon(self._paths)


class _Placeholder(QWidget):
    """Stands in for a page whose module has not been written yet."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel(self.tr("{page} is not available in this build yet.").format(page=title))
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)


class MainWindow(QMainWindow):
    """The window the user lives in. ``quitRequested`` asks the app to really quit (Quit menu, or
    closing without a tray); ``hiddenToTray`` says closing only hid it."""

    quitRequested = Signal()
    hiddenToTray = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._prefs = Preferences(ctx.settings)
        self.tray_available = False
        self._quitting = False
        self._pages: dict[str, QWidget] = {}
        self._badges: dict[str, int] = {}
        self.setObjectName("main_window")
        self.setWindowTitle("Staffetta")
        self.setWindowIcon(app_icon())

        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName(self.tr("Pages"))
        self.sidebar.setIconSize(QSize(22, 22))
        self.sidebar.setFrameShape(QListWidget.Shape.NoFrame)
        self.sidebar.setSpacing(2)
        self.sidebar.setMinimumWidth(140)
        self.sidebar.setBackgroundRole(QPalette.ColorRole.Window)
        # Drawn in the window's colour, on a viewport we make: asking Qt for the one it made
        # would have PySide look up some fifty widget classes to wrap it (~12 ms at start).
        viewport = QWidget()
        self.sidebar.setViewport(viewport)
        viewport.setBackgroundRole(QPalette.ColorRole.Window)
        self.stack = QStackedWidget()
        self.stack.setObjectName("pages")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.setCollapsible(1, False)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([170, DEFAULT_SIZE.width() - 170])
        self.setCentralWidget(self.splitter)

        for spec in PAGES:
            item = QListWidgetItem(QIcon(_LineIcon(spec.icon)), self.page_title(spec.key))
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setSizeHint(QSize(0, 40))
            self.sidebar.addItem(item)
            self.stack.addWidget(QWidget())  # replaced by the page when first shown
        self.sidebar.currentRowChanged.connect(self._on_row_changed)

        self.health = self._build_health()
        self._build_menus()
        self.restore_state()
        self.show_page("compose")

    # --- pages -----------------------------------------------------------------------------------
    def page_title(self, key: str) -> str:
        titles = {
            "compose": self.tr("Compose"),
            "outbox": self.tr("Outbox"),
            "accounts": self.tr("Accounts"),
        }
        return titles[key]

    def page(self, key: str) -> QWidget:
        """The page ``key`` ("compose", "outbox", "accounts"), built on first use."""
        existing = self._pages.get(key)
        if existing is not None:
            return existing
        index = next(i for i, spec in enumerate(PAGES) if spec.key == key)
        spec = PAGES[index]
        factory = _import_widget(spec.module, spec.widget)
        page = factory(self.ctx) if factory is not None else _Placeholder(self.page_title(key))
        page.setAccessibleName(self.page_title(key))
        old = self.stack.widget(index)
        self.stack.insertWidget(index, page)
        if old is not None:
            self.stack.removeWidget(old)
            old.deleteLater()
        self._pages[key] = page
        self._connect_page(key, page)
        self._restore_splitters(page)
        return page

    def show_page(self, key: str) -> QWidget:
        page = self.page(key)
        index = next(i for i, spec in enumerate(PAGES) if spec.key == key)
        self.stack.setCurrentIndex(index)
        if self.sidebar.currentRow() != index:
            self.sidebar.setCurrentRow(index)
        return page

    def current_page_key(self) -> str:
        return PAGES[self.stack.currentIndex()].key

    def _on_row_changed(self, row: int) -> None:
        if 0 <= row < len(PAGES):
            self.show_page(PAGES[row].key)

    def _connect_page(self, key: str, page: QWidget) -> None:
        if key == "compose":
            if hasattr(page, "addAccountRequested"):
                page.addAccountRequested.connect(self.add_account)
            if hasattr(page, "published"):
                page.published.connect(self._on_published)
        elif key == "outbox" and hasattr(page, "editRequested"):
            page.editRequested.connect(self.edit_post)

    def edit_post(self, post_id: int, account_id: str) -> None:
        """The outbox's "edit and requeue": the stored post opens in the composer as a new draft
        for that account only."""
        composer: Any = self.show_page("compose")
        if not hasattr(composer, "edit_post"):
            self.statusBar().showMessage(
                self.tr("Editing a queued post is not available in this build yet."), 8000
            )
            return
        composer.edit_post(self.ctx.runtime.store.post(post_id), [account_id])

    def add_account(self, group: str = "") -> None:
        """Open the Accounts page's add-account flow (for ``group``: "owned" or "social")."""
        page: Any = self.show_page("accounts")
        if hasattr(page, "add_account"):
            page.add_account(group)

    def new_post(self) -> None:
        page: Any = self.show_page("compose")
        if hasattr(page, "new_draft"):
            page.new_draft()

    def set_badge(self, key: str, count: int) -> None:
        """Show ``count`` (things that need the user) next to a page's name; 0 hides it."""
        if self._badges.get(key, 0) == count:
            return
        self._badges[key] = count
        index = next(i for i, spec in enumerate(PAGES) if spec.key == key)
        item = self.sidebar.item(index)
        title = self.page_title(key)
        item.setText(
            self.tr("{page} ({count})").format(page=title, count=count) if count else title
        )

    def _on_published(self, post_id: int) -> None:
        self.statusBar().showMessage(
            self.tr("Queued. Each copy goes out as soon as its platform accepts it."), 8000
        )

    def _build_health(self) -> QWidget | None:
        factory = _import_widget("staffetta.ui.health", "HealthStrip")
        if factory is None:
            return None
        strip = factory(self.ctx)
        strip.setAccessibleName(self.tr("Platform health"))
        self.statusBar().addPermanentWidget(strip, 1)
        return strip

    # --- menus -----------------------------------------------------------------------------------
    def _action(
        self,
        text: str,
        slot: Callable[..., object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        self.new_post_action = self._action(self.tr("&New post"), self.new_post, "Ctrl+N")
        self.drafts_action = self._action(self.tr("&Drafts…"), self.open_drafts, "Ctrl+Shift+D")
        self.settings_action = self._action(
            self.tr("&Settings…"), self.open_settings, QKeySequence.StandardKey.Preferences
        )
        if self.settings_action.shortcut().isEmpty():  # not every desktop defines one
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.close_action = self._action(
            self.tr("&Close window"), self.close, QKeySequence.StandardKey.Close
        )
        self.quit_action = self._action(self.tr("&Quit"), self.quitRequested.emit, "Ctrl+Q")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        for action in (self.new_post_action, self.drafts_action, None, self.settings_action):
            file_menu.addAction(action) if action else file_menu.addSeparator()
        file_menu.addSeparator()
        file_menu.addAction(self.close_action)
        file_menu.addAction(self.quit_action)

        view_menu = bar.addMenu(self.tr("&View"))
        self.page_actions: dict[str, QAction] = {}
        for spec in PAGES:
            action = self._action(
                self.page_title(spec.key), self._page_opener(spec.key), spec.shortcut
            )
            view_menu.addAction(action)
            self.page_actions[spec.key] = action

        help_menu = bar.addMenu(self.tr("&Help"))
        self.about_action = self._action(self.tr("&About Staffetta"), self.open_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.about_action)
        self.menus = (file_menu, view_menu, help_menu)

    def _page_opener(self, key: str) -> Callable[..., object]:
        return lambda *_checked: self.show_page(key)

    def open_settings(self) -> QDialog:
        from staffetta.ui.settings_dialog import SettingsDialog  # its widgets: when first opened

        dialog = SettingsDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_about(self) -> QDialog:
        from staffetta.ui.about import AboutDialog

        dialog = AboutDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_drafts(self) -> QWidget | None:
        """File ▸ Drafts…: the composer's list of drafts to reopen, duplicate or delete."""
        page: Any = self.show_page("compose")
        if not hasattr(page, "show_drafts"):
            self.statusBar().showMessage(self.tr("Drafts are not available in this build yet."))
            return None
        dialog: QWidget = page.show_drafts()
        return dialog

    def shutdown_pages(self) -> None:
        """The app is quitting: let each page save what is pending and stop its threads."""
        for page in self._pages.values():
            shutdown = getattr(page, "shutdown", None)
            if callable(shutdown):
                shutdown()

    # --- window state ----------------------------------------------------------------------------
    def bring_to_front(self) -> None:
        self.show()
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    def restore_state(self) -> None:
        settings = self.ctx.settings
        geometry = settings.value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(self._first_size())
        state = settings.value(STATE_KEY)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        self._restore_splitters(self)

    def _first_size(self) -> QSize:
        """The default size, shrunk to fit a small screen."""
        screen = self.screen()
        room = screen.availableGeometry().size() * 0.92
        return DEFAULT_SIZE.boundedTo(room)

    def _restore_splitters(self, root: QWidget) -> None:
        splitters = [root] if isinstance(root, QSplitter) else []
        for splitter in splitters + root.findChildren(QSplitter):
            name = splitter.objectName()
            saved = self.ctx.settings.value(SPLITTER_PREFIX + name) if name else None
            if isinstance(saved, QByteArray):
                splitter.restoreState(saved)

    def save_state(self) -> None:
        """Remember the geometry and the position of every named splitter (plain bytes)."""
        settings = self.ctx.settings
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(STATE_KEY, self.saveState())
        for splitter in self.findChildren(QSplitter):
            if splitter.objectName():
                settings.setValue(SPLITTER_PREFIX + splitter.objectName(), splitter.saveState())
        settings.sync()

    def keeps_running_in_tray(self) -> bool:
        return self.tray_available and self._prefs.close_to_tray and not self._quitting

    def prepare_quit(self) -> None:
        """The app is quitting: the next close really closes."""
        self._quitting = True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.isVisible():
            self.save_state()
        if self.keeps_running_in_tray():
            event.ignore()
            self.hide()
            self.hiddenToTray.emit()
            return
        event.accept()
        if not self._quitting:
            self.quitRequested.emit()
