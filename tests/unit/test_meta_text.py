"""Counting as Meta counts: Threads (emoji as their UTF-8 bytes), Instagram captions (code points,
hashtags, mentions). The sandbox Meta counts Threads text with its own, separately written code:
the two must agree, or the sandbox would hide a counting bug."""

from __future__ import annotations

import pytest

from staffetta.channels import meta_text
from staffetta.sandbox.meta_graph import threads_count

THREADS_VECTORS = [
    ("", 0),
    ("hello", 5),
    ("line\r\nbreak", 10),  # CR LF is one cluster
    ("😀", 4),
    ("a😀b", 6),
    ("👍🏽", 8),  # skin tone: 4 + 4
    ("🇮🇹", 8),  # a flag: two regional indicators
    ("👨\u200d👩\u200d👧", 18),  # ZWJ family: 4 + 3 + 4 + 3 + 4
    ("1\ufe0f\u20e3", 7),  # keycap: 1 + 3 + 3
    ("\u00a9", 1),  # © on its own is text
    ("\u00a9\ufe0f", 5),  # ©️ with the emoji selector: 2 + 3
    ("e\u0301", 1),  # combining accent: one character
    ("中文", 2),
    ("مرحبا", 5),
    ("\U0001f600" * 125, 500),
]


@pytest.mark.parametrize(("text", "expected"), THREADS_VECTORS)
def test_threads_length(text: str, expected: int) -> None:
    assert meta_text.threads_length(text) == expected


@pytest.mark.parametrize(("text", "expected"), THREADS_VECTORS)
def test_sandbox_counts_threads_text_the_same_way(text: str, expected: int) -> None:
    assert threads_count(text.replace("\r\n", "\n")) == meta_text.threads_length(
        text.replace("\r\n", "\n")
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_long_texts_counted_line_by_line_agree_with_the_whole(newline: str) -> None:
    """Long posts are counted per line (and each line remembered, for the keystroke budget):
    the total must be what counting the whole text gives, CR LF included."""
    line = "Emoji 😀, a flag 🇮🇹, a family 👨\u200d👩\u200d👧 and é (e\u0301), 中文"
    text = newline.join([line] * 60)
    assert len(text) > 1000
    assert meta_text.threads_length(text) == threads_count(text)
    edited = text.replace("😀", "😀😀", 1)  # one keystroke later
    assert meta_text.threads_length(edited) == threads_count(edited)


def test_threads_length_never_raises() -> None:
    nasty = "\ud800 \x00 \u202e abc \U0010ffff " * 50
    assert meta_text.threads_length(nasty) > 0


def test_threads_links_are_distinct_links() -> None:
    text = "https://example.org/a https://example.org/a/ example.com https://EXAMPLE.org/b"
    assert meta_text.threads_links(text) == 3


@pytest.mark.parametrize(
    ("text", "length", "tags", "mentions"),
    [
        ("plain", 5, 0, 0),
        ("#one #two #2024 C#", 18, 2, 0),
        ("@alice and @bob.smith, mail a@b.com", 35, 0, 2),
        ("👨\u200d👩\u200d👧", 5, 0, 0),  # code points, not clusters
        ("café #café", 10, 1, 0),
    ],
)
def test_instagram_caption_counts(text: str, length: int, tags: int, mentions: int) -> None:
    assert meta_text.caption_length(text) == length
    assert meta_text.hashtag_count(text) == tags
    assert meta_text.mention_count(text) == mentions
