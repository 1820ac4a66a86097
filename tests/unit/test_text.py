"""Counting vectors checked by hand against each platform's documented rules.

Every expected number is derived in a comment from code points, bytes or the platform rule, not
by running the code under test.
"""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from staffetta.core.text import (
    Span,
    SpanKind,
    entities,
    find_hashtags,
    find_links,
    find_mentions,
    grapheme_count,
    graphemes,
    mastodon_length,
    to_utf8_range,
    to_utf16_range,
    utf8_length,
    utf16_length,
    weighted_length,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
FLAG_IT = "\U0001f1ee\U0001f1f9"  # 🇮🇹: two regional indicators
THUMBS_MEDIUM = "\U0001f44d\U0001f3fd"  # 👍🏽: thumbs up + Fitzpatrick type-4 modifier


# ---------------------------------------------------------------------------------------------
# Graphemes, UTF-8 and UTF-16


@pytest.mark.parametrize(
    ("text", "clusters", "utf8", "utf16"),
    [
        # 4 astral emoji (4 bytes, 2 units each) + 3 ZWJ U+200D (3 bytes, 1 unit each):
        # 16 + 9 = 25 bytes, 8 + 3 = 11 units, one cluster (GB11).
        (FAMILY, 1, 25, 11),
        # Two regional indicators pair into one flag (GB12): 2 × 4 bytes, 2 × 2 units.
        (FLAG_IT, 1, 8, 4),
        # Emoji + skin-tone modifier (Extend): 2 × 4 bytes, 2 × 2 units.
        (THUMBS_MEDIUM, 1, 8, 4),
        # e (1 byte) + COMBINING ACUTE U+0301 (2 bytes): one cluster (GB9).
        ("e\u0301", 1, 3, 2),
        # Precomposed é U+00E9: 2 bytes, 1 unit.
        ("\u00e9", 1, 2, 1),
        # Hangul jamo L+V+T (U+1112 U+1161 U+11AB = 한) form one syllable cluster (GB6/GB7);
        # 3 BMP code points of 3 bytes each.
        ("\u1112\u1161\u11ab", 1, 9, 3),
        # Precomposed 한 U+D55C: 3 bytes.
        ("\ud55c", 1, 3, 1),
        # CJK ideographs: 3 clusters, 3 bytes each.
        ("日本語", 3, 9, 3),
        # Devanagari नमस्ते = न म स ् त े (6 code points, 3 bytes each): न | म | स्ते, since
        # Unicode 15.1 a virama conjunct (स ् त) stays one cluster (GB9c).
        ("नमस्ते", 3, 18, 6),
        # Arabic letters (2 bytes each) and Hebrew (2 bytes each), one cluster per letter.
        ("سلام", 4, 8, 4),
        ("שלום", 4, 8, 4),
        # CR LF is one cluster (GB3); other ASCII is one per character.
        ("a\r\nb", 3, 4, 4),
        ("", 0, 0, 0),
        # A lone surrogate counts as the U+FFFD it becomes on the wire: 3 bytes, 1 unit.
        ("\ud800", 1, 3, 1),
        # Astral CJK extension B U+20000: 4 bytes, a surrogate pair.
        ("\U00020000", 1, 4, 2),
    ],
)
def test_counts(text: str, clusters: int, utf8: int, utf16: int) -> None:
    assert grapheme_count(text) == clusters
    assert len(graphemes(text)) == clusters
    assert "".join(graphemes(text)) == text
    assert utf8_length(text) == utf8
    assert utf16_length(text) == utf16


def test_mixed_text_counts_add_up() -> None:
    # "Ciao " (5) + 🇮🇹 (1) + " " (1) + 👨‍👩‍👧‍👦 (1) + " caf" (4) + e◌́ (1) = 13 clusters.
    assert grapheme_count(f"Ciao {FLAG_IT} {FAMILY} cafe\u0301") == 13


# ---------------------------------------------------------------------------------------------
# Links


def test_links_with_and_without_scheme() -> None:
    text = "Read https://example.com/a?b=1. Also www.example.org, and example.net!"
    links = find_links(text)
    assert [(text[s.start : s.end], s.value) for s in links] == [
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),  # trailing '.' excluded
        ("www.example.org", "https://www.example.org"),  # scheme added
        ("example.net", "https://example.net"),
    ]
    assert all(s.kind is SpanKind.LINK for s in links)
    assert [text[s.start : s.end] for s in find_links(text, require_scheme=True)] == [
        "https://example.com/a?b=1"
    ]


