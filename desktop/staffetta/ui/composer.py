"""The Compose page: write once, pick the accounts, see every preview, publish.

Layout: accounts on the left (:mod:`channel_picker`), the post in the middle (title when a selected
channel uses one, the body with live entity highlighting and a tab per account with its own text,
images with alt text, link, tags, content warning), the live previews on the right (``PreviewPane``
from :mod:`staffetta.ui.preview`, loaded lazily so this page works before it exists).

What the user writes is a :class:`~staffetta.core.drafts.Draft`, saved on every change after a
short pause by :class:`~staffetta.ui.composer_jobs.Autosaver` on a background thread; at start the
newest draft that was not being published comes back. Publishing hands the post to the engine
bridge (one transaction, every copy in the outbox) and starts a fresh draft at once; the published
draft is deleted only when the outbox confirms, and comes back with the reason if it refuses.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QDateTime,
    QLocale,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.channel import Fix, Problem
from staffetta.core.drafts import Draft, DraftError, DraftStore, parse_tags
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Account, ChannelGroup, Image, Post
from staffetta.ui.body_editor import BodyEditor, mime_images
from staffetta.ui.channel_picker import ChannelPicker
from staffetta.ui.composer_jobs import Autosaver, BackgroundJobs
from staffetta.ui.context import AppContext
from staffetta.ui.icons import channel_icon
from staffetta.ui.image_strip import ImageStrip, read_thumbnail
from staffetta.ui.message_bar import MessageBar

if TYPE_CHECKING:
    from PySide6.QtWidgets import QFileDialog

    from staffetta.core import media
    from staffetta.ui.schedule_dialog import ScheduleDialog
else:  # Pillow and image handling: with the first image
    media = lazy_module("staffetta.core.media")

log = logging.getLogger(__name__)

IMAGE_FOLDER_KEY = "composer/last_image_folder"
IMAGE_FILTER = "*.jpg *.jpeg *.png *.gif *.webp *.bmp *.tif *.tiff *.avif"
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
# Once the window is up and idle, what the first keystroke needs (the cards' modules, counting's
# Unicode tables, Markdown) is loaded a step at a time, so the first character does not wait for it.
WARM_UP_DELAY_MS = 300
_WARM_UP_TEXT = "Warm-up: café 👍🏽 https://example.org/a?b=c @someone #tag\n\n**Markdown** _too_."


class ComposerPage(QWidget):
    """The Compose page. Public for the window and tests: :meth:`new_draft`,
    :meth:`open_draft`, :meth:`publish`, :meth:`show_drafts`, :meth:`shutdown`."""

    published = Signal(int)  # post id, once every copy is in the outbox
    addAccountRequested = Signal(str)  # ChannelGroup value, or "" for any
    draftSaved = Signal(str)  # draft id, once the draft is durably on disk

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.drafts = DraftStore(ctx.runtime.paths.drafts, ctx.runtime.clock)
        self.jobs = BackgroundJobs("staffetta-drafts", self)  # the one writer of draft files
        self.media_jobs = BackgroundJobs("staffetta-media", self)  # image checks and thumbnails
        self._draft = Draft.new(self._now())
        self._loading = False
        self._closed = False
        self._warm_up: Iterator[None] | None = None
        self._imports = 0
        self._in_flight: dict[str, Draft] = {}
        self._custom: dict[str, BodyEditor] = {}
        self.schedule_dialog: ScheduleDialog | None = None
        self.file_dialog: QFileDialog | None = None
        self.drafts_dialog: QWidget | None = None

        self._build()
        self.autosaver = Autosaver(self.drafts, self.jobs, self.snapshot, parent=self)
        self.autosaver.saved.connect(self._on_saved)
        self.autosaver.failed.connect(self._on_save_failed)

        latest = self._latest_draft()
        if latest is not None:
            self._show(latest, on_disk=True)
        else:
            self._show(Draft.new(self._now(), self.picker.default_ids()), on_disk=False)
        self.jobs.run(self.drafts.prune_media)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- building --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.picker = ChannelPicker(self.ctx, self)
        self.picker.setMinimumWidth(200)
        self.picker.selectionChanged.connect(self._on_selection_changed)
        self.picker.customiseRequested.connect(self.customise)
        self.picker.commonTextRequested.connect(self.use_common_text)
        self.picker.addAccountRequested.connect(self.addAccountRequested.emit)

        self.title_edit = QLineEdit(self)
        self.title_edit.setPlaceholderText(self.tr("Title"))
        self.title_edit.setAccessibleName(self.tr("Title"))
        self.title_edit.textChanged.connect(self._on_changed)

        self.body = self._make_editor()
        self.body.setPlaceholderText(self.tr("What would you like to share?"))
        self.body.setAccessibleName(self.tr("Post text"))
        self.body_tabs = QTabWidget(self)
        self.body_tabs.setDocumentMode(True)
        self.body_tabs.setTabsClosable(True)
        self.body_tabs.addTab(self.body, self.tr("Common text"))
        bar = self.body_tabs.tabBar()
        for side in (QTabBar.ButtonPosition.RightSide, QTabBar.ButtonPosition.LeftSide):
            bar.setTabButton(0, side, None)
        self.body_tabs.tabCloseRequested.connect(self._on_tab_close)

        self.images = ImageStrip(self._load_thumbnail, self)
        self.images.changed.connect(self._on_changed)
        self.images.addRequested.connect(self.choose_images)
        self.images.filesDropped.connect(self.add_image_files)
        self.images.imagePasted.connect(self.add_pasted_image)

        self.link_edit = QLineEdit(self)
        self.link_edit.setPlaceholderText(self.tr("https://… (optional)"))
        self.link_edit.setAccessibleName(self.tr("Link"))
        self.link_edit.textChanged.connect(self._on_changed)
        self.tags_edit = QLineEdit(self)
        self.tags_edit.setPlaceholderText(self.tr("travel, photography (optional)"))
        self.tags_edit.setAccessibleName(self.tr("Tags, separated by commas"))
        self.tags_edit.textChanged.connect(self._on_changed)
        self.cw_edit = QLineEdit(self)
        self.cw_edit.setPlaceholderText(self.tr("Shown before the post where supported (optional)"))
        self.cw_edit.setAccessibleName(self.tr("Content warning"))
        self.cw_edit.textChanged.connect(self._on_changed)
        self.numbering = QCheckBox(self.tr("&Number thread parts (1/3, 2/3…)"), self)
        self.numbering.toggled.connect(self._on_changed)
        options = QFormLayout()
        options.addRow(self.tr("&Link:"), self.link_edit)
        options.addRow(self.tr("T&ags:"), self.tags_edit)
        options.addRow(self.tr("Content &warning:"), self.cw_edit)
        options.addRow(self.numbering)

        self.message = MessageBar(self)
        self.status = QLabel(self)
        self.status.setAccessibleName(self.tr("Draft status"))
        self.drafts_button = QPushButton(self.tr("&Drafts…"), self)
        self.drafts_button.clicked.connect(self.show_drafts)
        self.schedule_button = QPushButton(self.tr("&Schedule…"), self)
        self.schedule_button.clicked.connect(self.choose_schedule)
        self.publish_button = QPushButton(self.tr("&Publish"), self)
        self.publish_button.setDefault(True)
        self.publish_button.setToolTip(self.tr("Publish (Ctrl+Enter)"))
        self.publish_button.clicked.connect(self.publish)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.drafts_button)
        buttons.addWidget(self.schedule_button)
        buttons.addWidget(self.publish_button)

        editor = QWidget(self)
        column = QVBoxLayout(editor)
        column.addWidget(self.title_edit)
        column.addWidget(self.body_tabs, 1)
        column.addWidget(self.images)
        column.addLayout(options)
        column.addWidget(self.message)
        column.addLayout(buttons)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("composer")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.picker)
        self.splitter.addWidget(editor)
        self.preview = self._make_preview()
        if self.preview is not None:
            self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.publish)
        self.setAcceptDrops(True)
        self.setTabOrder(self.title_edit, self.body)

    def _make_editor(self) -> BodyEditor:
        editor = BodyEditor(self)
        editor.textChanged.connect(self._on_changed)
        editor.imagePasted.connect(self.add_pasted_image)
        editor.filesDropped.connect(self.add_image_files)
        return editor

    def _make_preview(self) -> Any:
        try:
            module = importlib.import_module("staffetta.ui.preview")
        except ModuleNotFoundError as exc:
            if exc.name != "staffetta.ui.preview":
                raise
            return None
        pane = module.PreviewPane(self.ctx, self)
        pane.fixRequested.connect(self.apply_fix)
        pane.addOwnedRequested.connect(lambda: self.addAccountRequested.emit(ChannelGroup.OWNED))
        return pane

    # --- the draft on screen ---------------------------------------------------------------------
    def _now(self) -> float:
        return self.ctx.runtime.clock.now()

    def current_draft_id(self) -> str:
        return self._draft.id

    def snapshot(self) -> Draft:
        """The draft exactly as the page shows it now."""
        return dataclasses.replace(
            self._draft,
            title=self.title_edit.text(),
            body=self.body.toPlainText(),
            link=self.link_edit.text(),
            tags=parse_tags(self.tags_edit.text()),
            images=self.images.images(),
            overrides={aid: ed.toPlainText() for aid, ed in self._custom.items()},
            accounts=tuple(self.picker.selected_ids()),
            content_warning=self.cw_edit.text(),
            thread_numbering=self.numbering.isChecked(),
            updated_at=self._now(),
            publishing=False,
        )

    def current_post(self) -> Post:
        """The post the previews show and Publish sends."""
        selected = set(self.picker.selected_ids())
        return Post(
            body=self.body.toPlainText(),
            title=self.title_edit.text(),
            images=self.images.images(),
            link=self.link_edit.text().strip(),
            tags=parse_tags(self.tags_edit.text()),
            overrides={a: e.toPlainText() for a, e in self._custom.items() if a in selected},
            content_warning=self.cw_edit.text().strip(),
            scheduled_at=self._draft.scheduled_at,
            thread_numbering=self.numbering.isChecked(),
        )

    def _show(self, draft: Draft, *, on_disk: bool) -> None:
        self._loading = True
        try:
            self._draft = draft
            self.title_edit.setText(draft.title)
            self.body.setPlainText(draft.body)
            self.link_edit.setText(draft.link)
            self.tags_edit.setText(", ".join(draft.tags))
            self.cw_edit.setText(draft.content_warning)
            self.numbering.setChecked(draft.thread_numbering)
            self.images.set_images(draft.images)
            for account_id in list(self._custom):
                self._drop_custom(account_id)
            for account_id, text in draft.overrides.items():
                self._add_custom(account_id, text)
            self.picker.set_selected(draft.accounts)
            self._update_schedule()
        finally:
            self._loading = False
        self.autosaver.adopt(self.snapshot(), on_disk=on_disk)
        self.body_tabs.setCurrentIndex(0)
        self._on_selection_changed()
        if self.body.document().characterCount() > 1:  # carry on where the user stopped
            from PySide6.QtGui import QTextCursor  # (its enums only once there is text: ~0.5 %)

            self.body.moveCursor(QTextCursor.MoveOperation.End)
        self.body.setFocus()

    def _latest_draft(self) -> Draft | None:
        """The newest draft not being published; damaged draft files are mentioned, not opened."""
        listing = self.drafts.list_drafts()
        if listing.broken:
            self.message.show_message(
                self.tr(
                    "%n draft file(s) could not be read. They were left untouched; Drafts… "
                    "says why.",
                    "",
                    len(listing.broken),
                ),
                error=True,
                action=(self.tr("Drafts…"), self.show_drafts),
            )
        return next((d for d in listing.drafts if not d.publishing), None)

    def new_draft(self) -> None:
        """Keep what is on screen as a draft and start an empty post (same accounts)."""
        self.autosaver.flush()
        accounts = self.picker.selected_ids() or self.picker.default_ids()
        self._show(Draft.new(self._now(), accounts), on_disk=False)
        self.message.dismiss()
        self.status.clear()

    def open_draft(self, draft_id: str) -> None:
        """Show the draft ``draft_id`` (what is on screen is kept as a draft first)."""
        if draft_id == self._draft.id:
            return
        try:
            draft = self.drafts.load(draft_id)
        except DraftError as exc:
            self.message.show_message(str(exc), error=True)
            return
        self.autosaver.flush()
        self._show(dataclasses.replace(draft, publishing=False), on_disk=True)
        self.message.dismiss()

    def edit_post(self, post: Post, account_ids: Sequence[str]) -> None:
        """Open a post from the outbox ("edit and requeue") as a new draft for ``account_ids``,
        with the text those accounts would get; what is on screen is kept as a draft first."""
        self.autosaver.flush()
        ids = list(account_ids)
        single = len(ids) == 1
        draft = dataclasses.replace(
            Draft.new(self._now(), ids),
            title=post.title,
            body=post.text_for(ids[0]) if single else post.body,
            link=post.link,
            tags=post.tags,
            images=post.images,
            overrides={} if single else {a: t for a, t in post.overrides.items() if a in ids},
            content_warning=post.content_warning,
            thread_numbering=post.thread_numbering,
        )
        self._show(draft, on_disk=False)
        self.message.dismiss()
        self.autosaver.forget(draft.id)  # not on disk yet: the next save must write it
        self.autosaver.changed()

    def flush_autosave(self, *, wait: bool = False) -> None:
        self.autosaver.flush(wait=wait)

    def show_drafts(self) -> QWidget:
        from staffetta.ui.drafts_dialog import DraftsDialog

        self.autosaver.flush()
        dialog = DraftsDialog(self.ctx, self, composer=self)
        dialog.draftChosen.connect(self.open_draft)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.drafts_dialog = dialog
        dialog.open()
        return dialog

    # --- changes ---------------------------------------------------------------------------------
    # --- warm-up ----------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._warm_up is None:
            self._warm_up = self._warm_up_steps()
            QTimer.singleShot(WARM_UP_DELAY_MS, self._warm_up_step)

    def _warm_up_step(self) -> None:
        """One step, then back to the event loop: a key pressed meanwhile is handled first."""
        if self._closed or self._warm_up is None:
            return
        if next(self._warm_up, False) is not False:
            QTimer.singleShot(0, self._warm_up_step)

    def _warm_up_steps(self) -> Iterator[None]:
        import staffetta.ui.preview_card  # noqa: F401  (the cards, their media and thread parts)

        yield
        sample = Post(body=_WARM_UP_TEXT, title="Warm-up", link="https://example.org/")
        seen: set[str] = set()
        for account in self.picker.selected_accounts():
            channel = self.ctx.runtime.channels.get(account.channel)
            if channel is None or account.channel in seen:
                continue
            seen.add(account.channel)
            try:
                channel.preview(sample, account)  # counting, entities, rendering: nothing shown
            except Exception:  # the real keystroke will say what is wrong
                log.debug("warm-up preview of %s failed", account.channel, exc_info=True)
            yield

    def _on_changed(self) -> None:
        if self._loading:
            return
        self.autosaver.changed()
        self._update_preview()

    def _on_selection_changed(self) -> None:
        if self._loading:
            return
        accounts = self.picker.selected_accounts()
        channels = [self.ctx.runtime.channels.get(a.channel) for a in accounts]
        uses_title = any(
            c is not None and c.limits(a).uses_title
            for c, a in zip(channels, accounts, strict=True)
        )
        self.title_edit.setVisible(uses_title)
        self.numbering.setVisible(any(c is not None and c.supports_threads for c in channels))
        selected = {a.id for a in accounts}
        for account_id, editor in self._custom.items():
            index = self.body_tabs.indexOf(editor)
            self.body_tabs.setTabVisible(index, account_id in selected)
        self.body_tabs.tabBar().setVisible(bool(selected & self._custom.keys()))
        self._on_changed()

    def _update_preview(self) -> None:
        if self.preview is not None:
            self.preview.set_post(self.current_post(), self.picker.selected_accounts())

    def _on_saved(self, draft: Draft) -> None:
        if draft.id == self._draft.id:
            time = QLocale().toString(QDateTime.currentDateTime().time(), "HH:mm")
            self.status.setText(self.tr("Draft saved at {time}").format(time=time))
        self.draftSaved.emit(draft.id)

    def _on_save_failed(self, message: str) -> None:
        self.status.setText(self.tr("Draft not saved"))
        self.message.show_message(message, error=True)

    # --- per-account text ------------------------------------------------------------------------
    def _account(self, account_id: str) -> Account | None:
        return next((a for a in self.picker.accounts() if a.id == account_id), None)

    def custom_editor(self, account_id: str) -> BodyEditor | None:
        return self._custom.get(account_id)

    def customise(self, account_id: str, text: str | None = None) -> BodyEditor:
        """Give the account its own text (starting from the common text, or ``text``)."""
        editor = self._custom.get(account_id)
        if editor is None:
            editor = self._add_custom(account_id, self.body.toPlainText() if text is None else text)
        elif text is not None:
            editor.setPlainText(text)
        self.picker.set_customised(self._custom)
        self._on_selection_changed()
        self.body_tabs.setCurrentWidget(editor)
        editor.setFocus()
        return editor

    def _add_custom(self, account_id: str, text: str) -> BodyEditor:
        account = self._account(account_id)
        name = account.name if account is not None else account_id
        editor = self._make_editor()
        editor.setPlainText(text)
        editor.setAccessibleName(self.tr("Text for {name}").format(name=name))
        index = self.body_tabs.addTab(editor, name)
        if account is not None:
            self.body_tabs.setTabIcon(index, channel_icon(account.channel))
        self.body_tabs.setTabToolTip(
            index,
            self.tr("Only {name} gets this text. Close the tab to use the common text.").format(
                name=name
            ),
        )
        self._custom[account_id] = editor
        self.picker.set_customised(self._custom)
        return editor

    def _drop_custom(self, account_id: str) -> str:
        editor = self._custom.pop(account_id)
        text = editor.toPlainText()
        self.body_tabs.removeTab(self.body_tabs.indexOf(editor))
        editor.deleteLater()
        self.picker.set_customised(self._custom)
        return text

    def use_common_text(self, account_id: str) -> None:
        """Drop the account's own text (Undo brings it back)."""
        if account_id not in self._custom:
            return
        text = self._drop_custom(account_id)
        account = self._account(account_id)
        name = account.name if account is not None else account_id
        self._on_selection_changed()

        def undo() -> None:
            self.customise(account_id, text)

        self.message.show_message(
            self.tr("{name} uses the common text again.").format(name=name),
            action=(self.tr("Undo"), undo),
        )

    def _on_tab_close(self, index: int) -> None:
        widget = self.body_tabs.widget(index)
        account_id = next((a for a, e in self._custom.items() if e is widget), None)
        if account_id is not None:
            self.use_common_text(account_id)

    # --- fixes offered by the previews -----------------------------------------------------------
    def apply_fix(self, account_id: str, fix: str) -> None:
        account = self._account(account_id)
        if fix == Fix.ADD_ALT:
            self.images.focus_first_missing_alt()
        elif fix == Fix.ADD_IMAGE:
            self.choose_images()
        elif account is None:
            return
        elif fix == Fix.SPLIT:
            self._split(account)
        elif fix == Fix.CUSTOMISE:
            self.customise(account_id)
        elif fix == Fix.RESIZE:
            self.resize_images_for(account_id)
        elif fix == Fix.REMOVE_IMAGES:
            self.remove_images_for(account_id)

    def _split(self, account: Account) -> None:
        channel = self.ctx.runtime.channels[account.channel]
        try:
            text = channel.thread_text(self.current_post(), account)
        except NotImplementedError:
            self.customise(account.id)
            self.message.show_message(
                self.tr("{platform} does not publish threads: shorten the text for {name}.").format(
                    platform=channel.label, name=account.name
                )
            )
            return
        self.customise(account.id, text)
        self.message.show_message(
            self.tr(
                "Split into a thread for {name}. Move the --- lines to choose where each part ends."
            ).format(name=account.name)
        )

    def resize_images_for(self, account_id: str) -> None:
        """Make every image too large for this account fit its limits now (copies are kept)."""
        account = self._account(account_id)
        if account is None:
            return
        limits = self.ctx.runtime.channels[account.channel].limits(account)
        images = self.images.images()

        def work() -> list[tuple[str, Image]]:
            done = []
            for image in images:
                info = media.inspect_image(Path(image.path))
                if (
                    info.size_bytes <= limits.max_image_bytes
                    and info.width * info.height <= limits.max_image_pixels
                ):
                    continue
                ready = media.prepare_image(
                    Path(image.path),
                    max_bytes=limits.max_image_bytes,
                    max_pixels=limits.max_image_pixels,
                )
                name = f"{Path(image.path).stem[:12]}-resized.{_EXTENSIONS.get(ready.mime, 'jpg')}"
                done.append((image.path, self.drafts.import_bytes(ready.data, name, image.alt)))
            return done

        def finished(done: list[tuple[str, Image]]) -> None:
            for old_path, new in done:
                for index, image in enumerate(self.images.images()):
                    if image.path == old_path:
                        self.images.replace_image(index, dataclasses.replace(new, alt=image.alt))
            self.message.show_message(
                self.tr("%n image(s) resized to fit {name}.", "", len(done)).format(
                    name=account.name
                )
            )

        self.media_jobs.run(work, finished, self._image_failed)

    def remove_images_for(self, account_id: str) -> None:
        """Remove the images this account cannot take (unreadable ones, then the extra ones
        beyond its limit); Undo puts them back."""
        account = self._account(account_id)
        if account is None:
            return
        limit = self.ctx.runtime.channels[account.channel].limits(account).max_images
        before = self.images.images()

        def readable(image: Image) -> bool:
            try:
                media.inspect_image(Path(image.path))
            except Exception:
                return False
            return True

        def work() -> tuple[Image, ...]:
            return tuple(image for image in before if readable(image))[:limit]

        def finished(kept: tuple[Image, ...]) -> None:
            if self.images.images() != before:
                return  # the user changed the images meanwhile: theirs wins
            self.images.set_images(kept)
            self._on_changed()
            self.message.show_message(
                self.tr("%n image(s) removed.", "", len(before) - len(kept)),
                action=(self.tr("Undo"), lambda: self._restore_images(before)),
            )

        self.media_jobs.run(work, finished, self._image_failed)

    def _restore_images(self, images: Sequence[Image]) -> None:
        self.images.set_images(images)
        self._on_changed()

    # --- images ----------------------------------------------------------------------------------
    def _load_thumbnail(self, path: str, size: Any, done: Any) -> None:
        self.media_jobs.run(lambda: read_thumbnail(path, size), done)

    def choose_images(self) -> None:
        folder = self.ctx.settings.value(IMAGE_FOLDER_KEY, "")
        from PySide6.QtWidgets import QFileDialog  # its class and enums: when first opened

        dialog = QFileDialog(self, self.tr("Add images"), str(folder or Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters([self.tr("Images ({patterns})").format(patterns=IMAGE_FILTER)])
        dialog.filesSelected.connect(self._on_files_chosen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.file_dialog = dialog
        dialog.open()

    def _on_files_chosen(self, files: list[str]) -> None:
        if files:
            self.ctx.settings.setValue(IMAGE_FOLDER_KEY, str(Path(files[0]).parent))
        self.add_image_files(files)

    def add_image_files(self, paths: Sequence[str]) -> None:
        """Check and copy each picture in the background; each is added when ready, or refused
        with the reason (nothing else changes)."""
        for path in paths:
            self._begin_import()
            self.media_jobs.run(
                functools.partial(self._import_file, path), self._imported, self._image_failed
            )

    def add_pasted_image(self, image: QImage) -> None:
        name = self.tr("Pasted image") + ".png"
        picture = image.copy()
        self._begin_import()
        self.media_jobs.run(
            lambda: self._import_data(picture, name), self._imported, self._image_failed
        )

    def _import_file(self, path: str) -> tuple[Image, QImage]:  # media thread
        image = self.drafts.import_image(Path(path))
        return image, read_thumbnail(image.path)

    def _import_data(self, picture: QImage, name: str) -> tuple[Image, QImage]:  # media thread
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QBuffer.OpenModeFlag.WriteOnly)
        # PySide6 takes the format as str here (its stubs say bytes, which it refuses)
        picture.save(buffer, "PNG")  # type: ignore[call-overload]
        buffer.close()
        image = self.drafts.import_bytes(bytes(data.data()), name)
        return image, read_thumbnail(image.path)

    def _begin_import(self) -> None:
        self._imports += 1
        self.images.set_busy(self.tr("Adding %n image(s)…", "", self._imports))

    def _end_import(self) -> None:
        self._imports = max(0, self._imports - 1)
        busy = self.tr("Adding %n image(s)…", "", self._imports) if self._imports else ""
        self.images.set_busy(busy)

    def _imported(self, result: tuple[Image, QImage]) -> None:
        image, thumbnail = result
        self._end_import()
        self.images.remember_thumbnail(image.path, thumbnail)
        self.images.add_image(image)
        if not image.alt:
            self.images.cards()[-1].alt_edit.setFocus()

    def _image_failed(self, exc: Exception) -> None:
        self._end_import()
        self.message.show_message(str(exc), error=True)

    # --- drops anywhere on the page --------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        files, image = mime_images(event.mimeData())
        if files or image is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files, image = mime_images(event.mimeData())
        if files:
            self.add_image_files(files)
        elif image is not None:
            self.add_pasted_image(image)
        event.acceptProposedAction()

    # --- schedule --------------------------------------------------------------------------------
    def choose_schedule(self) -> ScheduleDialog:
        from staffetta.ui.schedule_dialog import ScheduleDialog

        dialog = ScheduleDialog(self._draft.scheduled_at, self._now, self)
        dialog.accepted.connect(lambda: self.set_schedule(dialog.chosen()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.schedule_dialog = dialog
        dialog.open()
        return dialog

    def set_schedule(self, when: float | None) -> None:
        self._draft = dataclasses.replace(self._draft, scheduled_at=when)
        self._update_schedule()
        self._on_changed()

    def _update_schedule(self) -> None:
        when = self._draft.scheduled_at
        if when is None:
            self.publish_button.setText(self.tr("&Publish"))
            self.schedule_button.setText(self.tr("&Schedule…"))
            return
        text = QLocale().toString(
            QDateTime.fromSecsSinceEpoch(int(when)), QLocale.FormatType.ShortFormat
        )
        self.publish_button.setText(self.tr("&Publish at {when}").format(when=text))
        self.schedule_button.setText(self.tr("Re&schedule…"))

    # --- publishing ------------------------------------------------------------------------------
    def blocking_problems(self, post: Post, accounts: Sequence[Account]) -> list[str]:
        """What stops this post from going out, one line per problem, per account."""
        return [
            f"{account.name}: {problem.message}"
            for account in accounts
            for problem in self._blocking(post, account)
        ]

    def blocking_details(self, account_id: str) -> list[Problem]:
        """The problems that stop the post on screen from going to this account."""
        account = self._account(account_id)
        return self._blocking(self.current_post(), account) if account is not None else []

    def _blocking(self, post: Post, account: Account) -> list[Problem]:
        channel = self.ctx.runtime.channels.get(account.channel)
        if channel is None:
            return []
        return [p for p in channel.preview(post, account).problems if p.blocking]

    def publish(self) -> bool:
        """Queue the post for the selected accounts; False (with a message) if it cannot go."""
        accounts = self.picker.selected_accounts()
        if not accounts:
            self.message.show_message(
                self.tr("Choose at least one account to publish to."), error=True
            )
            return False
        if self._imports:
            self.message.show_message(
                self.tr("Images are still being added; publish again in a moment."), error=True
            )
            return False
        draft = self.snapshot()
        if draft.scheduled_at is not None and draft.scheduled_at <= self._now():
            self.message.show_message(
                self.tr("The scheduled time has passed. Pick a new time or don't schedule."),
                error=True,
                action=(self.tr("Schedule…"), self.choose_schedule),
            )
            return False
        post = draft.to_post()
        problems = self.blocking_problems(post, accounts)
        if problems:
            self.message.show_message(
                self.tr("Fix these before publishing:")
                + "\n"
                + "\n".join(f"• {p}" for p in problems),
                error=True,
            )
            return False
        ids = [a.id for a in accounts]
        handed = dataclasses.replace(draft, publishing=True)
        self._in_flight[draft.id] = handed
        self.autosaver.forget(draft.id)

        # The draft is marked as being published (durably) before the outbox gets it, so a crash
        # in between never brings it back as an ordinary draft to publish twice.
        def hand_over(_result: object = None) -> None:
            self.ctx.bridge.publish(
                post,
                ids,
                functools.partial(self._on_published, handed),
                functools.partial(self._on_publish_failed, handed),
            )

        self.jobs.run(lambda: self.drafts.save(handed), hand_over, hand_over)
        self._show(Draft.new(self._now(), ids), on_disk=False)
        self.status.clear()
        self.message.show_message(self.tr("Publishing to %n account(s)…", "", len(ids)))
        return True

    def _on_published(self, draft: Draft, post_id: int) -> None:
        self._in_flight.pop(draft.id, None)
        self.jobs.run(lambda: self.drafts.delete(draft.id))
        self.message.show_message(
            self.tr("In the outbox. Each copy goes out as soon as its platform accepts it.")
        )
        self.published.emit(int(post_id))

    def _on_publish_failed(self, draft: Draft, exc: Exception) -> None:
        self._in_flight.pop(draft.id, None)
        restored = dataclasses.replace(draft, publishing=False, updated_at=self._now())
        self.jobs.run(lambda: self.drafts.save(restored))
        if self.snapshot().is_empty:
            self._show(restored, on_disk=True)
            self.message.show_message(
                self.tr("Not published: {error} Your post is back in the composer.").format(
                    error=exc
                ),
                error=True,
            )
        else:
            self.message.show_message(
                self.tr("Not published: {error} Your post was kept in Drafts.").format(error=exc),
                error=True,
                action=(self.tr("Open"), lambda: self.open_draft(restored.id)),
            )

    # --- shutting down ---------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Save what is pending and stop the background threads (the app is quitting)."""
        if self._closed:
            return
        self._closed = True
        self.autosaver.flush()
        self.jobs.shutdown()
        self.media_jobs.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
