"""Drafts as the user meets them: saved by themselves while typing, back after a restart, listed
in the Drafts dialog to reopen, duplicate or delete, and never lost when the disk refuses."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from staffetta.core.drafts import Draft, DraftStore
from staffetta.core.model import Account, Post
from staffetta.core.paths import Paths
from staffetta.core.secrets import SecretStore
from staffetta.runtime import Runtime
from staffetta.ui.bridge import EngineBridge
from staffetta.ui.composer import ComposerPage
from staffetta.ui.context import AppContext
from staffetta.ui.drafts_dialog import DraftsDialog

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen has no window manager

WAIT = 10_000


@pytest.fixture
def ctx(home: Path, tmp_path: Path, secrets: SecretStore) -> Iterator[AppContext]:
    paths = Paths.under(home)
    runtime = Runtime.open(paths, secrets=secrets)
    site = tmp_path / "site"
    site.mkdir()
    runtime.store.add_account("static_site", "My blog", {"folder": str(site)})
    # The engine is not started: drafts need no network and no outbox.
    bridge = EngineBridge(paths, secrets)
    try:
        yield AppContext(runtime, bridge, AppContext.settings_at(runtime))
    finally:
        runtime.close()


@pytest.fixture
def open_page(ctx: AppContext, qtbot: QtBot) -> Callable[[], ComposerPage]:
    def make() -> ComposerPage:
        page = ComposerPage(ctx)
        qtbot.addWidget(page)
        page.show()
        return page

    return make


def blog(ctx: AppContext) -> Account:
    return ctx.runtime.store.accounts()[0]


def draft_files(page: ComposerPage) -> list[Path]:
    return sorted(page.drafts.folder.glob("*.json"))


def test_typing_saves_the_draft_after_a_pause_on_a_background_thread(
    open_page: Callable[[], ComposerPage], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced_on: list[str] = []
    real_fsync = os.fsync

    def watching_fsync(fd: int) -> None:
        synced_on.append(threading.current_thread().name)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watching_fsync)
    page = open_page()
    assert draft_files(page) == []  # an empty post is not a draft
    saves: list[str] = []
    page.draftSaved.connect(saves.append)
    with qtbot.waitSignal(page.draftSaved, timeout=WAIT):
        qtbot.keyClicks(page.body, "Written on a train")
    (path,) = draft_files(page)
    assert page.drafts.load(path.stem).body == "Written on a train"
    assert saves == [path.stem]  # one save for the whole burst of keys
    assert page.status.text().startswith("Draft saved at ")
    assert synced_on
    assert set(synced_on) == {"staffetta-drafts"}  # never the GUI thread


def test_everything_comes_back_after_a_restart(
    open_page: Callable[[], ComposerPage], ctx: AppContext, qtbot: QtBot, tmp_path: Path
) -> None:
    page = open_page()
    account = blog(ctx)
    page.title_edit.setText("Alps")
    qtbot.keyClicks(page.body, "Up the #mountain")
    page.link_edit.setText("https://example.com/alps")
    page.tags_edit.setText("alps, travel")
    page.cw_edit.setText("heights")
    picture = tmp_path / "peak.png"
    PILImage.new("RGB", (20, 20), (0, 90, 200)).save(picture)
    page.add_image_files([str(picture)])
    qtbot.waitUntil(lambda: len(page.images.cards()) == 1, timeout=WAIT)
    qtbot.keyClicks(page.images.cards()[0].alt_edit, "A blue peak")
    page.customise(account.id, "Only for the blog")
    page.set_schedule(ctx.runtime.clock.now() + 7200)
    before = page.snapshot()
    page.shutdown()  # quitting saves what is pending
    picture.unlink()

    again = open_page()
    after = again.snapshot()
    assert dataclasses.replace(after, updated_at=0) == dataclasses.replace(before, updated_at=0)
    assert again.body.toPlainText() == "Up the #mountain"
    assert again.custom_editor(account.id) is not None
    assert Path(after.images[0].path).is_file()
    qtbot.waitUntil(lambda: not again.images.cards()[0].thumbnail.pixmap().isNull(), timeout=WAIT)


def test_clearing_the_text_discards_the_draft(
    open_page: Callable[[], ComposerPage], qtbot: QtBot
) -> None:
    page = open_page()
    with qtbot.waitSignal(page.draftSaved, timeout=WAIT):
        qtbot.keyClicks(page.body, "Never mind")
    assert len(draft_files(page)) == 1
    page.body.selectAll()
    qtbot.keyClick(page.body, Qt.Key.Key_Delete)
    page.flush_autosave(wait=True)
    assert draft_files(page) == []


def test_new_post_keeps_the_previous_one_as_a_draft(
    open_page: Callable[[], ComposerPage], qtbot: QtBot
) -> None:
    page = open_page()
    qtbot.keyClicks(page.body, "First idea")
    first = page.current_draft_id()
    page.new_draft()
    assert page.body.toPlainText() == ""
    assert page.current_draft_id() != first
    page.flush_autosave(wait=True)
    assert page.drafts.load(first).body == "First idea"
    page.open_draft(first)
    assert page.body.toPlainText() == "First idea"


def test_a_draft_that_was_being_published_is_not_reopened(
    ctx: AppContext, open_page: Callable[[], ComposerPage], qtbot: QtBot
) -> None:
    store = DraftStore(ctx.runtime.paths.drafts)
    now = ctx.runtime.clock.now()
    store.save(dataclasses.replace(Draft.new(now - 60), body="older, still a draft"))
    store.save(dataclasses.replace(Draft.new(now), body="maybe sent", publishing=True))
    page = open_page()
    assert page.body.toPlainText() == "older, still a draft"
    dialog = page.show_drafts()
    assert isinstance(dialog, DraftsDialog)
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert texts[0].startswith("maybe sent")
    assert "check the Outbox before publishing it again" in texts[0]
    dialog.close()


def test_drafts_dialog_reopens_duplicates_and_deletes_with_undo(
    ctx: AppContext, open_page: Callable[[], ComposerPage], qtbot: QtBot
) -> None:
    store = DraftStore(ctx.runtime.paths.drafts)
    now = ctx.runtime.clock.now()
    old = store.save(dataclasses.replace(Draft.new(now - 600), title="Old", body="old text"))
    mid = store.save(dataclasses.replace(Draft.new(now - 300), body="middle text"))
    page = open_page()
    assert page.current_draft_id() == mid.id  # the newest comes back at start
    qtbot.keyClicks(page.body, " edited")

    dialog = page.show_drafts()
    assert isinstance(dialog, DraftsDialog)
    assert dialog.drafts_shown() == [mid.id, old.id]
    assert dialog.list.item(0).text().startswith("middle text edited")  # what is on screen
    assert "open in the composer" in dialog.list.item(0).text()
    assert not dialog.delete_button.isEnabled()  # not under the user's feet

    dialog.select(old.id)
    qtbot.mouseClick(dialog.duplicate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dialog.drafts_shown()) == 3, timeout=WAIT)
    copy_id = dialog.selected_id()
    assert copy_id not in (old.id, mid.id)
    assert dialog.drafts_shown()[0] == copy_id
    assert store.load(copy_id).title == "Old"

    dialog.select(old.id)
    assert dialog.delete_button.isEnabled()
    dialog.list.setFocus()
    qtbot.keyClick(dialog.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: old.id not in dialog.drafts_shown(), timeout=WAIT)
    assert dialog.status.text() == "Draft deleted."
    assert not store.path_of(old.id).exists()
    qtbot.mouseClick(dialog.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: old.id in dialog.drafts_shown(), timeout=WAIT)
    assert store.load(old.id).body == "old text"

    dialog.select(old.id)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert page.current_draft_id() == old.id
    assert page.title_edit.text() == "Old"
    page.flush_autosave(wait=True)
    assert store.load(mid.id).body == "middle text edited"  # kept when switching


def test_damaged_draft_files_are_shown_and_left_alone(
    ctx: AppContext, open_page: Callable[[], ComposerPage], qtbot: QtBot
) -> None:
    folder = ctx.runtime.paths.drafts
    folder.mkdir(parents=True)
    torn = folder / "abcdef.json"
    torn.write_text('{"format": 1, "id": "abcdef", "body": "half')
    page = open_page()
    assert page.body.toPlainText() == ""
    assert "1 draft file(s) could not be read" in page.message.text()
    qtbot.mouseClick(page.message.action, Qt.MouseButton.LeftButton)  # "Drafts…"
    dialog = page.drafts_dialog
    assert isinstance(dialog, DraftsDialog)
    assert dialog.broken.isVisible()
    assert "could not be read and were left untouched" in dialog.broken.text()
    assert "abcdef.json is damaged" in dialog.broken.text()
    assert torn.read_text() == '{"format": 1, "id": "abcdef", "body": "half'
    dialog.close()


def test_a_draft_the_disk_refuses_stays_on_screen_with_the_reason(
    ctx: AppContext, open_page: Callable[[], ComposerPage], qtbot: QtBot
) -> None:
    page = open_page()
    folder = ctx.runtime.paths.drafts
    if folder.is_dir():
        folder.rmdir()
    folder.write_text("a file where the drafts folder should be")
    qtbot.keyClicks(page.body, "Precious words")
    qtbot.waitUntil(lambda: page.message.text() != "", timeout=WAIT)
    assert page.message.text().startswith("Could not save the draft")
    assert page.status.text() == "Draft not saved"
    assert page.body.toPlainText() == "Precious words"

    folder.unlink()  # the disk is back: the next change is saved
    with qtbot.waitSignal(page.draftSaved, timeout=WAIT):
        qtbot.keyClicks(page.body, "!")
    assert page.drafts.load(page.current_draft_id()).body == "Precious words!"


def test_edit_and_requeue_opens_a_stored_post_as_a_draft_for_that_account(
    ctx: AppContext, open_page: Callable[[], ComposerPage], qtbot: QtBot
) -> None:
    page = open_page()
    qtbot.keyClicks(page.body, "Unfinished")
    account = blog(ctx)
    stored = Post(
        body="Common text",
        title="Queued",
        tags=("a", "b"),
        overrides={account.id: "The blog's own text", "other-1": "not for this draft"},
    )
    unfinished = page.current_draft_id()
    page.edit_post(stored, [account.id])
    with qtbot.waitSignal(
        page.draftSaved, timeout=WAIT, check_params_cb=lambda i: i == page.current_draft_id()
    ):
        pass
    assert page.body.toPlainText() == "The blog's own text"
    assert page.title_edit.text() == "Queued"
    assert page.picker.selected_ids() == [account.id]
    draft = page.drafts.load(page.current_draft_id())
    assert (draft.body, draft.tags, draft.overrides) == ("The blog's own text", ("a", "b"), {})
    assert page.drafts.load(unfinished).body == "Unfinished"  # kept
