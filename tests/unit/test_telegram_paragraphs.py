"""A long Telegram text is formatted paragraph by paragraph (each paragraph remembered): the result
must be exactly what formatting the whole text at once gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from staffetta.channels import telegram_text
from staffetta.channels.telegram_text import TelegramText, format_text


def whole(markdown: str) -> TelegramText:
    """The text formatted in one piece, as before paragraphs were remembered."""
    return telegram_text._trim(*telegram_text._format(telegram_text.clean(markdown)))


_PLAIN = (
    "il",
    "sole",
    "sulla",
    "laguna",
    "caffè",
    "日本語",
    "🎉",
    "👨\u200d👩\u200d👧",
    "#venezia",
    "@alice@example.social",
    "https://www.example.org/news/2024/article-1?ref=staffetta",
    "example.com/path",
    "fine.",
    "(tra parentesi)",
    "\u00a0",
)
_SPACES = (" ", " ", " ", "  ", "\t", "\n", "\n\n", "\n\n", "\n\n\n", " \n\n", "\n\n ", "  \n")
_MARKUP = (
    "*",
    "_",
    "**grassetto**",
    "_corsivo_",
    "*a\n\nb*",
    "**inizio\n\nfine**",
    "[testo](https://example.com/x)",
    "[inizio\n\nfine](https://example.com/y)",
    "[a](\n\nhttps://example.com/z)",
    "](",
    "[",
    "]",
    "\\",
    "\\*",
    "https://example.com/a_b_c",
    "\r\n",
    "\x0b",
    "\u2028",
    "\U000f0001",
    "`code`",
    "<b>",
)
_plain_word = st.sampled_from(_PLAIN)
_markup = st.sampled_from(_MARKUP)
_space = st.sampled_from(_SPACES)
# Mostly plain prose (where paragraphs are formatted separately) with now and then a mark that
# may or may not force formatting the whole text.
_piece = st.one_of(_plain_word, _plain_word, _plain_word, _plain_word, _markup)
_texts = st.lists(st.tuples(_piece, _space).map("".join), min_size=1, max_size=60).map("".join)
_paragraph = st.lists(st.tuples(_plain_word, _space).map("".join), min_size=10, max_size=40).map(
    "".join
)


def _with_marks(paragraphs: list[str], marks: list[tuple[int, str]]) -> str:
    text = "\n\n".join(paragraphs)
    for position, mark in marks:
        at = position % (len(text) + 1)
        text = text[:at] + mark + text[at:]
    return text


# Mostly over the 1,000 characters from which a text is formatted paragraph by paragraph, plain
# or with a few marks (which may or may not force formatting the whole text).
_long_texts = st.builds(
    _with_marks,
    st.lists(_paragraph, min_size=6, max_size=12),
    st.lists(st.tuples(st.integers(0, 10_000), _markup), max_size=3),
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(_texts, _long_texts))
def test_same_text_and_entities_as_formatting_the_whole_text(text: str) -> None:
    assert format_text(text) == whole(text)


@settings(max_examples=60, deadline=None, database=None)
@given(_long_texts, st.lists(st.tuples(st.integers(0, 10_000), _piece), max_size=6))
def test_same_after_every_edit(text: str, edits: list[tuple[int, str]]) -> None:
    assert format_text(text) == whole(text)
    for position, piece in edits:
        at = position % (len(text) + 1)
        text = text[:at] + piece + text[at:]
        assert format_text(text) == whole(text)


def test_a_long_plain_post_is_formatted_paragraph_by_paragraph() -> None:
    paragraph = "Il sole sulla laguna https://example.org/a #venezia caffè 🎉 " * 6
    text = "\n\n".join(f"{n} {paragraph}".strip() for n in range(8))
    assert format_text(text) == whole(text)
    before = telegram_text._format_paragraph.cache_info().misses
    edited = text.replace("3 Il sole", "3 Il bel sole", 1)
    formatted = format_text(edited)
    assert formatted == whole(edited)
    assert telegram_text._format_paragraph.cache_info().misses == before + 1
    links = [e for e in formatted.entities if e.kind == "text_link"]
    assert len(links) == 8 * 6
    assert all(formatted.text[e.start : e.end] == "https://example.org/a" for e in links)
