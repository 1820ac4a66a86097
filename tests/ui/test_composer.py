"""The Compose page as a user drives it: typing with live highlighting, images with alt text,
choosing accounts, per-account text, the previews' fixes, publishing and scheduling.

Real widgets (offscreen), a real engine bridge with its worker thread, a static site folder and a
sandbox Mastodon as the accounts. No sleeps: every wait is ``qtbot.waitUntil``/``waitSignal``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PySide6.QtCore import QDateTime, QEvent, QMimeData, Qt, QUrl
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPalette, QTextCharFormat
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from staffetta.core.model import Account, State
from staffetta.core.paths import Paths
from staffetta.core.secrets import SecretStore
from staffetta.core.text import entities
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from staffetta.ui.body_editor import BodyEditor, RunEntities
from staffetta.ui.bridge import EngineBridge
from staffetta.ui.composer import ComposerPage
from staffetta.ui.context import AppContext

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen has no window manager

WAIT = 10_000


@dataclass
class World:
    ctx: AppContext
    runtime: Runtime
    blog: Account
    mastodon: Account
    site: Path
    sandbox: SandboxServer

    def page(self, qtbot: QtBot) -> ComposerPage:
        page = ComposerPage(self.ctx)
        qtbot.addWidget(page)
        page.resize(1200, 800)
        with qtbot.waitActive(page):
            page.show()
            page.activateWindow()
        return page


@pytest.fixture
def world(home: Path, tmp_path: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[World]:
    paths = Paths.under(home)
    site = tmp_path / "site" / "content" / "posts"
    site.mkdir(parents=True)
    with SandboxServer(platforms=["mastodon"]) as sandbox:
        runtime = Runtime.open(paths, secrets=secrets)
        blog = runtime.store.add_account("static_site", "My blog", {"folder": str(site)})
        mastodon = runtime.store.add_account(
            "mastodon",
            "Demo",
            {"instance_url": sandbox.platform_url("mastodon"), "handle": "@demo@sandbox.test"},
        )
        secrets.set(mastodon.id, sandbox.issue_token("mastodon"))
        bridge = EngineBridge(paths, secrets)
        bridge.start()
        ctx = AppContext(runtime, bridge, AppContext.settings_at(runtime))
        try:
            yield World(ctx, runtime, blog, mastodon, site, sandbox)
        finally:
            bridge.stop()
            runtime.close()


def png(path: Path, size: tuple[int, int] = (40, 30), noise: bool = False) -> Path:
    image = PILImage.new("RGB", size, (200, 30, 30))
    if noise:
        rng = random.Random(7)
        image.putdata(
            [tuple(rng.randrange(256) for _ in range(3)) for _ in range(size[0] * size[1])]
        )
    image.save(path, "PNG")
    return path


def type_text(widget: QWidget, text: str) -> None:
    """Type ``text`` key by key, like a keyboard or an input method would (QTest's keyClicks
    only knows ASCII)."""
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char)
            QApplication.sendEvent(widget, event)


def formats_of(editor: BodyEditor, block_number: int = 0) -> dict[tuple[int, int], QTextCharFormat]:
    """The highlighter's formats in a block: (start, length) in UTF-16 units -> format."""
    block = editor.document().findBlockByNumber(block_number)
    return {(f.start, f.length): QTextCharFormat(f.format) for f in block.layout().formats()}


# --- typing ---------------------------------------------------------------------------------------


