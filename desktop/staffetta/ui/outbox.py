"""The Outbox page: every post, newest first, with how each of its copies is doing.

A searchable list (one row per post, one chip per channel) beside a details panel for the selected
post with the actions per channel: retry now, cancel, edit and requeue, and for unconfirmed copies
"It went out" / "Send again". Every write goes through the engine bridge; the page only reads.

Signal for the main window: ``editRequested(post_id, account_id)`` — the user wants to edit that
post's text for that account and queue it again. The main window shows the composer with the
stored post (``ctx.runtime.store.post(post_id)``) and only ``account_id`` selected. If the copy
could still go out on its own, the page has already cancelled it (through the bridge), so the
edited one never goes out beside it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QDesktopServices,
    QFontMetrics,
    QGuiApplication,
    QImage,
    QKeySequence,
    QMouseEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.describe import Action, actions_for, edit_cancels_first
from staffetta.core.errors import StaffettaError
from staffetta.core.model import State
from staffetta.ui.context import AppContext
from staffetta.ui.delivery_dialog import DeliveryDialog
from staffetta.ui.outbox_delegate import OutboxDelegate, chip_under
from staffetta.ui.outbox_details import DetailsPanel, action_text, attempts_text
from staffetta.ui.outbox_model import OutboxModel
from staffetta.ui.state_chip import Chip

REFRESH_DELAY_MS = 150  # outboxChanged bursts (a flush) become one refresh
SEARCH_DELAY_MS = 250  # typing pauses this long before the list is searched
DETAIL_TEXT_CHARS = 4000
EXTERNAL_POLL_MS = 2000  # how soon another process's changes show


class _OutboxList(QListView):
    """The list, keeping what the user looks at in place when new posts arrive at the top."""

    menuRequested = Signal(QPoint)  # viewport position: a chip's menu, or the row's

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setMouseTracking(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self._shift = 0

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        model.rowsAboutToBeInserted.connect(self._before_insert)
        model.rowsInserted.connect(self._after_insert)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        pos = event.pos()
        if event.reason() != QContextMenuEvent.Reason.Mouse and self.currentIndex().isValid():
            # From the keyboard: the menu of the current row, whatever the mouse points at.
            pos = self.visualRect(self.currentIndex()).topLeft() + QPoint(2, 2)
        self.menuRequested.emit(pos)

    def _before_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        # Rows added above what the user is reading must not push it down the screen.
        scrolled = self.verticalScrollBar().value() > 0
        self._shift = last - first + 1 if first == 0 and scrolled else 0

    def _after_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        if not self._shift:
            return
        rows, self._shift = self._shift, 0
        bar = self.verticalScrollBar()
        value = bar.value()
        self.executeDelayedItemsLayout()  # the scroll range must include the new rows now
        bar.setValue(value + rows * self.sizeHintForRow(0))


class OutboxPage(QWidget):
    editRequested = Signal(int, str)  # post id, account id (see the module doc)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._dialogs: dict[int, DeliveryDialog] = {}

        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText(self.tr("Search posts"))
        self.search_box.setAccessibleName(self.tr("Search posts"))
        self.search_box.setClearButtonEnabled(True)
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.activated.connect(self._focus_search)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search_box.textChanged.connect(lambda _text: self._search_timer.start())
        self.search_box.returnPressed.connect(self._apply_search)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._close_message = QToolButton()
        self._close_message.setText("×")
        self._close_message.setAccessibleName(self.tr("Dismiss"))
        self._close_message.clicked.connect(self._hide_message)
        self._message_bar = QWidget()
        bar_layout = QHBoxLayout(self._message_bar)
        bar_layout.setContentsMargins(8, 4, 4, 4)
        bar_layout.addWidget(self.message, 1)
        bar_layout.addWidget(self._close_message)
        self._message_bar.hide()

        self.model = OutboxModel(ctx.runtime, self)
        self.delegate = OutboxDelegate(ctx.runtime, self)
        self.view = _OutboxList()
        self.view.setAccessibleName(self.tr("Posts"))
        self.view.setModel(self.model)
        self.view.setItemDelegate(self.delegate)
        self.view.viewport().installEventFilter(self)
        self.view.menuRequested.connect(self._context_menu)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.view.activated.connect(self._on_activated)

        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self._list_stack = QStackedWidget()
        self._list_stack.addWidget(self.view)
        self._list_stack.addWidget(self.empty)

        self.details = DetailsPanel()
        self.details.setAccessibleName(self.tr("Post details"))
        self.details.actionTriggered.connect(self.run_action)
        self.details.attemptsRequested.connect(self.show_attempts)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("outboxSplitter")  # the main window remembers its position
        self.splitter.addWidget(self._list_stack)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search_box)
        layout.addWidget(self._message_bar)
        layout.addWidget(self.splitter, 1)
        self.setTabOrder(self.search_box, self.view)
        self.setTabOrder(self.view, self.details)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        ctx.bridge.outboxChanged.connect(self.schedule_refresh)
        ctx.bridge.accountsChanged.connect(self.schedule_refresh)
        # Another process (a `staffetta flush` in a terminal) sends no signal: notice its
        # commits by polling SQLite's data version, which costs next to nothing.
        self._data_version = ctx.runtime.store.data_version()
        self._watch = QTimer(self)
        self._watch.setInterval(EXTERNAL_POLL_MS)
        self._watch.timeout.connect(self._check_external)
        self._watch.start()
        self.model.dataChanged.connect(self._on_data_changed)
        self.model.modelReset.connect(self._on_reset)
        self.model.rowsInserted.connect(self._update_empty)
        self._selected_post: int | None = None
        self._detail_text: tuple[int, str] | None = None
        self._update_empty()

    # --- refreshing -----------------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        """Coalesce bursts of outbox changes into one refresh ~150 ms later."""
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _check_external(self) -> None:
        try:
            version = self.ctx.runtime.store.data_version()
        except StaffettaError:
            return
        if version != self._data_version:
            self._data_version = version
            self.schedule_refresh()

    def refresh(self) -> None:
        try:
            self.model.refresh()
        except StaffettaError as exc:  # the outbox can't be read (disk, permissions): say so
            self.show_error(exc)
            return
        self._show_details()

    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex) -> None:
        current = self.view.currentIndex()
        if current.isValid() and top.row() <= current.row() <= bottom.row():
            self._show_details()

    def _on_reset(self) -> None:
        # A new search: keep the post the user had selected, if it is still listed.
        row = self.model.row_of(self._selected_post) if self._selected_post else None
        if row is not None:
            self.view.setCurrentIndex(self.model.index(row))
        else:
            self._show_details()
        self._update_empty()

    def _update_empty(self, *args: object) -> None:
        if self.model.rowCount():
            self._list_stack.setCurrentWidget(self.view)
            return
        if self.model.search:
            text = self.tr("No posts match “{search}”.").format(search=self.model.search)
        else:
            text = self.tr(
                "Nothing here yet. Posts you publish appear here, with how each copy is doing."
            )
        self.empty.setText(text)
        self._list_stack.setCurrentWidget(self.empty)

    # --- searching ------------------------------------------------------------------------------
    def _focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def _apply_search(self) -> None:
        self._search_timer.stop()
        self.model.set_search(self.search_box.text())

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape and self.search_box.text():
            self.search_box.clear()
            self._apply_search()
            return
        super().keyPressEvent(event)

    # --- selection and details ------------------------------------------------------------------
    def select_post(self, post_id: int) -> bool:
        """Select a loaded post (loading older pages is the view's business); False if absent."""
        row = self.model.row_of(post_id)
        if row is None:
            return False
        index = self.model.index(row)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._selected_post = self.model.post(current.row()).id if current.isValid() else None
        self._show_details()

    def _show_details(self) -> None:
        current = self.view.currentIndex()
        now = self.ctx.runtime.clock.now()
        if not current.isValid():
            self.details.show_post(None, [], now)
            return
        post = self.model.post(current.row())
        self.details.show_post(post, self.model.chips(post), now)
        self.details.text.setText(self._full_text(post.id, post.excerpt))

    def _full_text(self, post_id: int, excerpt: str) -> str:
        if self._detail_text is None or self._detail_text[0] != post_id:
            try:
                body = self.ctx.runtime.store.post(post_id).body
            except (StaffettaError, LookupError):  # the excerpt is still worth showing
                body = excerpt
            if len(body) > DETAIL_TEXT_CHARS:
                body = body[:DETAIL_TEXT_CHARS] + "…"
            self._detail_text = (post_id, body.strip())
        return self._detail_text[1]

    def _on_activated(self, index: QModelIndex) -> None:
        # Enter on a row: on to its first action, so the keyboard reaches what the mouse can.
        self.details.focus_first_action()

    # --- chips under the mouse ------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view.viewport():
            if event.type() == QEvent.Type.MouseButtonRelease:
                mouse: QMouseEvent = event  # type: ignore[assignment]
                if mouse.button() == Qt.MouseButton.LeftButton:
                    chip = self.chip_at(mouse.position().toPoint())
                    if chip is not None and Action.OPEN in actions_for(chip.state, chip.status.url):
                        self.run_action(chip.delivery_id, Action.OPEN.value)
            elif event.type() == QEvent.Type.MouseMove:
                mouse = event  # type: ignore[assignment]
                chip = self.chip_at(mouse.position().toPoint())
                link = chip is not None and bool(chip.status.url) and chip.state is State.SENT
                shape = Qt.CursorShape.PointingHandCursor if link else Qt.CursorShape.ArrowCursor
                self.view.viewport().setCursor(shape)
        return super().eventFilter(watched, event)

    def chip_at(self, pos: QPoint) -> Chip | None:
        """The chip at ``pos`` in the list's viewport."""
        return chip_under(self.view, self.delegate, pos)

    def chip_rect(self, post_id: int, delivery_id: int) -> Any:
        """Where a chip is drawn in the viewport (for tests and accessibility tools)."""
        row = self.model.row_of(post_id)
        if row is None:
            return None
        index = self.model.index(row)
        rect = self.view.visualRect(index)
        placed, _ = self.delegate.chip_layout(
            rect, self.model.chips(self.model.post(row)), QFontMetrics(self.view.font())
        )
        return next((area for area, chip in placed if chip.delivery_id == delivery_id), None)

    # --- menus and actions ----------------------------------------------------------------------
    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(pos)
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.view.viewport().mapToGlobal(pos))

    def context_menu(self, pos: QPoint) -> QMenu | None:
        """The menu for what is at ``pos``: one chip's actions, or every channel's for the row."""
        index = self.view.indexAt(pos)
        if not index.isValid():
            index = self.view.currentIndex()
        if not index.isValid():
            return None
        self.view.setCurrentIndex(index)
        menu = QMenu(self)
        chip = self.chip_at(pos)
        if chip is not None:
            self._add_actions(menu, chip)
        else:
            for row_chip in self.model.chips(self.model.post(index.row())):
                self._add_actions(menu.addMenu(row_chip.text), row_chip)
        return menu

    def _add_actions(self, menu: QMenu, chip: Chip) -> None:
        for action in actions_for(chip.state, chip.status.url):
            item = menu.addAction(action_text(action)[0])
            item.setData(action.value)
            item.triggered.connect(
                lambda _=False, d=chip.delivery_id, a=action: self.run_action(d, a.value)
            )
        attempts = menu.addAction(attempts_text()[0])
        attempts.triggered.connect(lambda _=False, d=chip.delivery_id: self.show_attempts(d))

    def run_action(self, delivery_id: int, action: str) -> None:
        """Do ``action`` (a :class:`core.describe.Action` value) on one delivery, via the bridge."""
        chip = self._chip(delivery_id)
        if chip is None:
            return
        bridge, what = self.ctx.bridge, Action(action)
        if what is Action.OPEN:
            if not QDesktopServices.openUrl(QUrl(chip.status.url)):
                self.show_error(self.tr("Could not open {url}.").format(url=chip.status.url))
        elif what is Action.RETRY_NOW:
            bridge.retry_now(delivery_id, on_error=self.show_error)
            if chip.state is State.DOWN:
                bridge.check_now()  # ask the platform now rather than at its next probe
        elif what is Action.CANCEL:
            bridge.cancel(delivery_id, on_error=self.show_error)
        elif what is Action.EDIT:
            if edit_cancels_first(chip.state):
                bridge.cancel(delivery_id, on_error=self.show_error)
            self.editRequested.emit(chip.post_id, chip.account_id)
        elif what in (Action.WENT_OUT, Action.SEND_AGAIN):
            bridge.resolve_unconfirmed(
                delivery_id, went_out=what is Action.WENT_OUT, on_error=self.show_error
            )
        elif what is Action.COPY_AND_OPEN:
            self.copy_and_open(chip)
        elif what in (Action.POSTED, Action.SKIP):
            bridge.confirm_assisted(
                delivery_id, posted=what is Action.POSTED, on_error=self.show_error
            )

    def copy_and_open(self, chip: Chip) -> None:
        """An assisted copy's turn: its text (and first image, in the same clipboard item) on
        the clipboard, and the app or page where it is pasted opened."""
        runtime = self.ctx.runtime
        account = runtime.store.account(chip.account_id)
        channel = runtime.channels.get(account.channel) if account is not None else None
        try:
            post = runtime.store.post(chip.post_id)
        except StaffettaError as exc:
            self.show_error(exc)
            return
        handover = channel.handover(post, account) if channel and account else None
        if handover is None:
            return
        mime = QMimeData()
        mime.setText(handover.text)
        image = QImage(handover.image) if handover.image else QImage()
        if not image.isNull():
            mime.setImageData(image)
        QGuiApplication.clipboard().setMimeData(mime)
        if handover.open_url and not QDesktopServices.openUrl(QUrl(handover.open_url)):
            self.show_error(
                self.tr("The text is on the clipboard, but {app} could not be opened.").format(
                    app=handover.destination
                )
            )

    def _chip(self, delivery_id: int) -> Chip | None:
        post_id = self.details.post_id
        if post_id is not None:
            chip = self.model.chip(post_id, delivery_id)
            if chip is not None:
                return chip
        try:
            delivery = self.ctx.runtime.store.delivery(delivery_id)
        except StaffettaError:
            return None
        return self.model.chip(delivery.post_id, delivery_id)

    def show_attempts(self, delivery_id: int) -> None:
        """The attempts log of one delivery, in a window of its own (one per delivery)."""
        dialog = self._dialogs.get(delivery_id)
        if dialog is None:
            dialog = DeliveryDialog(self.ctx, delivery_id, self)
            dialog.finished.connect(lambda _result, d=delivery_id: self._dialogs.pop(d, None))
            self._dialogs[delivery_id] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    # --- messages -------------------------------------------------------------------------------
    def show_error(self, error: object) -> None:
        self.message.setText(str(error))
        self._message_bar.show()

    def _hide_message(self) -> None:
        self._message_bar.hide()
        self.message.clear()