def test_links_in_parentheses_keep_balanced_brackets_only() -> None:
    text = "(see https://en.wikipedia.org/wiki/Foo_(bar)) and (http://example.com/x)"
    assert [text[s.start : s.end] for s in find_links(text)] == [
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "http://example.com/x",
    ]


@pytest.mark.parametrize(
    ("text", "written", "value"),
    [
        ("Libri: https://bücher.example/katalog.", "https://bücher.example/katalog", None),
        ("Libri: bücher.de/katalog, grazie", "bücher.de/katalog", "https://bücher.de/katalog"),
        ("サイト 例え.jp/ページ です", "例え.jp/ページ", "https://例え.jp/ページ"),
        ("сайт http://пример.рф!", "http://пример.рф", None),
        ("сайт пример.рф.", "пример.рф", "https://пример.рф"),  # IDN TLD without a scheme
        (
            "punycode www.xn--e1afmkfd.xn--p1ai ok",
            "www.xn--e1afmkfd.xn--p1ai",
            "https://www.xn--e1afmkfd.xn--p1ai",
        ),
    ],
)
def test_idn_domains(text: str, written: str, value: str | None) -> None:
    (link,) = find_links(text)
    assert text[link.start : link.end] == written
    assert link.value == (value or written)


def test_link_inside_rtl_text() -> None:
    # Hebrew and Arabic around a URL; the Arabic question mark ؟ ends the sentence, not the URL.
    hebrew = "שלום https://example.com/א?b=1 עולם"
    (link,) = find_links(hebrew)
    assert (link.start, link.end) == (5, 5 + len("https://example.com/א?b=1"))
    arabic = "مرحبا https://example.com/مرحبا؟ نعم"
    (link,) = find_links(arabic)
    assert arabic[link.start : link.end] == "https://example.com/مرحبا"


def test_emails_and_other_schemes_are_not_links() -> None:
    assert find_links("write to a@b.com or mailto:a@b.com, ftp://files.example.com") == ()
    assert find_links("no links here: 3.14 and e.g. nothing") == ()


# ---------------------------------------------------------------------------------------------
# Mentions and hashtags


def test_mentions_local_and_remote() -> None:
    text = "hi @alice and @bob@example.social, cc @carol.bsky.social."
    assert [(text[s.start : s.end], s.value) for s in find_mentions(text)] == [
        ("@alice", "alice"),
        ("@bob@example.social", "bob@example.social"),
        ("@carol.bsky.social", "carol.bsky.social"),  # trailing '.' is punctuation
    ]


def test_emails_and_urls_are_not_mentions() -> None:
    assert find_mentions("mail a@b.com or first.last@example.org") == ()
    assert find_mentions("https://mastodon.social/@alice and https://x.com/a?u=@bob") == ()
    assert find_mentions("@josé is not a username, neither is @alice@") == ()


def test_hashtags() -> None:
    text = "#python #日本語 #हिन्दी #مرحبا #کتاب\u200cها #snake_case #2024 C# x#y #a·b"
    assert [s.value for s in find_hashtags(text)] == [
        "python",
        "日本語",
        "हिन्दी",  # vowel signs and virama are marks: part of the tag
        "مرحبا",
        "کتاب\u200cها",  # ZWNJ inside a Persian word
        "snake_case",
        # "#2024" is purely numeric; "C#" and "x#y" follow a word character
        "a·b",
    ]