def test_typing_highlights_links_mentions_and_hashtags(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    text = "Ciao 😀 @anna@example.social! Read https://example.com/a?b=1 #alps, caffè example.org"
    type_text(page.body, text)
    assert page.body.toPlainText() == text

    link = page.palette().color(QPalette.ColorRole.Link)
    ranges = formats_of(page.body)
    # Qt counts UTF-16 units: the emoji before the mention is two of them.
    mention = text.index("@anna")
    assert ranges[(mention + 1, len("@anna@example.social"))].foreground().color() == link
    url = text.index("https://")
    url_format = ranges[(url + 1, len("https://example.com/a?b=1"))]
    assert url_format.fontUnderline()
    assert url_format.foreground().color() == link
    assert (text.index("#alps") + 1, len("#alps")) in ranges
    assert (text.index("example.org") + 1, len("example.org")) in ranges
    assert len(ranges) == 4  # nothing else is coloured


def test_editing_rehighlights_what_changed(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    qtbot.keyClicks(page.body, "see example.com")
    assert list(formats_of(page.body)) == [(4, 11)]
    qtbot.keyClick(page.body, Qt.Key.Key_Backspace)
    qtbot.keyClick(page.body, Qt.Key.Key_Backspace)  # "example.c" is not a link
    assert formats_of(page.body) == {}
    page.body.setPlainText("line one\n#second line")
    assert formats_of(page.body, 0) == {}
    assert list(formats_of(page.body, 1)) == [(0, 7)]


def test_run_by_run_highlighting_finds_exactly_what_the_previews_find() -> None:
    pieces = [
        "a", " ", "\n", "\u00a0", "\u3000", ".", "/", "@", "#", "x.com", "https://", "www.",
        "@u@d.social", "#tag", "😀", "é", "(", ")", "_", "example.org/p?q=1", ":", "ー", "\u200b",
    ]  # fmt: skip
    rng = random.Random(20240605)
    finder = RunEntities()
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        expected = [(s.start, s.end, s.kind) for s in entities(text)]
        assert list(finder.find(text)) == expected, text


# --- accounts -------------------------------------------------------------------------------------


def test_picker_groups_accounts_owned_first_with_handles(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    picker = page.picker
    assert picker.group_titles() == [
        "Owned — your site and newsletters",
        "Social — platforms you post on",
    ]
    blog, masto = picker.row(world.blog.id), picker.row(world.mastodon.id)
    assert blog.check.text() == "My blog"
    assert blog.handle.text() == str(world.site)
    assert masto.handle.text() == "@demo@sandbox.test"
    assert not masto.check.icon().isNull()
    assert "Mastodon" in masto.check.accessibleName()
    # first run: everything selected
    assert picker.selected_ids() == [world.blog.id, world.mastodon.id]


def test_picker_rows_say_when_an_account_needs_you(world: World, qtbot: QtBot) -> None:
    world.runtime.store.pause_account(world.mastodon.id, "the token was revoked")
    world.runtime.store.add_account("carrier_pigeon", "Loft", {})
    page = world.page(qtbot)
    picker = page.picker
    paused = picker.row(world.mastodon.id)
    assert paused.note is not None
    assert paused.note.text() == "Needs reconnecting: posts will wait"
    assert paused.note.isVisible()
    unknown = next(r for r in picker._rows.values() if r.account.channel == "carrier_pigeon")
    assert unknown.note is not None
    assert unknown.note.text() == "This version of Staffetta does not know carrier_pigeon"
    assert not unknown.check.isEnabled()
    assert picker.row(world.blog.id).note is None  # a row with nothing to say has no note


def test_picked_accounts_are_the_next_default(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    page.picker.row(world.mastodon.id).check.click()
    assert page.picker.selected_ids() == [world.blog.id]
    page.shutdown()
    again = world.page(qtbot)
    assert again.picker.selected_ids() == [world.blog.id]


def test_new_accounts_appear_ticked_when_connected(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    page.picker.row(world.mastodon.id).check.click()
    other = world.site.parent / "notes"
    other.mkdir()
    added: list[Account] = []
    world.ctx.bridge.connect_account(
        "static_site", "Notes", {"folder": str(other)}, None, added.append
    )
    qtbot.waitUntil(lambda: len(page.picker.accounts()) == 3, timeout=WAIT)
    assert page.picker.selected_ids() == [world.blog.id, added[0].id]


def test_title_shows_only_for_channels_that_use_one(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    assert page.title_edit.isVisible()
    page.picker.row(world.blog.id).check.click()  # only Mastodon left
    assert not page.title_edit.isVisible()
    page.picker.row(world.blog.id).check.click()
    assert page.title_edit.isVisible()


# --- images ---------------------------------------------------------------------------------------


def test_image_with_alt_text_is_kept_even_if_the_original_goes(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    page = world.page(qtbot)
    original = png(tmp_path / "red.png")
    page.add_image_files([str(original)])
    qtbot.waitUntil(lambda: len(page.images.cards()) == 1, timeout=WAIT)
    card = page.images.cards()[0]
    assert card.nag.isVisible()  # a gentle reminder, not an error
    assert page.message.text() == ""
    qtbot.waitUntil(
        lambda: card.thumbnail.pixmap() is not None and not card.thumbnail.pixmap().isNull()
    )
    qtbot.keyClicks(card.alt_edit, "A red rectangle")
    assert not card.nag.isVisible()
    original.unlink()
    (image,) = page.snapshot().images
    assert image.alt == "A red rectangle"
    assert Path(image.path).is_file()
    assert Path(image.path).parent == page.drafts.media


def test_a_bad_image_is_refused_with_its_reason_and_nothing_is_lost(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    page = world.page(qtbot)
    qtbot.keyClicks(page.body, "Holiday")
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture")
    page.add_image_files([str(notes)])
    qtbot.waitUntil(lambda: page.message.text() != "", timeout=WAIT)
    assert "notes.jpg is a text file, not an image" in page.message.text()
    assert page.images.cards() == []
    assert page.body.toPlainText() == "Holiday"


def test_pasted_and_dropped_pictures_become_images(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    page = world.page(qtbot)
    picture = QImage(30, 20, QImage.Format.Format_RGB32)
    picture.fill(QColor("green"))
    pasted = QMimeData()
    pasted.setImageData(picture)
    page.body.insertFromMimeData(pasted)
    dropped = QMimeData()
    dropped.setUrls([QUrl.fromLocalFile(str(png(tmp_path / "dropped.png")))])
    page.body.insertFromMimeData(dropped)
    qtbot.waitUntil(lambda: len(page.images.cards()) == 2, timeout=WAIT)
    assert page.body.toPlainText() == ""  # no file name or placeholder typed into the text
    first, second = page.snapshot().images
    assert first.mime == "image/png"
    assert Path(first.path).parent == page.drafts.media
    assert Path(second.path).read_bytes() == (tmp_path / "dropped.png").read_bytes()


def test_images_can_be_reordered_and_removed(world: World, qtbot: QtBot, tmp_path: Path) -> None:
    page = world.page(qtbot)
    page.add_image_files([str(png(tmp_path / "a.png", (10, 10))), str(png(tmp_path / "b.png"))])
    qtbot.waitUntil(lambda: len(page.images.cards()) == 2, timeout=WAIT)
    first, second = (img.path for img in page.snapshot().images)
    assert not page.images.cards()[0].left_button.isEnabled()
    qtbot.mouseClick(page.images.cards()[0].right_button, Qt.MouseButton.LeftButton)
    assert [img.path for img in page.snapshot().images] == [second, first]
    qtbot.mouseClick(page.images.cards()[1].remove_button, Qt.MouseButton.LeftButton)
    assert [img.path for img in page.snapshot().images] == [second]


# --- per-account text -----------------------------------------------------------------------------


def test_customise_gives_one_account_its_own_text_and_back(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    qtbot.keyClicks(page.body, "Long common text for everyone")
    row = page.picker.row(world.mastodon.id)
    qtbot.mouseClick(row.customise, Qt.MouseButton.LeftButton)
    editor = page.custom_editor(world.mastodon.id)
    assert editor is not None
    assert editor.toPlainText() == "Long common text for everyone"  # starts from the common text
    assert page.body_tabs.currentWidget() is editor
    assert page.body_tabs.tabText(page.body_tabs.currentIndex()) == "Demo"
    assert row.customise.text() == "Custom text"
    editor.selectAll()
    qtbot.keyClicks(editor, "Short for #mastodon")
    post = page.current_post()
    assert post.text_for(world.mastodon.id) == "Short for #mastodon"
    assert post.text_for(world.blog.id) == "Long common text for everyone"

    page.body_tabs.tabCloseRequested.emit(page.body_tabs.currentIndex())
    assert page.custom_editor(world.mastodon.id) is None
    assert page.current_post().text_for(world.mastodon.id) == "Long common text for everyone"
    assert "uses the common text again" in page.message.text()
    qtbot.mouseClick(page.message.action, Qt.MouseButton.LeftButton)  # Undo
    assert page.current_post().text_for(world.mastodon.id) == "Short for #mastodon"
    # clicking "Custom text" again is the other way back
    qtbot.mouseClick(row.customise, Qt.MouseButton.LeftButton)
    assert page.custom_editor(world.mastodon.id) is None
    assert row.customise.text() == "Customise"
    # an unticked account keeps its text, hidden, and gets it back when ticked again
    page.customise(world.mastodon.id, "Kept")
    row.check.click()
    assert page.current_post().overrides == {}
    assert page.snapshot().overrides == {world.mastodon.id: "Kept"}
    row.check.click()
    assert page.current_post().text_for(world.mastodon.id) == "Kept"


def test_split_fix_writes_a_thread_into_the_accounts_text(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    sentence = "This sentence is here to make the post far too long for one toot. "
    page.body.setPlainText(sentence * 12)
    assert any(p.code == "too_long" for p in page.blocking_details(world.mastodon.id))
    page.apply_fix(world.mastodon.id, "split")
    editor = page.custom_editor(world.mastodon.id)
    assert editor is not None
    assert "\n---\n" in editor.toPlainText()
    assert page.body_tabs.currentWidget() is editor
    assert page.blocking_details(world.mastodon.id) == []
    assert page.body.toPlainText() == sentence * 12  # the blog keeps the whole text


def test_add_alt_fix_puts_the_cursor_in_the_missing_description(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    page = world.page(qtbot)
    page.add_image_files([str(png(tmp_path / "a.png"))])
    qtbot.waitUntil(lambda: len(page.images.cards()) == 1, timeout=WAIT)
    page.body.setFocus()
    page.apply_fix(world.mastodon.id, "add_alt")
    assert page.images.cards()[0].alt_edit.hasFocus()


def test_resize_fix_makes_the_image_fit_the_account(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    world.runtime.store.update_account(
        world.mastodon.id,
        settings={**world.mastodon.settings, "image_size_limit": 20_000},
    )
    world.ctx.bridge.accountsChanged.emit()
    page = world.page(qtbot)
    big = png(tmp_path / "noisy.png", (200, 200), noise=True)
    assert big.stat().st_size > 20_000
    page.add_image_files([str(big)])
    qtbot.waitUntil(lambda: len(page.images.cards()) == 1, timeout=WAIT)
    qtbot.keyClicks(page.images.cards()[0].alt_edit, "Static")
    page.apply_fix(world.mastodon.id, "resize")
    qtbot.waitUntil(lambda: "resized" in page.message.text(), timeout=WAIT)
    (image,) = page.snapshot().images
    assert Path(image.path).stat().st_size <= 20_000
    assert image.alt == "Static"
    assert "resized to fit Demo." in page.message.text()


def test_previews_follow_the_text_and_their_fixes_reach_the_composer(
    world: World, qtbot: QtBot
) -> None:
    page = world.page(qtbot)
    if page.preview is None:
        pytest.skip("the preview pane is not in this build")
    qtbot.keyClicks(page.body, "Hello")
    cards = page.preview.cards()
    assert len(cards) == 2
    assert "5 / 500" in cards[1].count_text()
    page.preview.fixRequested.emit(world.mastodon.id, "customise")
    assert page.custom_editor(world.mastodon.id) is not None
    owned: list[str] = []
    page.addAccountRequested.connect(owned.append)
    page.preview.addOwnedRequested.emit()
    assert owned == ["owned"]


# --- publishing -----------------------------------------------------------------------------------


def test_ctrl_enter_publishes_to_every_selected_account(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    page.title_edit.setText("Alps")
    qtbot.keyClicks(page.body, "Up the mountain #alps")
    page.flush_autosave(wait=True)
    qtbot.waitUntil(lambda: bool(list(page.drafts.folder.glob("*.json"))), timeout=WAIT)
    with qtbot.waitSignal(page.published, timeout=WAIT) as published:
        qtbot.keyClick(page.body, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        # the composer is empty at once, before the outbox confirms
        assert page.body.toPlainText() == ""
        assert page.title_edit.text() == ""
    (post_id,) = published.args
    deliveries = world.runtime.store.deliveries(post_id=post_id)
    assert sorted(d.account_id for d in deliveries) == sorted([world.blog.id, world.mastodon.id])
    assert world.runtime.store.post(post_id).body == "Up the mountain #alps"
    # the published draft is gone; the accounts stay ticked for the next post
    qtbot.waitUntil(lambda: not list(page.drafts.folder.glob("*.json")), timeout=WAIT)
    assert page.picker.selected_ids() == [world.blog.id, world.mastodon.id]
    assert "In the outbox" in page.message.text()
    qtbot.waitUntil(lambda: len(world.sandbox.posts("mastodon")) == 1, timeout=WAIT)


def test_publish_without_accounts_says_so(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    qtbot.keyClicks(page.body, "Hello")
    page.picker.set_selected([])
    assert not page.publish()
    assert page.message.text() == "Choose at least one account to publish to."
    assert page.body.toPlainText() == "Hello"


def test_blocking_problems_are_listed_and_nothing_is_queued(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    page.body.setPlainText("x" * 520)
    qtbot.mouseClick(page.publish_button, Qt.MouseButton.LeftButton)
    message = page.message.text()
    assert message.startswith("Fix these before publishing:")
    assert "Demo: 520 / 500 characters — 20 over" in message
    assert "My blog" not in message
    assert world.runtime.store.post_ids() == []
    assert page.body.toPlainText() == "x" * 520


def test_a_refused_publish_brings_the_post_back(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    qtbot.keyClicks(page.body, "Nothing lost")
    world.runtime.store.remove_account(world.mastodon.id)  # gone behind the window's back
    assert page.publish()
    qtbot.waitUntil(lambda: page.body.toPlainText() == "Nothing lost", timeout=WAIT)
    assert f"No account '{world.mastodon.id}'" in page.message.text()
    assert "back in the composer" in page.message.text()
    page.flush_autosave(wait=True)
    qtbot.waitUntil(lambda: page.drafts.latest_open() is not None, timeout=WAIT)
    latest = page.drafts.latest_open()
    assert latest is not None
    assert latest.body == "Nothing lost"


def test_publishing_without_a_usable_keyring_says_so_and_keeps_the_post(
    home: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    # Nothing was waiting at launch, so the window opened without the engine; the first publish
    # starts it, and the keyring its Mastodon account needs does not work here.
    paths = Paths.under(home)
    runtime = Runtime.open(paths, secrets=SecretStore())  # the suite's default: no keyring works
    runtime.store.add_account("mastodon", "Demo", {"instance_url": "https://social.example"})
    bridge = EngineBridge(paths, SecretStore())
    ctx = AppContext(runtime, bridge, AppContext.settings_at(runtime))
    try:
        assert not bridge.running
        page = ComposerPage(ctx)
        qtbot.addWidget(page)
        qtbot.keyClicks(page.body, "Still here")
        assert page.publish()
        qtbot.waitUntil(lambda: page.body.toPlainText() == "Still here", timeout=WAIT)
        assert "keyring" in page.message.text()
        assert "back in the composer" in page.message.text()
        assert runtime.store.post_ids() == []
    finally:
        bridge.stop()
        runtime.close()


def test_schedule_for_later(world: World, qtbot: QtBot) -> None:
    page = world.page(qtbot)
    qtbot.keyClicks(page.body, "Tomorrow morning")
    dialog = page.choose_schedule()
    past = QDateTime.currentDateTime().addSecs(-3600)
    dialog.when.setMinimumDateTime(past.addDays(-1))
    dialog.when.setDateTime(past)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible()
    assert dialog.error.text() == "Pick a time in the future."

    later = QDateTime.currentDateTime().addSecs(2 * 3600)
    dialog.when.setDateTime(later)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dialog.isVisible()
    assert page.publish_button.text().startswith("&Publish at ")
    with qtbot.waitSignal(page.published, timeout=WAIT) as published:
        assert page.publish()
    deliveries = world.runtime.store.deliveries(post_id=published.args[0])
    assert {d.state for d in deliveries} == {State.SCHEDULED}
    assert {int(d.not_before) for d in deliveries} == {later.toSecsSinceEpoch()}
    assert page.publish_button.text() == "&Publish"  # the fresh draft is not scheduled
