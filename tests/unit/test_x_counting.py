"""X's weighted count, checked against what the official twitter-text 3.1.0 package says.

Every expected value below is twitter-text's ``parseTweet(text).weightedLength`` for that text
(measured once with the npm package; the package's emoji list is Emoji 12, so the two texts
where the rules and that list disagree are asserted separately, with the reason)."""

from __future__ import annotations

import pytest

from staffetta.channels.x_channel import XChannel
from staffetta.core.model import Account, Post
from staffetta.core.text import weighted_length
from staffetta.core.twitter_text import url_spans

X = XChannel()
ACCOUNT = Account("x-1", "x", "Me", {"handle": "@me"})


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("hello", 5),
        ("e\u0301" * 10, 10),  # NFC: é is one light character
        ("日本語のテキスト", 16),  # CJK weighs 2
        ("😀", 2),
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # a ZWJ family is one emoji
        ("🇮🇹", 2),
        ("👍🏽", 2),
        ("1\ufe0f\u20e3", 2),  # keycap
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 2),  # Scotland
        ("©", 1),  # text presentation: an ordinary character
        ("©\ufe0f", 2),
        ("☺", 2),
        ("\u2018quotes\u2019", 8),
        ("\u2026", 2),
        ("https://example.com", 23),
        ("example.com", 23),
        ("example.it", 23),  # short country domains count too (twitter-text 3)
        ("#example.com", 12),  # after # it is not a link
        ("@example.com", 12),
        ("http://localhost:8000", 21),  # no top-level domain: not a link
        ("例え.jp", 7),  # an IDN host without scheme is not a link
        ("https://ex.com/p日", 25),  # CJK right after a link is not part of it
        ("😀https://ex.com/p", 25),
        ("(https://example.com/Foo_(bar))", 25),  # balanced parentheses stay in
        ("Visit https://x.com and example.org!", 58),
        ("é😀\u200d", 4),  # a dangling ZWJ weighs 1
        ("https://ex.com/p1\ufe0f\u20e3", 27),  # a stray keycap mark is no emoji
        ("\u200dexample.org", 24),
        ("x" * 281, 281),
    ],
)
def test_weights_as_twitter_text(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


def test_where_twitter_text_3_1_emoji_list_is_older() -> None:
    # 🧑‍💻 (Emoji 12.1) is one emoji on every current system: 2 here, 5 in twitter-text 3.1.0.
    assert weighted_length("🧑\u200d💻") == 2
    # A ZWJ pair that is no standard emoji: one grapheme here (2); twitter-text counts 2+1+2.
    assert weighted_length("🐶\u200d🐱") == 2


def test_link_boundaries() -> None:
    text = "Read https://example.com/a_(b)?x=1. Then 日本https://ex.org/p日"
    spans = [text[a:b] for a, b in url_spans(text)]
    assert spans == ["https://example.com/a_(b)?x=1", "https://ex.org/p"]


@pytest.mark.parametrize("text", ["a." * 3000, "a." * 3000 + "com", "a-" * 2000 + ".com"])
def test_pathological_texts_are_quick(text: str) -> None:
    assert weighted_length(text) >= 0  # a time budget keeps the rules from backtracking


def test_the_preview_counts_and_offers_a_split() -> None:
    preview = X.preview(Post(body="日" * 141), ACCOUNT)
    assert (preview.count, preview.limit) == (282, 280)
    assert preview.problems[0].message == "282 / 280 characters (X's count) — 2 over"
    assert preview.problems[0].fix is not None
    text = X.thread_text(Post(body="word " * 120), ACCOUNT)
    parts = X.preview(Post(body=text), ACCOUNT).parts
    assert len(parts) == 3
    assert all(p.count <= 280 for p in parts)
    assert parts[-1].text.endswith("3/3")
