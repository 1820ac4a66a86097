"""LinkedIn's little text: whatever the user writes reaches readers exactly as written.

Each vector is escaped by the channel and read back by the sandbox's independent little-text
reader (which, like LinkedIn, cuts the post at the first unescaped reserved character)."""

from __future__ import annotations

import pytest

from staffetta.channels.linkedin_text import commentary, escape, length
from staffetta.sandbox.linkedin import read_little

VECTORS = [
    "Plain words, nothing special.",
    "Ratio (3:2) and [brackets] and {braces}",
    "a_b_c snake_case and *stars* and ~tilde~",
    "Email me at me@example.org or @someone",
    "C:\\path\\to\\file and a | pipe",
    "<b>not html</b> 2 < 3 > 1",
    "See https://en.wikipedia.org/wiki/Foo_(bar)#History?x=1&y=_2_",
    "#hashtag at the start, #another_one, and C# or #42",
    "Emoji 👩🏽‍💻 and RTL مرحبا and CJK 日本語 #日本",
    "\\ alone, \\\\ double, trailing \\",
    "{hashtag|\\#|fake} typed by the user",
    "@[Not a mention](urn:li:person:123)",
]


@pytest.mark.parametrize("text", VECTORS)
def test_readers_see_exactly_what_was_written(text: str) -> None:
    shown, _tags, cut = read_little(commentary(text))
    assert not cut
    assert shown == text


def test_unescaped_text_would_be_cut() -> None:
    # What the escaping protects against: LinkedIn stops at the first reserved character.
    shown, _tags, cut = read_little("Ratio (3:2) matters")
    assert cut
    assert shown == "Ratio "


def test_hashtags_stay_hashtags() -> None:
    text = "Off to #Lisbon for #open_source week, C# is not a tag, nor #42"
    result = commentary(text)
    assert "{hashtag|\\#|Lisbon}" in result
    assert "{hashtag|\\#|open\\_source}" in result
    assert "C\\#" in result
    assert "\\#42" in result
    shown, tags, cut = read_little(result)
    assert (shown, tags, cut) == (text, ["Lisbon", "open_source"], False)


def test_every_reserved_character_is_escaped() -> None:
    assert escape("|{}@[]()<>#\\*_~") == "".join("\\" + c for c in "|{}@[]()<>#\\*_~")
    assert escape("plain ascii 123 éè") == "plain ascii 123 éè"


def test_the_count_is_what_readers_see() -> None:
    assert length("(a)") == 3  # the escapes do not count
    assert length("👩🏽‍💻") == 1
