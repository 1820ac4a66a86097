"""Threads: one text published as a chain of replies, and how it is split into parts.

Pure and Qt-free. Nothing here raises on any ``str`` (lone surrogates, control characters, RTL
scripts, ZWJ emoji, texts of any length).

The user's split points are lines holding only :data:`BREAK` (``---``) in the text an account
publishes (its per-channel override). :func:`explicit_parts` reads them, :func:`join_parts` writes
them, and :func:`plan_thread` chooses them automatically for a text over a channel's limit (the
"Split into a thread" fix), leaving them in the text where the user can move them.

Numbering: with ``Post.thread_numbering`` every part of a thread of ``n > 1`` parts ends with
``" k/n"`` (a space, the part's number, a slash and the total: ``"… the end. 2/3"``). The marker
is part of what the platform counts, so the splitter measures every part *with* its marker.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from staffetta.core.lazy import lazy_regex
from staffetta.core.text import entities

__all__ = [
    "BREAK",
    "explicit_parts",
    "join_parts",
    "number_parts",
    "numbered",
    "plan_thread",
    "thread_parts",
]

BREAK = "---"
_JOINER = f"\n\n{BREAK}\n\n"

# --------------------------------------------------------------------------------------------
# The user's split points


def _is_break_line(line: str) -> bool:
    return line.strip() == BREAK


def explicit_parts(text: str) -> list[str]:
    """The parts the user marked with ``---`` lines, without the blank lines around each break.

    Empty parts are dropped. A text without a break line is returned unchanged as ``[text]``;
    a text holding nothing but break lines gives ``[""]``.
    """
    lines = text.split("\n")
    if not any(_is_break_line(line) for line in lines):
        return [text]
    parts: list[str] = []
    current: list[str] = []
    for line in [*lines, BREAK]:
        if _is_break_line(line):
            part = _trim_blank_lines("\n".join(current))
            if part:
                parts.append(part)
            current = []
        else:
            current.append(line)
    return parts or [""]


def _trim_blank_lines(text: str) -> str:
    """``text`` without its leading blank lines and trailing whitespace (line ends, ``\\r``)."""
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    return "\n".join(lines[start:]).rstrip()


def join_parts(parts: Sequence[str]) -> str:
    """The text whose :func:`explicit_parts` are ``parts``: a ``---`` line between each two."""
    return _JOINER.join(parts)


def numbered(part: str, index: int, total: int) -> str:
    """``part`` with the marker of part ``index`` (0-based) of ``total``: ``"text 1/3"``."""
    marker = f"{index + 1}/{total}"
    body = part.rstrip()
    return f"{body} {marker}" if body else marker


def number_parts(parts: Sequence[str]) -> list[str]:
    """Every part with its ``k/n`` marker; a single part (not a thread) is left as it is."""
    if len(parts) < 2:
        return list(parts)
    return [numbered(part, index, len(parts)) for index, part in enumerate(parts)]


def thread_parts(text: str, fits: Callable[[str], bool], *, numbering: bool) -> list[str]:
    """The posts a threaded channel publishes for ``text``: its explicit parts, numbered if asked.

    No automatic split happens here: an over-limit text without breaks stays one part, which the
    channel's preview reports as too long with the "Split into a thread" fix. (``fits`` is part of
    the signature so a channel can pass the same callback it gives :func:`plan_thread`.)
    """
    parts = explicit_parts(text)
    return number_parts(parts) if numbering else parts


# --------------------------------------------------------------------------------------------
# Automatic split

# Boundary strengths: the splitter prefers the strongest boundary that keeps a part at least
# half full (see _choose_end).
_WORD, _SENTENCE, _PARAGRAPH = 1, 2, 3
# A word longer than this (in code points, or four times the last part) is cut in a window
# rather than weighed whole.
_FAR = 8192

# Whitespace the way ``str.strip``/``str.isspace`` see it, so the parts' trimming agrees with the
# gaps found here.
_GAP = re.compile(r"\s+")
# Sentence-final punctuation (Latin, Arabic, Urdu, Devanagari, CJK), before closing quotes and
# brackets, at the end of the text before a gap.
_TERMINALS = frozenset(
    ".!?\u2026\u203c\u2047\u2048\u2049\u061f\u06d4\u0964\u0965\u3002\uff01\uff1f\uff61"
)
_CLOSERS = frozenset("\"')]}\u00bb\u201d\u2019\u203a\u300d\u300f\uff09\u3015\u3011")
# Scripts written without spaces end sentences with full-width punctuation and go straight on:
# a boundary with no gap.
_CJK_SENTENCE = lazy_regex(r"[\u3002\uff01\uff1f\uff61][\p{Pf}\p{Pe}]*(?=\S)")
# The only grapheme clusters that span whitespace, besides CR LF (which no gap splits): a mark
# joining the space before it (" \u0301") and a prefix joining the space after it ("\u0600 ").
# Control characters (tab, line ends) join nothing.
_JOINED_AFTER_SPACE = lazy_regex(
    r"(?<=[^\S\p{Cc}\p{Zl}\p{Zp}])"
    r"[\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=SpacingMark}"
    r"\p{Grapheme_Cluster_Break=ZWJ}]"
)
_PREPEND_BEFORE_SPACE = lazy_regex(r"\p{Grapheme_Cluster_Break=Prepend}(?=[^\S\p{Cc}\p{Zl}\p{Zp}])")
_GRAPHEME = lazy_regex(r"\X")


class _Cut(NamedTuple):
    """A place a part may end (``end``) and the next begin (``resume``), dropping the gap."""

    end: int
    resume: int
    strength: int


def plan_thread(text: str, fits: Callable[[str], bool], *, numbering: bool) -> list[str]:
    """Split ``text`` into parts that each satisfy ``fits`` (with their ``k/n`` marker).

    The result is the parts WITHOUT markers (:func:`number_parts` adds them); joined with
    :func:`join_parts` they are the text the user can then edit. Guarantees:

    - a text that fits as it is comes back as ``[text]``;
    - ``---`` lines the user already wrote are kept as split points;
    - parts end at a paragraph break, else a sentence end, else between words (a stronger
      boundary is chosen when it keeps the part at least half as long as the longest that fits);
    - the whitespace at a split point is dropped, nothing else: all the words stay, in order;
    - no part ends inside a link, mention, hashtag or grapheme cluster, except that a single word
      too long for any part is cut between grapheme clusters (keeping a link, mention or hashtag
      whole whenever it fits in a part on its own);
    - it always terminates and never raises: when nothing fits at all (``fits`` refuses even a
      single character), each part is one grapheme cluster and still fails ``fits``.

    ``fits`` is called a logarithmic number of times per part, on texts about one part long, so
    planning a few thousand characters stays cheap enough to run on every keystroke.
    """
    segments = explicit_parts(text)
    if len(segments) == 1 and fits(segments[0]):
        return [segments[0]]
    planner = _Planner(segments, fits, numbering)
    if not numbering:
        return planner.plan(1)
    # The "k/n" markers depend on how many parts there will be: plan with an estimate, and again
    # with the real count when its marker is wider or narrower. Markers of the same width differ
    # only in which ASCII digits they hold, which no platform counts differently.
    total = planner.estimate()
    parts: list[str] = []
    for _ in range(4):
        parts = planner.plan(total)
        if len(str(len(parts))) == len(str(total)):
            return parts
        total = len(parts)
    return parts


class _Segment:
    """One of the user's parts, with every place it may be split.

    ``joined`` holds the positions next to whitespace that are not grapheme cluster boundaries
    (a space and the mark after it, a prefix and the space after it): trimming and cutting never
    stop there.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.all, self.joined = _cuts(text)
        self.by_strength = {
            strength: [cut for cut in self.all if cut.strength >= strength]
            for strength in (_PARAGRAPH, _SENTENCE, _WORD)
        }
        self.ends = {strength: [c.end for c in sub] for strength, sub in self.by_strength.items()}

    def skip_blank(self, position: int) -> int:
        """The first position from ``position`` on that is not whitespace to drop."""
        text, joined = self.text, self.joined
        while position < len(text) and text[position].isspace() and position + 1 not in joined:
            position += 1
        return position

    def part(self, start: int, end: int) -> str:
        """``text[start:end]`` without the whitespace around it (what ``strip`` would drop, except
        a space that belongs to a cluster)."""
        text, joined = self.text, self.joined
        start = self.skip_blank(start)
        while end > start and text[end - 1].isspace() and end - 1 not in joined:
            end -= 1
        return text[start:end]


