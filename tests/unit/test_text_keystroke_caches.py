"""The text engine's caches for long texts (counted again on every keystroke by the previews)
give exactly the answers of the plain computation."""

from __future__ import annotations

import random

import regex

from staffetta.core.text import _linkifier, _linkify, find_links, grapheme_count

_PIECES = (
    "ciao ",
    "caffè ",
    "e\u0301 ",
    "👨‍👩‍👧‍👦",
    "🇮🇹",
    "👍🏽",
    "\r\n",
    "\n",
    "\r",
    "\n\n",
    "\u0600",  # a prepended concatenation mark: joins the character after it, never a line feed
    "\u200d",
    "\ufe0f",
    "https://www.example.org/a/b?c=d ",
    "example.social ",
    "@ana@example.social ",
    "#tag ",
    "日本語",
    "مرحبا ",
)


def _long_texts(count: int) -> list[str]:
    rng = random.Random(11)
    texts = []
    for _ in range(count):
        pieces = [rng.choice(_PIECES) for _ in range(rng.randrange(300, 600))]
        texts.append("".join(pieces))
    return texts


def test_long_texts_count_like_the_whole_text_at_once() -> None:
    for text in _long_texts(60):
        assert len(text) > 1000
        assert grapheme_count(text) == len(regex.findall(r"\X", text))
        # and again after an edit, as when typing (cached lines, one changed line)
        edited = text[:500] + "x\u0301" + text[500:]
        assert grapheme_count(edited) == len(regex.findall(r"\X", edited))


def test_links_found_run_by_run_are_the_links_linkify_finds_in_the_whole_text() -> None:
    for text in _long_texts(20):
        whole = [(int(m.index), int(m.last_index)) for m in (_linkifier().match(text) or [])]
        assert _linkify(text) == whole
        assert find_links(text)  # the texts do hold links