def test_hashtag_in_url_is_not_a_hashtag() -> None:
    text = "https://example.com/page#section #real"
    assert [s.value for s in find_hashtags(text)] == ["real"]


def test_entities_sorted_and_links_win() -> None:
    text = "#tag @bob https://x.com/@bob#frag example.com/@carol @dan@example.social"
    spans = entities(text)
    assert [(s.kind, s.value) for s in spans] == [
        (SpanKind.HASHTAG, "tag"),
        (SpanKind.MENTION, "bob"),
        (SpanKind.LINK, "https://x.com/@bob#frag"),
        (SpanKind.LINK, "https://example.com/@carol"),
        (SpanKind.MENTION, "dan@example.social"),
    ]
    # Without the schemeless link, its "@carol" still does not become a mention.
    assert [s.value for s in entities(text, require_scheme=True)] == [
        "tag",
        "bob",
        "https://x.com/@bob#frag",
        "dan@example.social",
    ]
    assert entities(text) is entities(text)  # cached: the same tuple comes back


# ---------------------------------------------------------------------------------------------
# Mastodon


def test_mastodon_500_limit_with_three_long_urls() -> None:
    urls = [f"https://example.com/{c * 80}" for c in "abc"]  # 100 characters each
    filler = "x" * 428
    text = f"{filler} {urls[0]} {urls[1]} {urls[2]}"
    # 428 + 3 spaces + 3 × 23 = 500, although the text is 428 + 3 + 300 = 731 characters.
    assert len(text) == 731
    assert mastodon_length(text) == 500
    assert mastodon_length(text + "!") == 501
    # An instance reserving a different number of characters per URL.
    assert mastodon_length(text, url_weight=30) == 431 + 90


def test_mastodon_remote_mention_counts_as_local() -> None:
    # "@alice@example.social" counts as "@alice" (6); " hello" adds 6.
    assert mastodon_length("@alice@example.social hello") == 12
    assert mastodon_length("@alice hello") == 12


def test_mastodon_counts_spoiler_and_graphemes() -> None:
    # Spoiler "CW: food" (8) + "Pizza " (6) + 🇮🇹 (1) + " " + 👨‍👩‍👧‍👦 (1) = 17.
    assert mastodon_length(f"Pizza {FLAG_IT} {FAMILY}", spoiler="CW: food") == 17


def test_mastodon_schemeless_links_count_in_full() -> None:
    # Mastodon only shortens links written with http(s)://: 11 + 1 + 23.
    assert mastodon_length("example.com https://example.com/" + "p" * 50) == 35


def test_mastodon_blank_text_counts_zero() -> None:
    # Ruby's blank? drops a whitespace-only text; the spoiler still counts (2).
    assert mastodon_length(" \n\u3000", spoiler="cw") == 2


