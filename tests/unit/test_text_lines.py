"""Links, mentions and hashtags of a long text are found line by line (each line remembered):
exactly the ones a scan of the whole text finds, at the same offsets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from staffetta.core import text as core_text
from staffetta.core.text import SpanKind, entities, find_links

_WORDS = (
    "parola",
    "caffè",
    "日本語",
    "🎉",
    "example.com",
    "https://www.example.org/a?b=1",
    "http://x.y",
    "bücher.de/x",
    "www.example.social.",
    "(https://example.com/x)",
    "a.b",
    "a:b",
    "@alice@example.social",
    "#tag",
    "fine.",
    "https://",
    "://",
)
_SPACES = (" ", " ", "\n", "\n\n", "\t", "\r\n", "\u00a0", "\u2028", "\u0085", "\x1c", "\u3000")
_ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
_piece = st.one_of(st.sampled_from(_WORDS), st.sampled_from(_WORDS), st.text(_ANY_CHAR, max_size=4))
_texts = st.lists(st.tuples(_piece, st.sampled_from(_SPACES)).map("".join), max_size=400).map(
    "".join
)


@settings(max_examples=200, deadline=None, database=None)
@given(_texts)
def test_same_links_as_scanning_the_whole_text(text: str) -> None:
    assert core_text._linkify(text) == list(core_text._scan_links(text))


@settings(max_examples=200, deadline=None, database=None)
@given(_texts)
def test_same_mentions_and_hashtags_as_scanning_the_whole_text(text: str) -> None:
    long = text + "\n@ada #tag " + "x" * 1000  # long enough to be scanned line by line
    for scan in (core_text._scan_mentions, core_text._scan_hashtags):
        assert list(core_text._by_line(scan, long)) == list(scan(long))


def test_a_keystroke_scans_one_line_again() -> None:
    line = "see https://example.org/a and example.com/b with @bob #tag " * 4
    text = "\n\n".join(f"{n} {line}" for n in range(10))
    links = find_links(text)
    assert len(links) == 10 * 4 * 2
    assert all(
        text[span.start : span.end] in ("https://example.org/a", "example.com/b") for span in links
    )
    before = core_text._line_links.cache_info().misses
    edited = text.replace("5 see", "5 now see", 1)
    assert [s.value for s in find_links(edited)] == [s.value for s in links]
    assert core_text._line_links.cache_info().misses == before + 1
    entities(text)
    scanned = core_text._line_scan.cache_info().misses
    kinds = [span.kind for span in entities(edited)]
    assert core_text._line_scan.cache_info().misses == scanned + 2  # mentions, hashtags
    assert kinds.count(SpanKind.LINK) == 80
    assert kinds.count(SpanKind.MENTION) == kinds.count(SpanKind.HASHTAG) == 40
