"""render_html remembers each block's rendering: its output must be markdown-it's own, whatever the
document and whatever was rendered before it."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from staffetta.core import postfile
from staffetta.core.postfile import render_html


def whole(text: str) -> str:
    """The text rendered in one piece by a markdown-it configured as the app's renderer."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable("linkify")
    html: str = md.render(text)
    return html


_INLINE = (
    "word",
    "caffè",
    "日本語",
    "👨\u200d👩\u200d👧",
    "*em*",
    "**strong**",
    "_under_",
    "*open",
    "close*",
    "`code`",
    "``",
    "https://example.com/a?b=1",
    "http\\://example.org",
    "www.example.org/path",
    "example.com",
    "ex.social",
    "a@b.com",
    "mailto:x@y.it",
    "[text](https://example.com)",
    "[text](javascript:alert(1))",
    "[ref]",
    "[ref][]",
    "[Text][REF]",
    "![alt *x*](pic.png)",
    "<https://auto.example>",
    "<b>bold</b>",
    "<!-- c -->",
    "&amp;",
    "&copy;",
    "&#35;",
    "\\*",
    "\\",
    "#tag",
    "@user@example.social",
    "---",
    "***",
    "(https://example.com/x)",
    "https://example.com/x).",
)
_LINE_STARTS = (
    "",
    "",
    "",
    "# ",
    "### ",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "2) ",
    "  - ",
    "   1. ",
    "> ",
    "> - ",
    ">> ",
    "    ",
    "\t",
    " \t",
    "  ",
)
_WHOLE_LINES = (
    "",
    "",
    " ",
    "```",
    "```python",
    "~~~",
    "    indented code",
    "===",
    "---",
    "***",
    "<div>",
    "</div>",
    "<pre>",
    "[ref]: https://example.com/ref 'Title'",
    "[other]:",
    "  https://example.org",
    "- ",
    "1.",
    ">",
    "\x00",
)
_inline_text = st.lists(st.sampled_from(_INLINE), min_size=1, max_size=6).map(" ".join)
_line = st.one_of(
    st.tuples(st.sampled_from(_LINE_STARTS), _inline_text).map("".join),
    st.sampled_from(_WHOLE_LINES),
    st.text(max_size=12),
)
_ends = st.sampled_from(("\n", "\n", "\n", "\n\n", "\r\n", "  \n"))
_documents = st.lists(st.tuples(_line, _ends).map("".join), max_size=25).map("".join)


@settings(max_examples=400, deadline=None, database=None)
@given(_documents)
def test_same_html_as_markdown_it_on_the_whole_text(text: str) -> None:
    assert render_html(text) == whole(text)


@settings(max_examples=100, deadline=None, database=None)
@given(_documents, st.lists(st.tuples(st.integers(0, 10_000), _line, _ends), max_size=8))
def test_same_html_after_every_edit(text: str, edits: list[tuple[int, str, str]]) -> None:
    """Typing: each version renders what markdown-it renders for it, remembered blocks or not."""
    assert render_html(text) == whole(text)
    for position, line, end in edits:
        at = position % (len(text) + 1)
        text = text[:at] + line + end + text[at:]
        assert render_html(text) == whole(text)


def test_same_content_in_different_blocks() -> None:
    """One paragraph's text appears as a list item, a heading, a quote and in a loose list: each
    block renders in its own place."""
    line = "see *this* https://example.com/a and **that**"
    text = (
        f"{line}\n\n- {line}\n- {line}\n\n# {line}\n\n> {line}\n\n"
        f"1. {line}\n\n2. {line}\n\n    {line}\n\n```\n{line}\n```\n"
    )
    html = render_html(text)
    assert html == whole(text)
    assert "<li>see <em>this</em>" in html  # tight list
    assert "<li>\n<p>see <em>this</em>" in html  # loose list
    assert "<pre><code>see *this* https://example.com/a" in html  # code stays code


def test_reference_definitions_anywhere_are_used() -> None:
    text = "A [link][ref] first.\n\nThen the definition:\n\n[ref]: https://example.com/r\n"
    html = render_html(text)
    assert html == whole(text)
    assert '<a href="https://example.com/r">link</a>' in html
    changed = text.replace("https://example.com/r", "https://example.org/s")
    assert '<a href="https://example.org/s">link</a>' in render_html(changed)


def test_a_keystroke_renders_only_the_paragraph_it_changed() -> None:
    rng = random.Random(3)
    words = ("lagoon", "silver", "*boats*", "https://example.com/x", "caffè", "🎉")
    paragraphs = [" ".join(rng.choice(words) for _ in range(60)) for _ in range(12)]
    text = "\n\n".join(paragraphs)
    assert render_html(text) == whole(text)
    before = postfile._inline_piece_html.cache_info().misses
    edited = text.replace(paragraphs[5], paragraphs[5] + " new", 1)
    assert render_html(edited) == whole(edited)
    assert postfile._inline_piece_html.cache_info().misses == before + 1
    assert render_html(edited) is render_html(edited)  # the same text is not rendered again


