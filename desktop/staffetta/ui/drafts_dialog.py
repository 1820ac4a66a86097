"""The drafts list: reopen, duplicate or delete what was written earlier.

Reading the list happens here (a few small files); writing (duplicate, delete, undo) goes through
the composer's background thread, the one writer of draft files, so the dialog never waits for an
fsync and never races an autosave. A deleted draft can be brought back with Undo while the dialog
is open. Files that cannot be read are listed with the reason and left untouched.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime, QLocale, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.drafts import Draft, DraftStore
from staffetta.ui.composer_jobs import BackgroundJobs
from staffetta.ui.context import AppContext

if TYPE_CHECKING:
    from staffetta.ui.composer import ComposerPage

_ID_ROLE = Qt.ItemDataRole.UserRole


class DraftsDialog(QDialog):
    """``draftChosen(draft_id)`` when the user opens a draft (the window connects it to
    ``ComposerPage.open_draft``)."""

    draftChosen = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        parent: QWidget | None = None,
        *,
        composer: ComposerPage | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(self.tr("Drafts"))
        self.resize(560, 420)
        if composer is None and parent is not None:
            from staffetta.ui.composer import ComposerPage

            composer = parent.findChild(ComposerPage)
        self._composer = composer
        if composer is not None:
            self._store = composer.drafts
            self._jobs = composer.jobs
            self._own_jobs = False
        else:
            self._store = DraftStore(ctx.runtime.paths.drafts, ctx.runtime.clock)
            self._jobs = BackgroundJobs("staffetta-drafts", self)
            self._own_jobs = True
        self._deleted: Draft | None = None

        self.list = QListWidget(self)
        self.list.setAccessibleName(self.tr("Drafts, newest first"))
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.itemActivated.connect(lambda _item: self.open_selected())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.empty = QLabel(
            self.tr("No drafts. Everything you write is kept here until it is published."), self
        )
        self.empty.setWordWrap(True)
        self.broken = QLabel(self)
        self.broken.setWordWrap(True)
        self.broken.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.broken.hide()
        self.status = QLabel(self)
        self.undo_button = QPushButton(self.tr("&Undo"), self)
        self.undo_button.clicked.connect(self.undo_delete)
        self.undo_button.hide()
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.undo_button)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.open_button = self.buttons.addButton(
            self.tr("&Open"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.open_button.setDefault(True)
        self.duplicate_button = self.buttons.addButton(
            self.tr("D&uplicate"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.delete_button = self.buttons.addButton(
            self.tr("&Delete"), QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.open_button.clicked.connect(self.open_selected)
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.buttons.rejected.connect(self.reject)
        delete_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list)
        delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.activated.connect(self.delete_selected)

        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.broken)
        layout.addLayout(status_row)
        layout.addWidget(self.buttons)
        self.reload()

    # --- listing ---------------------------------------------------------------------------------
    def reload(self, select: str = "") -> None:
        current = select or self.selected_id()
        listing = self._store.list_drafts()
        drafts = list(listing.drafts)
        live = self._composer.snapshot() if self._composer is not None else None
        if live is not None:
            # What the composer shows may be newer than its last save.
            drafts = [live if d.id == live.id else d for d in drafts]
            if not live.is_empty and all(d.id != live.id for d in drafts):
                drafts.insert(0, live)
        self.list.clear()
        for draft in drafts:
            item = QListWidgetItem(self._describe(draft, live))
            item.setData(_ID_ROLE, draft.id)
            self.list.addItem(item)
            if draft.id == current:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self.empty.setVisible(not drafts)
        self.list.setVisible(bool(drafts))
        if listing.broken:
            lines = [b.message for b in listing.broken]
            self.broken.setText(
                self.tr(
                    "%n draft file(s) could not be read and were left untouched:", "", len(lines)
                )
                + "\n"
                + "\n".join(lines)
            )
        self.broken.setVisible(bool(listing.broken))
        self._update_buttons()

    def drafts_shown(self) -> list[str]:
        """The ids listed, top to bottom."""
        return [str(self.list.item(i).data(_ID_ROLE)) for i in range(self.list.count())]

    def selected_id(self) -> str:
        item = self.list.currentItem()
        return str(item.data(_ID_ROLE)) if item is not None else ""

    def select(self, draft_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(_ID_ROLE) == draft_id:
                self.list.setCurrentRow(row)

    def _describe(self, draft: Draft, live: Draft | None) -> str:
        headline = draft.snippet() or (
            self.tr("%n image(s), no text", "", len(draft.images))
            if draft.images
            else self.tr("Untitled draft")
        )
        edited = QLocale().toString(
            QDateTime.fromSecsSinceEpoch(int(draft.updated_at)), QLocale.FormatType.ShortFormat
        )
        details = [self.tr("Edited {when}").format(when=edited)]
        if draft.images:
            details.append(self.tr("%n image(s)", "", len(draft.images)))
        if draft.accounts:
            details.append(self.tr("%n channel(s)", "", len(draft.accounts)))
        if draft.scheduled_at is not None:
            when = QLocale().toString(
                QDateTime.fromSecsSinceEpoch(int(draft.scheduled_at)),
                QLocale.FormatType.ShortFormat,
            )
            details.append(self.tr("scheduled for {when}").format(when=when))
        if live is not None and draft.id == live.id:
            details.append(self.tr("open in the composer"))
        text = headline + "\n" + " · ".join(details)
        if draft.publishing:
            text += "\n" + self.tr(
                "Staffetta stopped while publishing this one: check the Outbox before "
                "publishing it again."
            )
        return text

    def _update_buttons(self) -> None:
        draft_id = self.selected_id()
        is_open = self._composer is not None and self._composer.current_draft_id() == draft_id
        for button in (self.open_button, self.duplicate_button, self.delete_button):
            button.setEnabled(bool(draft_id))
        self.delete_button.setEnabled(bool(draft_id) and not is_open)
        self.delete_button.setToolTip(
            self.tr("This draft is open in the composer: clear its text to discard it.")
            if is_open
            else ""
        )

    # --- actions ---------------------------------------------------------------------------------
    def open_selected(self) -> None:
        draft_id = self.selected_id()
        if draft_id:
            self.draftChosen.emit(draft_id)
            self.accept()

    def duplicate_selected(self) -> None:
        draft_id = self.selected_id()
        if not draft_id:
            return
        if self._composer is not None and self._composer.current_draft_id() == draft_id:
            self._composer.flush_autosave()  # the copy gets what is on screen
        self._jobs.run(
            lambda: self._store.duplicate(draft_id),
            lambda copy: self._done(self.tr("Draft duplicated."), copy.id),
            self._failed,
        )

    def delete_selected(self) -> None:
        draft_id = self.selected_id()
        if not draft_id or not self.delete_button.isEnabled():
            return

        def delete() -> Draft:
            draft = self._store.load(draft_id)
            self._store.delete(draft_id)
            return draft

        def deleted(draft: Draft) -> None:
            self._deleted = draft
            self._done(self.tr("Draft deleted."), "")
            self.undo_button.show()

        self._jobs.run(delete, deleted, self._failed)

    def undo_delete(self) -> None:
        draft = self._deleted
        if draft is None:
            return
        self._deleted = None
        self.undo_button.hide()
        restored = dataclasses.replace(draft, publishing=False)
        self._jobs.run(
            lambda: self._store.save(restored),
            lambda d: self._done(self.tr("Draft restored."), d.id),
            self._failed,
        )

    def _done(self, message: str, select: str) -> None:
        self.undo_button.hide()
        self.status.setText(message)
        self.reload(select)

    def _failed(self, exc: Exception) -> None:
        self.status.setText(str(exc))
        self.reload()

    def done(self, result: int) -> None:
        if self._own_jobs:
            self._jobs.shutdown()
        super().done(result)