class _Planner:
    """Greedy planning over the user's segments; holds what does not depend on the part count."""

    def __init__(
        self, segments: Sequence[str], fits: Callable[[str], bool], numbering: bool
    ) -> None:
        self._segments = [_Segment(segment) for segment in segments]
        self._fits = fits
        self._numbering = numbering
        # (segment, start) -> the furthest word boundary that fitted there last time: where the
        # next plan (with a different marker width) starts looking.
        self._previous: dict[tuple[int, int], int] = {}

    def estimate(self) -> int:
        """How many parts there will be, extrapolated from how far the first part reaches."""
        segment = self._segments[0]
        start = segment.skip_blank(0)
        _, _, reach = self._step(0, segment, start, 0, 9, 0)
        per_part = max(reach - start, 1)
        return max(2, sum(-(-len(s.text) // per_part) for s in self._segments))

    def plan(self, total: int) -> list[str]:
        parts: list[str] = []
        for number, segment in enumerate(self._segments):
            position = segment.skip_blank(0)
            length = 0  # how far the previous part could reach: the first guess for this one
            while position < len(segment.text):
                part, resume, reach = self._step(
                    number, segment, position, len(parts), total, length
                )
                parts.append(part)
                length = reach - position
                position = resume
        return parts or [""]

    def _step(
        self, number: int, segment: _Segment, position: int, index: int, total: int, length: int
    ) -> tuple[str, int, int]:
        """The part starting at ``position``: its text, where the next one starts, and how far
        a part starting here could reach (the next part's first guess)."""
        fits_here = functools.partial(self._fits_from, segment, position, index, total)
        words = segment.ends[_WORD]
        next_cut = bisect.bisect_right(words, position)
        word_end = words[next_cut] if next_cut < len(words) else len(segment.text)
        if word_end - position > max(_FAR, 4 * length):
            # A huge word: weighing it whole for every part would be quadratic, so it is cut
            # in a window first; only if all of it fits is it planned as usual.
            end = _hard_cut(segment.text, position, word_end, fits_here, position + length)
            if end < word_end:
                return segment.part(position, end), segment.skip_blank(end), end
        target = self._previous.get((number, position), position + length)
        chosen, reach = _choose_end(segment, position, target, fits_here)
        if chosen is not None:
            self._previous[(number, position)] = reach
            return segment.part(position, chosen.end), chosen.resume, reach
        # Not even the next word fits: cut it between grapheme clusters.
        end = _hard_cut(segment.text, position, word_end, fits_here, position + length)
        return segment.part(position, end), segment.skip_blank(end), end

    def _fits_from(self, segment: _Segment, start: int, index: int, total: int, end: int) -> bool:
        """Whether the segment from ``start`` to ``end`` fits as part ``index`` of ``total``."""
        return self._fits(self._render(segment.part(start, end), index, total))

    def _render(self, part: str, index: int, total: int) -> str:
        return numbered(part, index, total) if self._numbering and total > 1 else part


def _cuts(text: str) -> tuple[list[_Cut], set[int]]:
    """Every place ``text`` may be split, in order, ending with the end of the text; and the
    positions beside whitespace that are not grapheme cluster boundaries.

    One pass over the gaps, with the entities and the rare clusters that span whitespace found
    beforehand, so it stays cheap on every keystroke.
    """
    protected = [(span.start, span.end) for span in entities(text)]
    if text.isascii():
        joined: set[int] = set()  # only CR LF is a multi-character cluster; no gap splits it
    else:
        joined = {m.start() for m in _JOINED_AFTER_SPACE.finditer(text)}
        joined.update(m.end() for m in _PREPEND_BEFORE_SPACE.finditer(text))
    found: list[_Cut] = []
    entity = 0
    for match in _GAP.finditer(text):
        end, resume = match.span()
        if joined:
            # Keep a space with the prefix before it or the mark after it.
            while end < resume and end in joined:
                end += 1
            while resume > end and resume in joined:
                resume -= 1
            if end in joined or resume in joined:
                continue
        if end == 0 or resume == len(text):
            continue
        while entity < len(protected) and protected[entity][1] <= end:
            entity += 1
        if entity < len(protected) and protected[entity][0] < resume:
            continue  # the gap touches the inside of a link, mention or hashtag
        gap = match.group()
        if gap.count("\n") >= 2:
            strength = _PARAGRAPH
        elif "\n" in gap or _ends_sentence(text, match.start()):
            strength = _SENTENCE
        else:
            strength = _WORD
        found.append(_Cut(end, resume, strength))
    if not text.isascii():
        for match in _CJK_SENTENCE.finditer(text):
            at = match.end()
            if at not in joined and not _inside(at, protected):
                found.append(_Cut(at, at, _SENTENCE))
        found.sort(key=lambda cut: cut.end)
    found.append(_Cut(len(text), len(text), _PARAGRAPH))
    return found, joined


def _ends_sentence(text: str, end: int) -> bool:
    """Whether ``text[:end]`` ends with sentence-final punctuation (and closing quotes)."""
    index = end - 1
    while index > end - 4 and index > 0 and text[index] in _CLOSERS:
        index -= 1
    return text[index] in _TERMINALS


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``position`` falls strictly inside one of ``spans`` (sorted, disjoint)."""
    low, high = 0, len(spans)
    while low < high:
        middle = (low + high) // 2
        if spans[middle][1] <= position:
            low = middle + 1
        else:
            high = middle
    return low < len(spans) and spans[low][0] < position < spans[low][1]


def _choose_end(
    levels: _Segment, start: int, target: int, fits: Callable[[int], bool]
) -> tuple[_Cut | None, int]:
    """The cut that ends the part starting at ``start`` (None when not even one word fits), and
    where the furthest word boundary that fits lies.

    The strongest boundary wins as long as its part is at least half as long as the longest
    part that fits: the last paragraph break in that upper half if there is one, else the last
    sentence end, else the furthest word boundary. The search starts near ``target`` (where the
    previous part's reach would put this one), so an even text costs a few ``fits`` calls per
    part, each on about one part of text. ``fits`` is assumed monotonic only for speed: every cut
    returned was checked.
    """
    found = _furthest_fitting(levels.ends[_WORD], start, target, fits)
    if found is None:
        return None, start
    best = levels.all[found]
    floor = start + (best.end - start) / 2
    for strength in (_PARAGRAPH, _SENTENCE):
        if best.strength >= strength:
            return best, best.end
        ends = levels.ends[strength]
        index = bisect.bisect_right(ends, best.end) - 1
        if index >= 0 and ends[index] > start and ends[index] >= floor and fits(ends[index]):
            return levels.by_strength[strength][index], best.end
    return best, best.end


def _furthest_fitting(
    ends: list[int], start: int, target: int, fits: Callable[[int], bool]
) -> int | None:
    """Index of the furthest of ``ends`` past ``start`` that fits, searching out from ``target``."""
    first = bisect.bisect_right(ends, start)
    last = len(ends) - 1
    if first > last:
        return None
    hint = min(max(bisect.bisect_right(ends, target) - 1, first), last)
    if fits(ends[hint]):
        good, bad, step = hint, last + 1, 1
        while good < last:
            probe = min(good + step, last)
            if not fits(ends[probe]):
                bad = probe
                break
            good, step = probe, step * 2
    else:
        bad, step = hint, 1
        while True:
            if bad == first:
                return None
            probe = max(bad - step, first)
            if fits(ends[probe]):
                good = probe
                break
            bad, step = probe, step * 2
    while bad - good > 1:
        middle = (good + bad) // 2
        if fits(ends[middle]):
            good = middle
        else:
            bad = middle
    return good


def _hard_cut(
    text: str, start: int, word_end: int, fits: Callable[[int], bool], target: int
) -> int:
    """Where to cut the word ``text[start:word_end]`` that is too long for a part of its own.

    Cuts between grapheme clusters, never inside a link, mention or hashtag that would fit in a
    part alone. Always advances by at least one cluster. Only a window of code points around
    ``target`` (widened while everything in it fits) is segmented and searched, so a huge word
    costs time in proportion to its length, not its square.
    """
    window = max(64, 2 * (target - start))
    while True:
        limit = min(word_end, start + window)
        stops = _cluster_stops(text, start, limit, fits)
        if limit < word_end:
            stops = stops[:-1]  # the window's edge may fall inside a cluster
        if stops:
            found = _furthest_fitting(stops, start, target, fits)
            if found is None:
                return stops[0]  # nothing fits: move on by one cluster (or entity)
            if found < len(stops) - 1 or limit == word_end:
                return stops[found]
        # All of the window fits (or it holds no whole cluster): look further.
        window *= 4


def _cluster_stops(text: str, start: int, limit: int, fits: Callable[[int], bool]) -> list[int]:
    """The grapheme boundaries in ``text[start:limit]`` after ``start`` where a cut may go."""
    piece = text[start:limit]
    spans = [
        (span.start + start, span.end + start)
        for span in entities(piece)
        # One that starts later is kept whole: the cut goes before it, and it is weighed again
        # when it starts the next part.
        if span.start > 0 or fits(span.end + start)
    ]
    stops: list[int] = []
    position = start
    for cluster in _GRAPHEME.findall(piece):
        position += len(cluster)
        if not spans or not _inside(position, spans):
            stops.append(position)
    if not stops or stops[-1] != limit:
        stops.append(limit)
    return stops
