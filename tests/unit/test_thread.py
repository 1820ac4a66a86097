"""Splitting a text into a thread: the user's ``---`` breaks, the "k/n" numbering, and the
automatic split (properties checked with hypothesis on arbitrary Unicode and on texts built from
links, mentions, hashtags, emoji, RTL words and CJK sentences), plus Mastodon's preview of a
thread."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staffetta.channels.mastodon import MastodonChannel
from staffetta.core.channel import Fix
from staffetta.core.model import Account, Post
from staffetta.core.text import entities, grapheme_count, mastodon_length
from staffetta.core.thread import (
    BREAK,
    explicit_parts,
    join_parts,
    number_parts,
    numbered,
    plan_thread,
    thread_parts,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦, one grapheme
FLAG_IT = "\U0001f1ee\U0001f1f9"  # 🇮🇹: two regional indicators, one grapheme
_GRAPHEME = regex.compile(r"\X")


def graphemes_fit(limit: int) -> Callable[[str], bool]:
    return lambda text: grapheme_count(text) <= limit


def locate(text: str, parts: list[str]) -> list[tuple[int, int]]:
    """Where each part lies in ``text`` (parts are slices of it, in order)."""
    spans, position = [], 0
    for part in parts:
        start = text.find(part, position)
        assert start >= 0, f"{part!r} is not a slice of the text after {position}"
        spans.append((start, start + len(part)))
        position = start + len(part)
    return spans


def grapheme_boundaries(text: str) -> set[int]:
    found, position = {0}, 0
    for cluster in _GRAPHEME.findall(text):
        position += len(cluster)
        found.add(position)
    return found


# --- the user's breaks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("no break at all\n\nstays as it is  ", ["no break at all\n\nstays as it is  "]),
        ("", [""]),
        ("one\n---\ntwo", ["one", "two"]),
        ("one\n\n  ---  \n\ntwo\n", ["one", "two"]),  # spaces around, blank lines dropped
        ("one\r\n---\r\ntwo\r\n", ["one", "two"]),  # Windows line ends
        ("one\n---\n\n---\ntwo", ["one", "two"]),  # empty parts dropped
        ("---\none\n---", ["one"]),
        ("---\n---", [""]),
        ("one\n----\ntwo", ["one\n----\ntwo"]),  # four dashes are not a break
        ("one\n--- two\n", ["one\n--- two\n"]),  # nor text after the dashes
        ("a --- b", ["a --- b"]),  # nor dashes inside a line
        (
            "  indented first line\n---\nsecond\n  kept  \n",
            ["  indented first line", "second\n  kept"],
        ),
    ],
)
def test_explicit_parts(text: str, parts: list[str]) -> None:
    assert explicit_parts(text) == parts


def test_join_parts_writes_a_break_line_between_parts() -> None:
    assert join_parts(["one", "two"]) == "one\n\n---\n\ntwo"
    assert BREAK == "---"


_PART = (
    st.text(min_size=1)
    .map(str.strip)
    .filter(
        lambda p: p != "" and all(line.strip() != BREAK for line in p.split("\n")) and "\r" not in p
    )
)


@given(st.lists(_PART, min_size=1, max_size=6))
def test_explicit_parts_reads_back_what_join_parts_wrote(parts: list[str]) -> None:
    assert explicit_parts(join_parts(parts)) == parts


@given(st.text())
def test_explicit_parts_never_raises_and_keeps_every_word(text: str) -> None:
    parts = explicit_parts(text)
    assert parts
    without_breaks = [line for line in text.split("\n") if line.strip() != BREAK]
    assert "\n".join(parts).split() == "\n".join(without_breaks).split()


# --- numbering -----------------------------------------------------------------------------------


def test_number_parts_appends_k_of_n() -> None:
    assert number_parts(["first", "second  ", "third"]) == ["first 1/3", "second 2/3", "third 3/3"]
    assert number_parts(["alone"]) == ["alone"]  # one part is not a thread
    assert number_parts([]) == []
    assert numbered("", 0, 2) == "1/2"  # an image-only first part


def test_thread_parts_numbers_only_when_asked() -> None:
    fits = graphemes_fit(500)
    assert thread_parts("one\n---\ntwo", fits, numbering=True) == ["one 1/2", "two 2/2"]
    assert thread_parts("one\n---\ntwo", fits, numbering=False) == ["one", "two"]
    # No automatic split here: an over-long text stays one (over-long) part.
    long = "word " * 200
    assert thread_parts(long, graphemes_fit(50), numbering=True) == [long]


# --- the automatic split -------------------------------------------------------------------------


def test_a_text_that_fits_is_left_alone() -> None:
    text = "  Fits as it is.\n\n"
    assert plan_thread(text, graphemes_fit(500), numbering=True) == [text]


def test_paragraphs_are_preferred_then_sentences_then_words() -> None:
    first = "The first paragraph is here. It has two sentences, both short."  # 63
    second = "Second paragraph. " * 4  # 71 once stripped
    text = f"{first}\n\n{second.strip()}"
    parts = plan_thread(text, graphemes_fit(100), numbering=False)
    # The paragraph break, although a sentence end further on would also fit.
    assert parts == [first, second.strip()]

    sentences = "One sentence here. Another one follows. A third closes it."  # 58
    parts = plan_thread(sentences, graphemes_fit(45), numbering=False)
    assert parts == ["One sentence here. Another one follows.", "A third closes it."]

    words = "alpha beta gamma delta epsilon zeta eta theta"
    parts = plan_thread(words, graphemes_fit(20), numbering=False)
    assert parts == ["alpha beta gamma", "delta epsilon zeta", "eta theta"]


def test_a_stronger_boundary_is_not_taken_when_it_leaves_the_part_too_short() -> None:
    text = "Tiny.\n\n" + "word " * 30  # the paragraph break comes after 5 of 50 characters
    parts = plan_thread(text, graphemes_fit(50), numbering=False)
    assert parts[0].startswith("Tiny.\n\nword word")
    assert all(grapheme_count(p) <= 50 for p in parts)


def test_numbering_is_counted_in_the_limit() -> None:
    text = " ".join(f"w{i:02d}" for i in range(30))  # 30 words of 3 characters
    parts = plan_thread(text, graphemes_fit(20), numbering=True)
    final = number_parts(parts)
    assert all(grapheme_count(p) <= 20 for p in final)
    # Four words and " 1/8" make 19; without the marker counted, five words (19) would fit.
    assert final[0] == "w00 w01 w02 w03 1/8"
    assert len(final) == 8
    assert max(grapheme_count(p) for p in parts) == 15


def test_numbering_with_ten_parts_or_more_counts_two_digit_markers() -> None:
    text = " ".join(["abcd"] * 60)
    parts = plan_thread(text, graphemes_fit(16), numbering=True)
    final = number_parts(parts)
    assert len(final) >= 10
    assert all(grapheme_count(p) <= 16 for p in final)
    assert final[-1].endswith(f" {len(final)}/{len(final)}")


def test_the_users_breaks_are_kept_as_split_points() -> None:
    text = "Kept on its own.\n---\n" + "more words here " * 10
    parts = plan_thread(text, graphemes_fit(60), numbering=True)
    assert parts[0] == "Kept on its own."
    assert all(grapheme_count(p) <= 60 for p in number_parts(parts))


def test_links_mentions_and_hashtags_are_never_cut() -> None:
    link = "https://example.com/a/very/long/path/that/should/stay/whole"
    text = f"Read {link} now, @alice@example.social and #LongHashtagName please"
    parts = plan_thread(text, graphemes_fit(len(link) + 10), numbering=False)
    assert len(entities(text)) == 3
    assert any(link in part for part in parts)
    assert any("@alice@example.social" in part for part in parts)
    assert any("#LongHashtagName" in part for part in parts)


def test_one_huge_word_is_cut_between_graphemes() -> None:
    word = ("e\u0301" + FAMILY + FLAG_IT + "x") * 100  # 400 graphemes, no space anywhere
    parts = plan_thread(word, graphemes_fit(30), numbering=True)
    final = number_parts(parts)
    assert all(grapheme_count(p) <= 30 for p in final)
    assert "".join(parts) == word
    boundaries = grapheme_boundaries(word)
    assert all(end in boundaries for _, end in locate(word, parts))


def test_a_100k_character_word_is_cut_in_linear_work() -> None:
    word = ("e\u0301" + FAMILY + FLAG_IT + "x") * 6000  # ≈ 100k code points, no space
    seen: list[int] = []

    def fits(part: str) -> bool:
        seen.append(len(part))
        return grapheme_count(part) <= 500

    parts = plan_thread(word, fits, numbering=True)
    assert all(grapheme_count(p) <= 500 for p in number_parts(parts))
    assert "".join(parts) == word
    boundaries = grapheme_boundaries(word)
    assert all(end in boundaries for _, end in locate(word, parts))
    # Apart from the first look at the whole text, no call weighs more than a few parts.
    assert len(seen) - 1 <= 8 * len(parts)
    assert max(seen[1:]) <= 16 * max(len(p) for p in parts)


def test_a_link_longer_than_a_part_is_cut_only_because_it_must() -> None:
    link = "https://example.com/" + "a" * 100
    parts = plan_thread(f"see {link}", graphemes_fit(40), numbering=False)
    assert parts[0] == "see"
    assert "".join(parts[1:]) == link
    assert all(grapheme_count(p) <= 40 for p in parts)


def test_nothing_fits_still_terminates_one_grapheme_per_part() -> None:
    text = "ab " + FAMILY
    assert plan_thread(text, lambda _t: False, numbering=True) == ["a", "b", FAMILY]


def test_rtl_text_splits_at_its_spaces() -> None:
    arabic = "هذا نص عربي طويل يجب تقسيمه إلى أجزاء. " * 10
    parts = plan_thread(arabic, graphemes_fit(80), numbering=True)
    assert all(grapheme_count(p) <= 80 for p in number_parts(parts))
    assert " ".join(parts).split() == arabic.split()
    assert all(part.endswith(".") for part in parts[:-1])  # at sentence ends
    hebrew = "זהו טקסט ארוך בעברית שצריך לחלק " * 10
    parts = plan_thread(hebrew, graphemes_fit(50), numbering=False)
    assert " ".join(parts).split() == hebrew.split()


def test_cjk_sentences_split_after_full_stops() -> None:
    text = "今日は良い天気です。明日も晴れるでしょう。散歩に行きます。"
    parts = plan_thread(text, graphemes_fit(22), numbering=False)
    assert parts == ["今日は良い天気です。明日も晴れるでしょう。", "散歩に行きます。"]


def test_zwj_emoji_between_words_stay_whole() -> None:
    text = " ".join([FAMILY] * 40)
    parts = plan_thread(text, graphemes_fit(12), numbering=True)
    assert all(set(p.split()) == {FAMILY} for p in parts)
    assert sum(len(p.split()) for p in parts) == 40


def test_a_combining_mark_after_a_space_is_not_separated_from_it() -> None:
    # " \u0301" is one grapheme cluster: no part may start with the bare combining mark.
    text = "word \u0301x " * 20
    parts = plan_thread(text, graphemes_fit(15), numbering=False)
    assert not any(part.startswith("\u0301") for part in parts)
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())


def test_100k_characters_with_a_bounded_number_of_short_fits_calls() -> None:
    text = ("A sentence of ordinary words. " * 8 + "\n\n") * 400  # ≈ 100k characters
    seen: list[int] = []

    def fits(part: str) -> bool:
        seen.append(len(part))
        return grapheme_count(part) <= 500

    parts = plan_thread(text, fits, numbering=True)
    assert all(grapheme_count(p) <= 500 for p in number_parts(parts))
    assert " ".join(parts).split() == text.split()
    # Linear work: a handful of calls per part, each on about one part of text (never the rest).
    assert len(seen) - 1 <= 6 * len(parts)
    assert max(seen[1:]) <= 4 * 500


# --- properties ----------------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "word",
        "a",
        "longerword",
        "https://example.com/some/path?q=1",
        "example.org",
        "@alice",
        "@bob@example.social",
        "#tag",
        "#Ünïcödé",
        FAMILY,
        FLAG_IT,
        "e\u0301",
        "שלום",
        "مرحبا",
        "日本語",
        "end.",
        "why?",
        "(quote).",
    ]
)
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  ", "\t", "\r\n", "\u00a0"])


@st.composite
def prose(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORDS, min_size=1, max_size=120))
    out = [words[0]]
    for word in words[1:]:
        out += [draw(SEPARATORS), word]
    return "".join(out)


def check_split(text: str, limit: int, numbering: bool) -> list[str]:
    fits = graphemes_fit(limit)
    parts = plan_thread(text, fits, numbering=numbering)
    if fits(text):
        assert parts == [text]
        return parts
    final = number_parts(parts) if numbering else parts
    assert all(fits(part) for part in final), final
    # Nothing lost or reordered: only the whitespace at split points is dropped.
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())
    # Every split point is a grapheme boundary of the text.
    boundaries = grapheme_boundaries(text)
    for start, end in locate(text, parts):
        assert start in boundaries
        assert end in boundaries
    return parts


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(prose(), st.integers(min_value=60, max_value=200), st.booleans())
def test_every_part_fits_and_words_and_entities_stay_whole(
    text: str, limit: int, numbering: bool
) -> None:
    parts = check_split(text, limit, numbering)
    # Every word here fits in a part on its own, so whole words come back in order.
    assert " ".join(parts).split() == text.split()
    # No link, mention or hashtag of the text straddles a split point.
    spans = locate(text, parts)
    for entity in entities(text):
        assert any(s <= entity.start and entity.end <= e for s, e in spans), entity


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(), st.integers(min_value=1, max_value=40), st.booleans())
def test_any_unicode_is_split_without_raising(text: str, limit: int, numbering: bool) -> None:
    # Markers ("k/n") may not fit in a tiny limit: check fitting only where they can.
    fits = graphemes_fit(limit)
    parts = plan_thread(text, fits, numbering=numbering)
    assert parts
    if fits(text) or BREAK in text:
        return
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())
    if limit >= 12 or not numbering:
        assert all(fits(p) for p in (number_parts(parts) if numbering else parts))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text().filter(lambda t: BREAK not in t), st.integers(min_value=1, max_value=40))
def test_any_unicode_splits_between_grapheme_clusters(text: str, limit: int) -> None:
    check_split(text, limit, numbering=False)


_PIECES = ["a", "bc", " ", "\t", "\n", "\u0301", "\u0600", "\u093f", "\u200d", "\u00a0", "\r\n"]


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from([*_PIECES, FAMILY, FLAG_IT, "\U0001f3fd"])).map("".join),
    st.integers(min_value=3, max_value=12),
)
def test_marks_and_prefixes_next_to_spaces_never_end_up_in_the_wrong_part(
    text: str, limit: int
) -> None:
    check_split(text, limit, numbering=False)


# --- Mastodon's preview of a thread --------------------------------------------------------------

MASTODON = MastodonChannel()
ACCOUNT = Account("m-1", "mastodon", "Me", {"instance_url": "https://example.social"})


def test_mastodon_previews_each_part_with_its_own_count() -> None:
    post = Post(body="First https://example.com/" + "x" * 80 + "\n---\nSecond @a@b.example")
    preview = MASTODON.preview(post, ACCOUNT)
    assert [p.text for p in preview.parts] == [
        "First https://example.com/" + "x" * 80 + " 1/2",
        "Second @a@b.example 2/2",
    ]
    # 6 + 23 (the link) + 4; 7 + 2 ("@a") + 4.
    assert [p.count for p in preview.parts] == [33, 13]
    assert preview.problems == ()


def test_mastodon_offers_the_split_and_the_split_fits_with_the_content_warning() -> None:
    body = "Quite a long sentence for the test. " * 30
    post = Post(body=body, content_warning="spoilers")
    preview = MASTODON.preview(post, ACCOUNT)
    assert [(p.code, p.fix) for p in preview.problems if p.blocking] == [("too_long", Fix.SPLIT)]

    split = MASTODON.thread_text(post, ACCOUNT)
    threaded = MASTODON.preview(
        Post(body=body, content_warning="spoilers", overrides={"m-1": split}), ACCOUNT
    )
    assert len(threaded.parts) == 3
    assert all(p.count <= 500 for p in threaded.parts)
    assert not threaded.blocking
    assert " ".join(explicit_parts(split)).split() == body.split()


def test_mastodon_reports_which_part_is_over() -> None:
    post = Post(body="Fine.\n---\n" + "x " * 300)
    preview = MASTODON.preview(post, ACCOUNT)
    (problem,) = [p for p in preview.problems if p.blocking]
    assert problem.fix is Fix.SPLIT
    # 300 "x" and 299 spaces between them, then " 2/2".
    assert problem.message == "Part 2 of 2: 603 / 500 characters — 103 over"


@given(st.text(alphabet=st.sampled_from("ab @:/.#é\u0301\n x" + FAMILY)), st.text(max_size=5))
def test_mastodon_fast_count_equals_mastodon_length(text: str, spoiler: str) -> None:
    assert MASTODON.length(text, ACCOUNT, spoiler) == mastodon_length(text, spoiler, 23)


def test_a_huge_link_that_mastodon_counts_as_23_stays_whole() -> None:
    url = "https://example.com/" + "a" * 20_000
    text = f"see {url} ok " + "word " * 300
    parts = plan_thread(text, lambda t: MASTODON.fits(t, ACCOUNT), numbering=True)
    assert parts[0] == f"see {url} ok " + " ".join(["word"] * (len(parts[0].split()) - 3))
    assert all(MASTODON.fits(p, ACCOUNT) for p in number_parts(parts))
    assert " ".join(parts).split() == text.split()


def test_the_splitter_never_splits_inside_a_url_for_mastodon() -> None:
    url = "https://example.com/" + "p" * 300  # counts 23 on Mastodon
    text = ("Some words before the link. " * 10 + url + " ") * 4
    parts = plan_thread(text, lambda t: MASTODON.fits(t, ACCOUNT), numbering=True)
    assert all(MASTODON.fits(p, ACCOUNT) for p in number_parts(parts))
    assert sum(p.count(url) for p in parts) == 4
    assert re.sub(r"\s+", " ", " ".join(parts)).split() == text.split()
