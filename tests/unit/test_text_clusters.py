"""Grapheme clusters counted from runs (:func:`staffetta.core.text.cluster_runs`): exactly the
clusters ``\\X`` finds in the whole text, for any text, so every count built on them (the blog's
characters, Mastodon's and Bluesky's limits, Threads' emoji bytes) is the platform's count."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from staffetta.channels import meta_text
from staffetta.channels.meta_text import threads_length
from staffetta.core import text as core_text
from staffetta.core.text import cluster_runs, grapheme_count

_CLUSTER = regex.compile(r"\X")

# Code points of every Grapheme_Cluster_Break value and the sequences built from them.
_TRICKY = (
    *("a", "é", "e\u0301", "\u0301", "\u200d", "\ufe0f", "\u20e3", "1\ufe0f\u20e3", "#"),
    *("👨", "👩", "👧", "👨\u200d👩\u200d👧", "🏽", "👍🏽", "🇮", "🇹", "🇮🇹", "☕", "©", "©\ufe0f"),
    *("🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f", "\U000e0067"),
    *("\r", "\n", "\r\n", "\x00", "\x1c", "\u0085", "\u2028", "\ud800", "\udc00"),
    *("\u1100", "\u1161", "\u11a8", "가", "각", "क", "\u094d", "ष", "क\u094dष", "\u093f"),
    *("\u0600", "\u0903", "\u0e33", "\u0e40", "ก", "日", "本", " ", "\u00a0"),
)
_ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
_texts = st.lists(
    st.one_of(st.sampled_from(_TRICKY), st.sampled_from(_TRICKY), st.text(_ANY_CHAR, max_size=3)),
    max_size=60,
).map("".join)


def clusters_from_runs(text: str) -> list[str]:
    found: list[str] = []
    for run, single in cluster_runs(text):
        found.extend(run if single else _CLUSTER.findall(run))
    return found


@settings(max_examples=600, deadline=None, database=None)
@given(_texts)
def test_runs_hold_the_clusters_of_the_whole_text(text: str) -> None:
    assert "".join(run for run, _ in cluster_runs(text)) == text
    assert clusters_from_runs(text) == _CLUSTER.findall(text)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(_texts, min_size=2, max_size=8).map("\n".join))
def test_long_texts_count_as_the_platforms_count(text: str) -> None:
    long = text + "\n" + "x" * 1000  # long enough to be counted line by line
    expected = _CLUSTER.findall(long)
    assert grapheme_count(long) == len(expected)
    assert threads_length(long) == sum(  # cluster by cluster, an emoji by its UTF-8 bytes
        len(c.encode("utf-8", "surrogatepass")) if meta_text._is_emoji(c) else 1 for c in expected
    )


def test_a_line_of_prose_is_cut_with_x_only_around_its_emoji() -> None:
    line = "caffè naïve über 日本語 👨\u200d👩\u200d👧 ☕ e\u0301 🇮🇹 ciao"
    runs = list(cluster_runs(line))
    # The joiners, the accent and the flag with the code point either side of them: the rest of
    # the line is one cluster per code point, without asking \X.
    assert [run for run, single in runs if not single] == [
        "👨\u200d👩\u200d👧",
        "e\u0301 🇮🇹 ",
    ]
    assert grapheme_count(line) == len(_CLUSTER.findall(line))
    assert core_text._line_grapheme_count(line) == len(_CLUSTER.findall(line))
