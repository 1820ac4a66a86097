"""The live previews as a user sees them: counts against each platform's limit, highlighted
entities, warnings with one-click fixes, the owned-first note, blog rendering.

Real widgets (offscreen), accounts connected through the real engine bridge: the Mastodon one to a
sandbox server whose character limit (300) the channel reads when connecting, the blog to a
folder. No sleeps: every wait is ``qtbot.waitUntil``/``waitSignal``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PySide6.QtGui import QPalette, QTextDocument
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from staffetta.core.channel import (
    Channel,
    DeliveryContext,
    Limits,
    Preview,
    PreviewPart,
    PublishResult,
    Reconciled,
)
from staffetta.core.model import Account, ChannelGroup, Image, Post
from staffetta.core.paths import Paths
from staffetta.core.postfile import render_html
from staffetta.core.secrets import SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from staffetta.ui.bridge import EngineBridge
from staffetta.ui.context import AppContext
from staffetta.ui.preview import OWNED_NOTE_DISMISSED, PreviewPane
from staffetta.ui.preview_card import PreviewCard, state_colour

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen has no window manager

WAIT = 10_000
LIMIT = 300  # the sandbox server's max_characters
MASTODON_BLUE = "#6364ff"  # the platform colour entities are drawn in


@dataclass
class World:
    ctx: AppContext
    blog: Account
    mastodon: Account
    sandbox: SandboxServer

    def pane(self, qtbot: QtBot) -> PreviewPane:
        pane = PreviewPane(self.ctx)
        qtbot.addWidget(pane)
        pane.resize(480, 900)
        pane.show()
        return pane


@pytest.fixture
def world(home: Path, tmp_path: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[World]:
    paths = Paths.under(home)
    site = tmp_path / "site" / "content" / "posts"
    site.mkdir(parents=True)
    with SandboxServer(platforms=["mastodon"]) as sandbox:
        sandbox.configure("mastodon", max_characters=LIMIT)
        runtime = Runtime.open(paths, secrets=secrets)
        bridge = EngineBridge(paths, secrets)
        bridge.start()
        ctx = AppContext(runtime, bridge, AppContext.settings_at(runtime))
        try:
            connected: list[Account] = []
            bridge.connect_account(
                "mastodon",
                "Ada",
                {"instance_url": sandbox.platform_url("mastodon")},
                sandbox.issue_token("mastodon"),
                connected.append,
            )
            bridge.connect_account("static_site", "My blog", {"folder": str(site)}, None)
            qtbot.waitUntil(lambda: len(runtime.store.accounts()) == 2, timeout=WAIT)
            by_channel = {a.channel: a for a in runtime.store.accounts()}
            yield World(ctx, by_channel["static_site"], by_channel["mastodon"], sandbox)
        finally:
            bridge.stop()
            runtime.close()


def highlighted(doc: QTextDocument, colour: str) -> list[str]:
    """The runs of text drawn in ``colour``, in order."""
    found: list[str] = []
    block = doc.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.charFormat().foreground().color().name() == colour:
                found.append(fragment.text())
            fragments += 1
        block = block.next()
    return found


def png(path: Path) -> str:
    PILImage.new("RGB", (64, 48), (30, 120, 200)).save(path, "PNG")
    return str(path)


def count_colour(card: PreviewCard) -> str:
    return card.count_label.palette().color(QPalette.ColorRole.WindowText).name()


# --- counts and entities -------------------------------------------------------------------------


def test_each_card_counts_the_way_its_platform_does_and_highlights_entities(
    world: World, qtbot: QtBot
) -> None:
    url = "https://www.example.org/articles/2024/a-very-long-article-name"
    body = f"Ciao @alice@example.social 🎉 read {url} #staffetta"
    pane = world.pane(qtbot)
    pane.set_post(Post(body=body, title="Ciao"), [world.blog, world.mastodon])
    blog, mastodon = pane.cards()

    # The blog counts every character (the emoji is one); Mastodon counts a link as 23 and a
    # remote mention as its local part, against the limit its server announced.
    assert blog.count_text() == f"{len(body)} characters"
    expected = len(body) - len(url) + 23 - len("@example.social")
    assert mastodon.count_text() == f"{expected} / {LIMIT}"
    assert mastodon.count_state() == "ok"

    # Mastodon shows the link without scheme and www, cut after 30 characters, and the mention
    # as @user; all three entities in its colour.
    (text,) = mastodon.part_views()
    shown = "example.org/articles/2024/a-very-long-article-name"[:30] + "…"
    assert highlighted(text.document(), MASTODON_BLUE) == ["@alice", shown, "#staffetta"]
    assert "Ciao @alice 🎉 read" in text.document().toPlainText()
    assert mastodon.handle_label.full_text().startswith("@")
    assert mastodon.name_label.full_text() == "Ada"


def test_over_the_limit_turns_red_and_split_into_a_thread_is_one_click(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane(qtbot)
    pane.set_post(Post(body="word " * 80), [world.mastodon])  # 400 characters
    (card,) = pane.cards()
    assert card.count_text() == f"400 / {LIMIT}"
    assert card.count_state() == "error"
    assert count_colour(card) == state_colour("error", card.palette()).name()

    buttons = card.fix_buttons()
    assert buttons["split"].text() == "Split into a thread"
    assert buttons["customise"].text() == "Customise text for this channel"
    assert buttons["split"].isVisible()
    with qtbot.waitSignal(pane.fixRequested) as signal:
        buttons["split"].click()
    assert signal.args == [world.mastodon.id, "split"]


def test_the_count_warns_from_ninety_percent_of_the_limit(world: World, qtbot: QtBot) -> None:
    pane = world.pane(qtbot)
    pane.set_post(Post(body="a" * 269), [world.mastodon])
    (card,) = pane.cards()
    assert (card.count_text(), card.count_state()) == (f"269 / {LIMIT}", "ok")
    ok_colour = count_colour(card)

    pane.set_post(Post(body="a" * 270), [world.mastodon])
    assert (card.count_text(), card.count_state()) == (f"270 / {LIMIT}", "warning")
    assert count_colour(card) == state_colour("warning", card.palette()).name() != ok_colour
    assert card.fix_buttons() == {}  # not over: nothing to fix yet

    pane.set_post(Post(body="a" * 301), [world.mastodon])
    assert card.count_state() == "error"


def test_a_thread_shows_one_numbered_bubble_per_part(world: World, qtbot: QtBot) -> None:
    pane = world.pane(qtbot)
    body = "First thought.\n\n---\n\nSecond thought.\n\n---\n\nThird."
    pane.set_post(Post(body=body), [world.mastodon])
    (card,) = pane.cards()
    assert card.part_numbers() == ["1/3", "2/3", "3/3"]
    texts = [view.document().toPlainText() for view in card.part_views()]
    assert texts == ["First thought. 1/3", "Second thought. 2/3", "Third. 3/3"]

    pane.set_post(Post(body="Just one."), [world.mastodon])
    assert card.part_numbers() == []
    assert [v.document().toPlainText() for v in card.part_views()] == ["Just one."]


# --- images --------------------------------------------------------------------------------------


def test_an_image_without_alt_text_gets_a_badge_and_the_add_alt_fix(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    images = (
        Image(png(tmp_path / "boats.png"), alt="Boats at dawn"),
        Image(png(tmp_path / "lagoon.png")),
    )
    pane = world.pane(qtbot)
    pane.set_post(Post(body="The lagoon", images=images), [world.mastodon])
    (card,) = pane.cards()
    assert [tile.badge.text() for tile in card.media.tiles()] == ["ALT", "⚠ No alt"]
    assert card.media.isVisible()

    button = card.fix_buttons()["add_alt"]
    assert button.text() == "Add alt text"
    with qtbot.waitSignal(pane.fixRequested) as signal:
        button.click()
    assert signal.args == [world.mastodon.id, "add_alt"]

    described = (images[0], Image(images[1].path, alt="Calm water"))
    pane.set_post(Post(body="The lagoon", images=described), [world.mastodon])
    assert [tile.badge.text() for tile in card.media.tiles()] == ["ALT", "ALT"]
    assert "add_alt" not in card.fix_buttons()


def test_a_link_gets_a_card_unless_media_take_its_place(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    pane = world.pane(qtbot)
    post = Post(body="Notes at https://www.example.org/notes/venice-2024-long-address")
    pane.set_post(post, [world.mastodon])
    (card,) = pane.cards()
    assert card.link_card.isVisible()
    assert card.link_card.host.full_text() == "example.org"
    # As Mastodon prints links: no scheme or www., the first 30 characters, then an ellipsis.
    assert card.link_card.address.full_text() == "example.org/notes/venice-2024-…"

    image = Image(png(tmp_path / "a.png"), alt="A photo")
    pane.set_post(Post(body=post.body, images=(image,)), [world.mastodon])
    assert not card.link_card.isVisible()  # Mastodon shows media instead of the link card


# --- owned channels ------------------------------------------------------------------------------


def test_the_blog_card_shows_the_title_and_the_body_as_a_reader_sees_it(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane(qtbot)
    body = "Some *emphasis* and a [link](https://example.org/a).\n\n- one\n- two"
    pane.set_post(Post(body=body, title="Hello, readers"), [world.blog])
    (card,) = pane.cards()
    assert card.title_text() == "Hello, readers"
    assert card.is_reader()
    assert card.reader.isVisible()
    doc = card.reader.document()
    plain = doc.toPlainText()
    assert "Some emphasis and a link." in plain
    assert "*" not in plain  # rendered, not Markdown source
    assert "](" not in plain
    assert "one\ntwo" in plain

    italic: list[str] = []
    anchors: list[str] = []
    block = doc.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.charFormat().fontItalic():
                italic.append(fragment.text())
            if fragment.charFormat().isAnchor():
                anchors.append(fragment.charFormat().anchorHref())
            fragments += 1
        block = block.next()
    assert italic == ["emphasis"]
    assert anchors == ["https://example.org/a"]


def test_a_long_text_is_folded_until_show_more(world: World, qtbot: QtBot) -> None:
    pane = world.pane(qtbot)
    body = " ".join(f"word{n}" for n in range(400))
    pane.set_post(Post(body=body), [world.mastodon])
    (card,) = pane.cards()
    (text,) = card.part_views()
    assert card.more_button.isVisible()
    assert card.more_button.text() == "Show more"
    folded = text.document().toPlainText()
    assert folded.endswith("…")
    assert "word399" not in folded

    card.more_button.click()
    assert text.document().toPlainText() == body
    assert card.more_button.text() == "Show less"


# --- the owned-first note ------------------------------------------------------------------------


def test_the_owned_first_note_appears_only_when_every_channel_is_social(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane(qtbot)
    note = pane.owned_note
    post = Post(body="Hello")
    pane.set_post(post, [world.mastodon])
    assert note.isVisible()
    assert "A blog or newsletter you own keeps your audience reachable." in note.message.text()
    with qtbot.waitSignal(pane.addOwnedRequested):
        note.add_button.click()

    pane.set_post(post, [world.mastodon, world.blog])
    assert not note.isVisible()
    pane.set_post(post, [])
    assert not note.isVisible()
    assert pane.empty_label.isVisible()


def test_before_anything_is_written_one_line_stands_in_for_the_cards(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane(qtbot)
    pane.set_post(Post(body="  \n"), [world.mastodon, world.blog])
    assert pane.cards() == []
    assert pane.empty_label.isVisible()
    assert "Start writing: each of the 2 chosen channel" in pane.empty_label.text()

    pane.set_post(Post(body="H"), [world.mastodon, world.blog])  # the first character
    assert pane.cards()[0].count_text().startswith("1 / ")
    assert len(pane.cards()) == 2
    assert not pane.empty_label.isVisible()

    pane.set_post(Post(body="", title="Only a title"), [world.blog])
    assert len(pane.cards()) == 1
    pane.set_post(Post(body=""), [world.mastodon])  # a social channel alone: the nudge stays
    assert pane.cards() == []
    assert pane.owned_note.isVisible()


def test_dismissing_the_owned_first_note_is_remembered(world: World, qtbot: QtBot) -> None:
    pane = world.pane(qtbot)
    pane.set_post(Post(body="Hello"), [world.mastodon])
    pane.owned_note.dismiss_button.click()
    assert not pane.owned_note.isVisible()
    world.ctx.settings.sync()
    assert world.ctx.settings.value(OWNED_NOTE_DISMISSED, type=bool) is True

    again = world.pane(qtbot)
    again.set_post(Post(body="Hello"), [world.mastodon])
    assert not again.owned_note.isVisible()


# --- cards follow the selection, and are reused --------------------------------------------------


def test_cards_are_reused_across_keystrokes_and_follow_the_selection(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane(qtbot)
    pane.set_post(Post(body="H"), [world.blog, world.mastodon])
    blog, mastodon = pane.cards()
    (text,) = mastodon.part_views()
    for typed in ("He", "Hel", "Hello"):
        pane.set_post(Post(body=typed), [world.blog, world.mastodon])
        assert pane.cards() == [blog, mastodon]
        assert mastodon.part_views() == [text]
    assert mastodon.count_text() == f"5 / {LIMIT}"
    assert blog.count_text() == "5 characters"

    pane.set_post(Post(body="Hello"), [world.mastodon, world.blog])
    assert pane.cards() == [mastodon, blog]
    pane.set_post(Post(body="Hello"), [world.mastodon])
    assert pane.cards() == [mastodon]
    qtbot.waitUntil(lambda: blog not in pane.widget().findChildren(PreviewCard))


def test_a_card_is_keyboard_reachable_and_named_for_screen_readers(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane(qtbot)
    with qtbot.waitActive(pane):
        pane.activateWindow()
    pane.set_post(Post(body="word " * 80), [world.mastodon])
    (card,) = pane.cards()
    card.setFocus()
    qtbot.waitUntil(card.hasFocus)
    assert card.accessibleName() == "Mastodon preview for Ada"
    assert f"400 / {LIMIT}" in card.accessibleDescription()
    qtbot.keyClick(QApplication.focusWidget(), "\t")  # Tab moves on to the card's fix buttons
    assert QApplication.focusWidget() in card.fix_buttons().values()


def test_an_unknown_channel_shows_a_message_instead_of_a_preview(
    world: World, qtbot: QtBot
) -> None:
    pane = world.pane(qtbot)
    stranger = Account("x-1", "carrier_pigeon", "Coo", {})
    pane.set_post(Post(body="Hello"), [stranger])
    (card,) = pane.cards()
    assert [p.message for p in card.problems()] == [
        "This version of Staffetta does not know the channel 'carrier_pigeon'."
    ]


class _Newsletter(Channel):
    """A newsletter channel as the pane sees one: a title and an HTML body."""

    name = "buttondown"
    label = "Newsletter"
    group = ChannelGroup.OWNED

    def limits(self, account: Account) -> Limits:
        return Limits(max_chars=0, uses_title=True)

    def preview(self, post: Post, account: Account) -> Preview:
        if post.body == "boom":
            raise RuntimeError("a bug in the channel")
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle="letters@example.org",
            parts=(PreviewPart(post.body, len(post.body)),),
            limit=0,
            unit="characters",
            title=post.title,
            html=render_html(post.body),
        )

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        raise NotImplementedError

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        raise NotImplementedError


def test_a_newsletter_shows_its_subject_line_and_a_failing_preview_is_a_message(
    world: World, qtbot: QtBot
) -> None:
    runtime = world.ctx.runtime
    runtime.channels = {**runtime.channels, "buttondown": _Newsletter()}
    letters = Account("news-1", "buttondown", "Letters", {})
    pane = world.pane(qtbot)
    pane.set_post(Post(body="Dear **readers**", title="September"), [letters])
    (card,) = pane.cards()
    assert card.title_text() == "Subject: September"
    assert card.reader.document().toPlainText().strip() == "Dear readers"
    assert not pane.owned_note.isVisible()

    pane.set_post(Post(body="boom", title="September"), [letters])
    assert [p.message for p in card.problems()] == ["The preview could not be made: RuntimeError"]