# ---------------------------------------------------------------------------------------------
# X (twitter-text v3)


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("a" * 280, 280),  # ASCII weighs 1 each
        ("中" * 140, 280),  # U+4E2D is outside the weight-1 ranges: 2 each
        ("\U0001f600", 2),  # one emoji
        (FAMILY, 2),  # a ZWJ sequence weighs 2 in total, not 4 × 2 + 3 × 2
        (FLAG_IT, 2),
        (THUMBS_MEDIUM, 2),
        ("1\ufe0f\u20e3", 2),  # keycap 1️⃣ is one emoji
        ("https://example.com/" + "a" * 100, 23),  # every URL is a t.co link
        ("example.com", 23),  # schemeless too
        ("go https://example.com/x now", 3 + 23 + 4),
        ("e\u0301" * 280, 280),  # NFC makes é U+00E9 (weight 1), not e + U+0301 (1 + 1)
        ("\u1112\u1161\u11ab", 2),  # jamo U+1112.. are ≥ 4352 (2 each) but NFC gives 한: 2
        ("नमस्ते", 6),  # Devanagari U+0900–U+097F lies in 0–4351: 1 each
        ("\u201chi\u201d", 4),  # curly quotes U+201C/U+201D are in 8208–8223
        ("\u2026", 2),  # … U+2026 is not in any weight-1 range
        ("\u00a9", 1),  # © alone is a text character below 4352
    ],
)
def test_x_weighted_length(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


def test_x_limit_boundary() -> None:
    text = "a" * 257 + " https://example.com/"  # 257 + 1 + 23 = 281
    assert weighted_length(text) == 281


# ---------------------------------------------------------------------------------------------
# Offsets


def test_offsets_after_astral_characters() -> None:
    text = f"\U0001f600 {FAMILY} héllo @bob!"
    (mention,) = find_mentions(text)
    # Code points: 😀 (1) + " " (1) + family (7) + " héllo " (7) = 16; "@bob" is 4 long.
    assert (mention.start, mention.end) == (16, 20)
    # UTF-16: 😀 2 + 1 + family 11 + 7 = 21.
    assert to_utf16_range(text, mention.start, mention.end) == (21, 25)
    # UTF-8: 😀 4 + 1 + family 25 + " h" 2 + é 2 + "llo " 4 = 38.
    assert to_utf8_range(text, mention.start, mention.end) == (38, 42)
    assert text.encode()[38:42] == b"@bob"


def test_offsets_are_clamped() -> None:
    assert to_utf8_range("ab", -5, 99) == (0, 2)
    assert to_utf16_range("\U0001f600", 1, 0) == (2, 2)


# ---------------------------------------------------------------------------------------------
# Robustness

_PIECES = [
    "https://",
    "http://",
    "example.com",
    "bücher.de",
    "/path",
    "@",
    "#",
    "alice",
    "日本",
    ".",
    ",",
    "(",
    ")",
    "?",
    " ",
    "\n",
    "\r",
    "\x00",
    "\u0301",
    "\u200c",
    "\u200d",
    FAMILY,
    FLAG_IT[0],
    "\ud800",
    "\udfff",
    "\U0010ffff",
    "ह\u094d",
    "؟",
    "x",
    "1",
    "_",
]
_ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
_TEXTS = st.one_of(
    st.text(_ANY_CHAR, max_size=200),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(_ANY_CHAR, max_size=3)), max_size=60).map(
        "".join
    ),
)


@settings(max_examples=400, deadline=None, database=None)
@given(_TEXTS)
def test_never_raises_and_spans_are_sane(text: str) -> None:
    for require_scheme in (False, True):
        spans = entities(text, require_scheme=require_scheme)
        last_end = 0
        for span in spans:
            assert isinstance(span, Span)
            assert last_end <= span.start < span.end <= len(text)
            last_end = span.end
            start8, end8 = to_utf8_range(text, span.start, span.end)
            assert end8 - start8 == utf8_length(text[span.start : span.end])
            start16, end16 = to_utf16_range(text, span.start, span.end)
            assert start16 == utf16_length(text[: span.start])
            assert end16 - start16 == utf16_length(text[span.start : span.end])
    assert grapheme_count(text) == len(regex.findall(r"\X", text))
    assert mastodon_length(text, spoiler=text[:3]) >= 0
    assert weighted_length(text) >= 0
    assert 0 <= utf16_length(text) - len(text) <= len(text)


def test_long_text() -> None:
    text = ("parola #tag @bob https://example.com/x " + FAMILY + " ") * 2500  # ~100k characters
    assert len(text) > 100_000
    assert len(entities(text)) == 3 * 2500
    # "parola " 7 + "#tag " 5 + "@bob " 5 + URL 23 + " " 1 + family 1 + " " 1 = 43 per repeat.
    assert mastodon_length(text) == 2500 * 43