# Lines that never reach over a blank line: render_html renders the runs between blank lines one
# by one for such a text. Blank lines here come in every form (spaces, tabs, several, CR LF).
_RUN_STARTS = ("", "", "", "# ", "### ", "> ", ">> ", "> > ", "  ", "   ", "#", "\\- ", "1\\. ")
_RUN_WHOLE_LINES = ("===", "---", "***", "___", "<div>", "</div>", ">", "#", " ", "\\[x]: y")
_run_line = st.one_of(
    # A word first: a line opening with "[" or "- " is one the run-by-run path leaves alone.
    st.tuples(st.sampled_from(_RUN_STARTS), st.sampled_from(("w ", "caffè ")), _inline_text).map(
        "".join
    ),
    st.sampled_from(_RUN_WHOLE_LINES),
)
_run_ends = st.sampled_from(
    ("\n", "\n", "\n\n", "\n \n", "\n\t\n", "\n \t \n", "\n\n\n", "\r\n", "  \n")
)
_run_documents = st.lists(st.tuples(_run_line, _run_ends).map("".join), max_size=25).map("".join)


@settings(max_examples=400, deadline=None, database=None)
@given(_run_documents)
def test_run_by_run_rendering_is_markdown_it_s_own(text: str) -> None:
    assert not postfile._SPANS_BLANK_LINES.search(text)  # the run-by-run path is the one taken
    assert render_html(text) == whole(text)


def test_blocks_that_reach_over_blank_lines_are_rendered_whole() -> None:
    for text in (
        "- a\n\n- b",  # one loose list
        "    code\n\n    more code",  # one code block
        " \tcode\n\n \tmore",  # the same, indented by a space and a tab
        "```\nfirst\n\nsecond\n```",  # one fenced block
        "[ref]\n\n[ref]: https://example.com",  # a definition used above it
        "1. one\n\n2. two",
    ):
        assert postfile._SPANS_BLANK_LINES.search(text)
        assert render_html(text) == whole(text)


# Long paragraphs without inline syntax are rendered in pieces cut at spaces between words (see
# postfile._inline_html): words, bare links and addresses of every kind, punctuation around them,
# and every sort of space and line break between them.
_PLAIN_WORDS = (
    *("word", "caffè", "日本語", "👨\u200d👩\u200d👧", "🇮🇹", "#tag", "@user", "@u@ex.social"),
    *("https://example.com/a?b=1", "http://ex.org/x.", "(https://ex.com/y)", "www.ex.org/p,"),
    *("example.com", "ex.social:", "a@b.com", "mailto:x@y.it", "http:", "//", "https", ":"),
    *("e.g.", "end.", "a,", "'q'", '"q"', "-", "--", "x-y", "?", "1.", "#", "http://", "é"),
)
_PLAIN_SEPARATORS = (" ", " ", " ", " ", "  ", "   ", "\n", "  \n", " \n", "\t", " \t ")
_plain_paragraph = st.lists(
    st.tuples(st.sampled_from(_PLAIN_WORDS), st.sampled_from(_PLAIN_SEPARATORS)).map("".join),
    min_size=20,
    max_size=90,
).map("".join)


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(_plain_paragraph, min_size=1, max_size=4).map("\n\n".join))
def test_long_plain_paragraphs_in_pieces_are_markdown_it_s_own(text: str) -> None:
    assert render_html(text) == whole(text)


@settings(max_examples=100, deadline=None, database=None)
@given(
    _plain_paragraph,
    st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from((*_PLAIN_WORDS, " ", "\n", "*"))),
        max_size=10,
    ),
)
def test_typing_in_a_long_plain_paragraph(text: str, edits: list[tuple[int, str]]) -> None:
    """Each keystroke's text renders as markdown-it renders it, pieces remembered or not (a ``*``
    typed sends the paragraph back to markdown-it whole)."""
    assert render_html(text) == whole(text)
    for position, typed in edits:
        at = position % (len(text) + 1)
        text = text[:at] + typed + text[at:]
        assert render_html(text) == whole(text)


def test_a_keystroke_in_a_long_plain_paragraph_renders_one_piece() -> None:
    words = ("lagoon", "silver", "https://example.com/x", "caffè", "🎉", "boats", "came")
    rng = random.Random(4)
    text = " ".join(rng.choice(words) for _ in range(120))
    assert render_html(text) == whole(text)
    before = postfile._inline_piece_html.cache_info()
    edited = text[:300] + "s" + text[300:]
    assert render_html(edited) == whole(edited)
    after = postfile._inline_piece_html.cache_info()
    assert after.misses - before.misses <= 2  # the piece typed in (and its neighbour, at most)
    assert after.hits - before.hits >= 10  # the others came from memory
