"""Telegram text: the Markdown subset as entities with UTF-16 offsets, and counts at the limits.

Each entity is checked the way Telegram reads it: the UTF-16 code units [offset, offset+length)
of the text must spell exactly the words the user marked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from staffetta.channels import telegram_text
from staffetta.channels.telegram import TelegramChannel
from staffetta.channels.telegram_text import format_text, telegram_length
from staffetta.core.channel import Fix, Preview
from staffetta.core.model import Account, Image, Post
from staffetta.core.text import SpanKind

CHANNEL = TelegramChannel()
ACCOUNT = Account("telegram-1", "telegram", "Chan", {"channel": "@mychannel"})
EMOJI = "😀"  # outside the BMP: 1 character for the limit, 2 UTF-16 units in an entity
FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # 7 code points, 11 UTF-16 units, 1 grapheme


def utf16_slice(text: str, offset: int, length: int) -> str:
    units = text.encode("utf-16-le")
    return units[2 * offset : 2 * (offset + length)].decode("utf-16-le")


def marked(markdown: str) -> list[tuple[str, str, str]]:
    """(type, marked text as Telegram reads it, url) for each entity sent."""
    formatted = format_text(markdown)
    return [
        (e["type"], utf16_slice(formatted.text, e["offset"], e["length"]), e.get("url", ""))
        for e in formatted.api_entities()
    ]


def preview(body: str, **post: Any) -> Preview:
    return CHANNEL.preview(Post(body=body, **post), ACCOUNT)


def codes(p: Preview) -> list[str]:
    return [problem.code for problem in p.problems]


def png(path: Path, size: tuple[int, int] = (40, 30)) -> str:
    PILImage.new("RGB", size, (30, 90, 200)).save(path, "PNG")
    return str(path)


# --- the Markdown subset ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "text", "entities"),
    [
        ("Hello **world**", "Hello world", [("bold", "world", "")]),
        (
            "an *aside* and _another_",
            "an aside and another",
            [("italic", "aside", ""), ("italic", "another", "")],
        ),
        ("__strong__", "strong", [("bold", "strong", "")]),
        # intraword underscores are not emphasis (CommonMark): identifiers stay as written
        ("snake_case_name and 2_000_000", "snake_case_name and 2_000_000", []),
        ("\\*not italic\\*", "*not italic*", []),
        ("**unclosed", "**unclosed", []),
        ("* a list\n- stays\n# and a hash", "* a list\n- stays\n# and a hash", []),
        (
            "Read [my notes](https://example.org/notes) now",
            "Read my notes now",
            [("text_link", "my notes", "https://example.org/notes")],
        ),
        # a bare link becomes a link to itself; one without scheme gets https://
        (
            "see example.org/page.",
            "see example.org/page.",
            [("text_link", "example.org/page", "https://example.org/page")],
        ),
        # emphasis markers inside a bare link belong to the link
        (
            "https://x.org/_a_/**b**",
            "https://x.org/_a_/**b**",
            [("text_link", "https://x.org/_a_/**b**", "https://x.org/_a_/**b**")],
        ),
        (
            "**https://x.org**",
            "https://x.org",
            [("text_link", "https://x.org", "https://x.org"), ("bold", "https://x.org", "")],
        ),
        # no link inside a link; relative and mailto links keep only their text
        (
            "[see https://a.org](https://b.org)",
            "see https://a.org",
            [("text_link", "see https://a.org", "https://b.org")],
        ),
        ("[about](/about) [mail](mailto:me@example.org)", "about mail", []),
        ("[](https://x.org)", "https://x.org", [("text_link", "https://x.org", "https://x.org")]),
        ("[click](javascript:alert(1))", "[click](javascript:alert(1))", []),
        # line breaks stay line breaks (a hard break's trailing spaces go)
        ("one\ntwo  \nthree", "one\ntwo\nthree", []),
    ],
)
def test_markdown_subset_becomes_entities(
    markdown: str, text: str, entities: list[tuple[str, str, str]]
) -> None:
    assert format_text(markdown).text == text
    assert marked(markdown) == entities


def test_offsets_are_utf16_units_after_astral_characters() -> None:
    markdown = f"{EMOJI} {FAMILY} **bold** {EMOJI}*it*"
    formatted = format_text(markdown)
    assert formatted.text == f"{EMOJI} {FAMILY} bold {EMOJI}it"
    bold, italic = formatted.api_entities()
    # 😀 (2) + space (1) + family (11) + space (1) = 15 units before "bold"
    assert bold == {"type": "bold", "offset": 15, "length": 4}
    # ... "bold" (4) + space (1) + 😀 (2) = 22
    assert italic == {"type": "italic", "offset": 22, "length": 2}
    assert [m[1] for m in marked(markdown)] == ["bold", "it"]
    # while the count is in characters (code points): 1 + 1 + 7 + 1 + 4 + 1 + 1 + 2
    assert formatted.length == 18


def test_an_entity_covering_emoji_spans_whole_surrogate_pairs() -> None:
    (entity,) = format_text(f"**{EMOJI}{EMOJI}**").api_entities()
    assert entity == {"type": "bold", "offset": 0, "length": 4}


def test_telegram_cleanup_and_trimming_move_entities_with_the_text() -> None:
    # \r, U+2028-U+202E and the combining marks TDLib drops vanish; control characters become
    # spaces; spaces and newlines are trimmed at both ends.
    formatted = format_text(" \n\r\n a\u202eb\u0007c **d**  \n ")
    assert formatted.text == "ab c d"
    assert marked(" \n\r\n a\u202eb\u0007c **d**  \n ") == [("bold", "d", "")]
    # an entity holding only spaces is dropped, as Telegram does
    assert format_text("x [ ](https://a.org) y").api_entities() == []
    # a lone surrogate (no request could carry it) becomes U+FFFD and counts 1
    assert format_text("a\ud83db").text == "a\ufffdb"


def test_preview_spans_are_links_and_hashtags_in_plain_text_offsets() -> None:
    p = preview("**Big** news at [the site](https://example.org) #launch")
    assert p.parts[0].text == "Big news at the site #launch"
    kinds = [(s.kind, p.parts[0].text[s.start : s.end], s.value) for s in p.parts[0].spans]
    assert kinds == [
        (SpanKind.LINK, "the site", "https://example.org"),
        (SpanKind.HASHTAG, "#launch", "launch"),
    ]


# --- counting at the limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("x" * 4096, 4096),
        (EMOJI * 4096, 4096),  # 8192 UTF-16 units, still within Telegram's 4096
        ("**" + "x" * 4096 + "**", 4096),  # markup is not counted: it becomes an entity
        (FAMILY, 7),  # a ZWJ sequence counts its code points
        ("e\u0301", 2),
    ],
)
def test_counts_are_characters_after_entity_parsing(body: str, count: int) -> None:
    p = preview(body)
    assert p.count == count == telegram_length(body)
    assert p.limit == 4096
    assert "too_long" not in codes(p)


@pytest.mark.parametrize("body", ["x" * 4097, EMOJI * 4097, "**" + EMOJI * 4097 + "**"])
def test_one_over_the_text_limit_blocks_with_a_fix(body: str) -> None:
    p = preview(body)
    assert p.count == 4097
    (problem,) = [x for x in p.problems if x.code == "too_long"]
    assert problem.blocking
    assert problem.fix is Fix.CUSTOMISE
    assert "4097 / 4096" in problem.message
    assert "1 over" in problem.message


def test_a_caption_has_1024_then_the_text_becomes_its_own_message(tmp_path: Path) -> None:
    images = (Image(png(tmp_path / "a.png"), alt="A blue rectangle"),)
    fits = preview(EMOJI * 1024, images=images)
    assert (fits.count, fits.limit) == (1024, 1024)
    assert "caption_separate" not in codes(fits)
    over = preview(EMOJI * 1025, images=images)
    assert (over.count, over.limit) == (1025, 4096)
    (note,) = [x for x in over.problems if x.code == "caption_separate"]
    assert not note.blocking
    assert "second message" in note.message
    assert not over.blocking


def test_image_problems(tmp_path: Path) -> None:
    ok = Image(png(tmp_path / "ok.png"), alt="described")
    strip = Image(png(tmp_path / "strip.png", size=(2100, 100)))
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    p = preview("Photos", images=(ok, strip, Image(str(broken))))
    assert codes(p) == ["image_shape", "image_unreadable", "alt_not_sent"]
    assert p.blocking
    eleven = tuple(Image(png(tmp_path / f"{n}.png")) for n in range(11))
    assert "too_many_images" in codes(preview("Album", images=eleven))
    assert codes(preview("", images=(ok,))) == ["alt_not_sent"]
    assert codes(preview("  \n ")) == ["empty"]


# --- a text without the subset's syntax -----------------------------------------------------------

_PLAIN_PIECES = (
    *("word", "caffè", EMOJI, FAMILY, "#tag", "@user", "https://example.com/a?b=1", "ex.org/p"),
    *("(https://ex.com/y).", "tg://resolve", "a@b.com", "&amp;", "<b>", "`code`", "!", "]", "~"),
    *(" ", " ", "  ", "   ", "\t", "\n", "\n", "  \n", " \n ", "\n\t ", "\n\n", "\r\n", "\u2028"),
    *("\x00", "\x0b", "\u030a", "\U000f0001"),
)


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(st.sampled_from(_PLAIN_PIECES), max_size=60).map("".join))
def test_a_text_without_syntax_is_formatted_as_markdown_it_parses_it(text: str) -> None:
    """Text with no ``*``, ``_``, ``[`` or ``\\`` skips markdown-it: the same text and entities."""
    assert format_text(text) == telegram_text._format(text, plain_path=False)


def test_a_text_using_the_placeholder_code_points_itself_is_kept_as_written() -> None:
    """Bare links are swapped for private-use code points while parsing; a text that already
    holds one is left unshielded, and its own code point is text, not a link (it raised)."""
    text = "see \U000f0001 and **this**"
    formatted = format_text(text)
    assert formatted.text == "see \U000f0001 and this"
    assert marked(text) == [("bold", "this", "")]
    assert preview(text).parts[0].text == "see \U000f0001 and this"
