"""Text engine: the counting rules each channel composes into its own limit check.

Everything here is pure and never raises on any ``str``: lone surrogates, control characters, NUL,
every Unicode plane and very long texts all produce an answer. Offsets in :class:`Span` are Python
``str`` indices (code points); :func:`to_utf8_range` and :func:`to_utf16_range` convert them for
platforms that count bytes (Bluesky facets) or UTF-16 code units (Telegram entities).

Building blocks:

- grapheme clusters come from the ``regex`` module's ``\\X`` (Unicode extended grapheme clusters,
  the same unit Mastodon's Ruby ``each_grapheme_cluster`` and Bluesky's ``maxGraphemes`` use);
- links come from ``linkify-it-py`` configured with the full IANA TLD list, http(s) schemes only,
  no e-mail detection (so ``a@b.com`` and ``@user@domain`` never become links);
- mentions and hashtags are small ``regex`` patterns modelled on Mastodon's, documented on
  :func:`find_mentions` and :func:`find_hashtags`.

The results callers ask for on every keystroke (:func:`entities`, :func:`mastodon_length`,
:func:`weighted_length`) are memoised with small LRU caches.
"""

from __future__ import annotations

import bisect
import enum
import functools
import sys
import unicodedata
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from staffetta.core.lazy import lazy_regex

if TYPE_CHECKING:
    from linkify_it import LinkifyIt


class SpanKind(enum.StrEnum):
    LINK = "link"
    MENTION = "mention"
    HASHTAG = "hashtag"


class Span(NamedTuple):
    """An entity in a text, as [start, end) offsets in Python ``str`` indices (code points)."""

    start: int
    end: int
    kind: SpanKind
    value: str  # the URL (with scheme added if it had none), the mention, or the tag without '#'


__all__ = [
    "Span",
    "SpanKind",
    "cluster_runs",
    "entities",
    "find_hashtags",
    "find_links",
    "find_mentions",
    "grapheme_count",
    "graphemes",
    "mastodon_length",
    "to_utf8_range",
    "to_utf16_range",
    "utf8_length",
    "utf16_length",
    "weighted_length",
]

_CACHE_SIZE = 64

# --------------------------------------------------------------------------------------------
# Lengths


_GRAPHEME = lazy_regex(r"\X")


def graphemes(text: str) -> list[str]:
    """The user-perceived characters of ``text`` (Unicode extended grapheme clusters)."""
    return list(_GRAPHEME.findall(text))


def grapheme_count(text: str) -> int:
    """How many user-perceived characters ``text`` has (👨‍👩‍👧‍👦 is one, so is ``e`` + U+0301)."""
    if text.isascii():
        # In ASCII only CR LF forms a multi-code-point cluster.
        return len(text) - text.count("\r\n")
    if len(text) > _CACHED_COUNT_MIN:
        # A line feed is always a cluster of its own, or the end of CR LF (UAX #29 GB3-GB5), so a
        # long text is counted line by line and each line is remembered: previews count the
        # whole post on every keystroke, and a keystroke changes one line.
        lines = text.split("\n")
        return sum(map(_line_grapheme_count, lines)) + len(lines) - 1 - text.count("\r\n")
    return len(_GRAPHEME.findall(text))


# Shorter texts (thread parts the splitter tries, say) are cheaper to count again than to cache.
_CACHED_COUNT_MIN = 1000


@functools.lru_cache(maxsize=1024)
def _line_grapheme_count(line: str) -> int:
    if line.isascii():
        return len(line)  # no LF in a line, so no CR LF either
    return sum(
        len(run) if single else len(_GRAPHEME.findall(run)) for run, single in cluster_runs(line)
    )


# Code points that can share a grapheme cluster with a neighbour: every Grapheme_Cluster_Break
# value but Other (Extend, ZWJ, SpacingMark, Prepend, Regional_Indicator, the Hangul jamo and
# syllables, CR, LF, Control). No rule of UAX #29 joins two code points that are both Other
# (GB9c needs a virama between its consonants, GB11 a ZWJ between its pictographs), so between
# two of them there is always a cluster boundary.
_MAY_JOIN = lazy_regex(r"[^\p{Grapheme_Cluster_Break=Other}]+")


def cluster_runs(text: str) -> Iterator[tuple[str, bool]]:
    """``text`` cut into consecutive runs, each with whether every code point of the run is a
    grapheme cluster of its own (``True``), or not known to be (``False``: cut it with ``\\X``).

    Each run of code points that may join a neighbour is taken with the code point either side
    of it, so a run flagged ``False`` holds whole clusters and starts and ends at boundaries:
    ``\\X`` finds in it the clusters it has in ``text``. Finding those runs is ~20 times cheaper
    than cutting a line of ordinary text (a few emoji, accents) into clusters.
    """
    size = len(text)
    position = 0
    start = end = -1  # the run being gathered
    for match in _MAY_JOIN.finditer(text):
        first, last = max(match.start() - 1, 0), min(match.end() + 1, size)
        if first < end:  # one code point between this run and the last: the same cluster(s)
            end = last
            continue
        if start >= 0:
            if position < start:
                yield text[position:start], True
            yield text[start:end], False
            position = end
        start, end = first, last
    if start >= 0:
        if position < start:
            yield text[position:start], True
        yield text[start:end], False
        position = end
    if position < size:
        yield text[position:], True


def utf8_length(text: str) -> int:
    """Bytes of ``text`` in UTF-8. A lone surrogate counts 3 bytes, like the U+FFFD it becomes."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def utf16_length(text: str) -> int:
    """UTF-16 code units of ``text``: 2 for each astral-plane character, 1 for everything else."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _clamp_range(text: str, start: int, end: int) -> tuple[int, int]:
    n = len(text)
    start = min(max(start, 0), n)
    end = min(max(end, start), n)
    return start, end


def to_utf8_range(text: str, start: int, end: int) -> tuple[int, int]:
    """Convert the code-point range [start, end) of ``text`` to UTF-8 byte offsets.

    Out-of-range offsets are clamped to the text (and ``end`` to at least ``start``) rather than
    raising, so a stale span from an earlier keystroke cannot crash a preview.
    """
    start, end = _clamp_range(text, start, end)
    byte_start = utf8_length(text[:start])
    return byte_start, byte_start + utf8_length(text[start:end])


def to_utf16_range(text: str, start: int, end: int) -> tuple[int, int]:
    """Convert the code-point range [start, end) of ``text`` to UTF-16 code-unit offsets.

    Clamps out-of-range offsets like :func:`to_utf8_range`.
    """
    start, end = _clamp_range(text, start, end)
    unit_start = utf16_length(text[:start])
    return unit_start, unit_start + utf16_length(text[start:end])


# --------------------------------------------------------------------------------------------
# Links


# Internationalised country TLDs in the form people type them; linkify's IANA list only has
# ASCII names. Links under any other IDN TLD are found when written with a scheme.
_IDN_TLDS = (
    "рф", "укр", "срб", "бел", "қаз", "мкд", "мон", "бг", "ελ", "中国", "中國", "香港", "台湾",
    "台灣", "新加坡", "한국", "ไทย", "भारत", "இந்தியா", "امارات", "السعودية", "مصر", "ایران",
    "გე", "հայ",
)  # fmt: skip


@functools.cache
def _tld_set() -> frozenset[str]:
    from linkify_it.tlds import TLDS

    return frozenset(tld.lower() for tld in (*TLDS, *_IDN_TLDS))


@functools.cache
def _linkifier() -> LinkifyIt:
    """Built at the first text with a possible link (its patterns take a few milliseconds)."""
    from linkify_it import LinkifyIt

    linkifier = LinkifyIt(options={"fuzzy_link": True, "fuzzy_email": False, "fuzzy_ip": False})
    # Every IANA TLD, not just linkify's short default list, so ``example.social`` is a link.
    linkifier.tlds(sorted(_tld_set()), False)
    # Only web links count anywhere we post: no ftp:, mailto: or protocol-relative //host.
    linkifier.add("ftp:", None).add("mailto:", None).add("//", None)
    return linkifier


# Punctuation that ends a sentence rather than a URL when it is the URL's last character. linkify
# already drops ASCII sentence punctuation; this adds the rest of Unicode (Arabic ؟ and ،,
# ideographic 。and 、, closing quotes …) while keeping characters that legitimately end URLs.
_TRAILING_PUNCT = lazy_regex(r"(?:(?![/#%&*@\\])[\p{Po}\p{Pi}\p{Pf}])+\Z")
_HAS_SCHEME = lazy_regex(r"[a-z][a-z0-9+.-]*://", "IGNORECASE")
_HTTP_SCHEME = lazy_regex(r"https?://", "IGNORECASE")


# Whitespace-separated runs that could hold a link (a link never contains whitespace, and every
# whitespace character is a link boundary for linkify): only these are handed to linkify, which
# keeps long prose cheap. The lookbehind anchors each run at its start, so the scan is linear.
_LINK_CANDIDATE = lazy_regex(r"(?<!\S)\S*?[.:]\S*")
# Without a scheme, linkify needs a host ending in a known TLD: a run none of whose dot-separated
# labels is a TLD cannot hold a link, and skipping it keeps dotted junk (``a.a.a…``) cheap.
# (Checking every hyphen-separated part too only ever keeps more runs, which is safe.)
_DOT_LABEL = lazy_regex(r"\.([\p{L}\p{N}\p{M}-]+)")


def _may_hold_link(run: str) -> bool:
    if "://" in run:
        return True
    for label in _DOT_LABEL.findall(run.lower()):
        if label.startswith("xn--") or label in _tld_set():
            return True  # linkify accepts any punycode TLD
        if "-" in label and any(part in _tld_set() for part in label.split("-")):
            return True
    return False


def _linkify(text: str) -> list[tuple[int, int]]:
    """(start, end) of linkify's matches, found in the candidate runs only."""
    if len(text) <= _CACHED_COUNT_MIN:
        return list(_scan_links(text))
    # Finding the candidate runs of a whole post costs more than linkifying them: a long text is
    # scanned line by line (a line feed is whitespace, so no run crosses one) and each line's
    # answer is remembered, since a keystroke changes one line.
    found: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        if offset:
            found.extend((offset + start, offset + end) for start, end in _line_links(line))
        else:
            found.extend(_line_links(line))
        offset += len(line) + 1
    return found


def _scan_links(text: str) -> tuple[tuple[int, int], ...]:
    found: list[tuple[int, int]] = []
    for match in _LINK_CANDIDATE.finditer(text):
        run = match.group()
        if _may_hold_link(run):
            offset = match.start()
            found.extend((offset + start, offset + end) for start, end in _run_links(run))
    return tuple(found)


_line_links = functools.lru_cache(maxsize=1024)(_scan_links)


# A link never contains whitespace and whitespace always ends one, so each run is linkified on its
# own and remembered: a keystroke changes one run, and a post's other links are not searched
# again (linkify-it is most of the cost of finding entities in a long post).
@functools.lru_cache(maxsize=4096)
def _run_links(run: str) -> tuple[tuple[int, int], ...]:
    try:
        matches = _linkifier().match(run) or []
    except Exception:  # pragma: no cover - third-party code must never break a preview
        return ()
    return tuple((int(match.index), int(match.last_index)) for match in matches)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _all_links(text: str) -> tuple[tuple[Span, bool], ...]:
    """Every link in ``text`` with a flag telling whether it was written with http(s)://."""
    found: list[tuple[Span, bool]] = []
    for start, end in _linkify(text):
        form = _link_form(text[start:end])
        if form is not None:
            length, value, with_scheme = form
            found.append((Span(start, start + length, SpanKind.LINK, value), with_scheme))
    return tuple(found)


@functools.lru_cache(maxsize=4096)
def _link_form(raw: str) -> tuple[int, str, bool] | None:
    """A match of linkify as a link: its length without trailing sentence punctuation, its URL
    and whether it was written with http(s)://; None when nothing is left (after the scheme).
    Remembered: a post's links are the same on every keystroke."""
    raw = _TRAILING_PUNCT.sub("", raw)
    scheme = _HTTP_SCHEME.match(raw)
    if len(raw) <= (scheme.end() if scheme else 0):
        return None
    value = raw if _HAS_SCHEME.match(raw) else "https://" + raw
    return len(raw), value, scheme is not None


def find_links(text: str, *, require_scheme: bool = False) -> tuple[Span, ...]:
    """Web links in ``text``, in order, as written.

    ``value`` is the URL with ``https://`` added when the user left the scheme out (as Bluesky's
    own composer does). Internationalised domains (``bücher.de``, ``例え.jp``) are recognised;
    a link without a scheme must end in a real TLD. Trailing sentence punctuation and unbalanced
    closing brackets are not part of the link, balanced ones are (``…/Foo_(bar)``).

    With ``require_scheme=True`` only links written with ``http://`` or ``https://`` count: the
    ones Mastodon shortens to 23 characters.
    """
    links = _all_links(text)
    if require_scheme:
        return tuple(span for span, with_scheme in links if with_scheme)
    return tuple(span for span, _ in links)


# --------------------------------------------------------------------------------------------
# Mentions and hashtags

# ``@user`` or ``@user@domain`` (Mastodon's Account::MENTION_RE, which also fits Bluesky handles
# like ``@alice.bsky.social``): the user part is ASCII letters, digits and ``_`` with ``.`` or
# ``-`` only between them; the optional domain is word characters joined by ``.`` or ``-``.
# Not a mention when preceded by a word character, ``=`` or ``/`` (e-mail addresses, URL paths
# and query strings), nor when followed by another ``@``, a word character or ``://``.
_MENTION = lazy_regex(
    r"(?<![=/\w])@"
    r"(?P<user>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)"
    r"(?:@(?P<domain>\w+(?:[.-]+\w+)*))?"
    r"(?![@\w]|://)",
    "IGNORECASE",
)

# ``#tag``: letters, combining marks, decimal digits and connector punctuation (``_``), with the
# separators Mastodon accepts inside a tag (middle dot U+00B7, katakana middle dot U+30FB, zero
# width non-joiner U+200C for Persian and Indic scripts) allowed only between them. The tag must
# contain at least one alphabetic character (``#2024`` is not a tag) and the ``#`` must not follow
# a word character, ``=``, ``/`` or ``)`` (``C#``, URL fragments, ``&#39;``).
_TAG_CHAR = r"[\p{L}\p{M}\p{Nd}\p{Pc}]"
_HASHTAG = lazy_regex(
    r"(?<![=/)&\w])[#\uff03]"
    rf"(?P<tag>{_TAG_CHAR}(?:[\p{{L}}\p{{M}}\p{{Nd}}\p{{Pc}}\u00b7\u30fb\u200c]*{_TAG_CHAR})?)"
)
_ALPHABETIC = lazy_regex(r"\p{Alphabetic}")


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    """Whether [start, end) overlaps any interval of ``taken`` (sorted, non-overlapping)."""
    i = bisect.bisect_right(taken, (start, sys.maxsize))  # first interval starting after start
    if i > 0 and taken[i - 1][1] > start:
        return True
    return i < len(taken) and taken[i][0] < end


def _link_intervals(text: str) -> list[tuple[int, int]]:
    return [(span.start, span.end) for span, _ in _all_links(text)]


def find_mentions(text: str) -> tuple[Span, ...]:
    """``@user`` and ``@user@domain`` mentions, in order; ``value`` is ``user`` or ``user@domain``.

    E-mail addresses (``a@b.com``) and anything inside a link are not mentions.
    """
    return _mentions(text)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _mentions(text: str) -> tuple[Span, ...]:
    if "@" not in text:
        return ()
    links = _link_intervals(text)
    return tuple(
        Span(start, end, SpanKind.MENTION, value)
        for start, end, value in _by_line(_scan_mentions, text)
        if not (links and _overlaps(start, end, links))
    )


def _scan_mentions(text: str) -> tuple[tuple[int, int, str], ...]:
    found: list[tuple[int, int, str]] = []
    for match in _MENTION.finditer(text):
        value = match.group("user")
        if match.group("domain"):
            value += "@" + match.group("domain")
        found.append((match.start(), match.end(), value))
    return tuple(found)


_Found = tuple[tuple[int, int, str], ...]


def _by_line(scan: Callable[[str], _Found], text: str) -> Iterator[tuple[int, int, str]]:
    """``scan(text)``, for a long text line by line, each line's answer remembered (a keystroke
    changes one line). Only for patterns that never match a line feed and whose lookarounds
    treat one as they treat the start or end of the text: then each line gives the matches the
    whole text has there."""
    if len(text) <= _CACHED_COUNT_MIN:
        yield from scan(text)
        return
    offset = 0
    for line in text.split("\n"):
        if line:
            for start, end, value in _line_scan(scan, line):
                yield offset + start, offset + end, value
        offset += len(line) + 1


@functools.lru_cache(maxsize=2048)
def _line_scan(scan: Callable[[str], _Found], line: str) -> _Found:
    return scan(line)


def find_hashtags(text: str) -> tuple[Span, ...]:
    """``#tag`` hashtags, in order; ``value`` is the tag without ``#`` (see ``_HASHTAG`` rules).

    Purely numeric tags and anything inside a link are not hashtags.
    """
    return _hashtags(text)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _hashtags(text: str) -> tuple[Span, ...]:
    if "#" not in text and "\uff03" not in text:
        return ()
    links = _link_intervals(text)
    return tuple(
        Span(start, end, SpanKind.HASHTAG, tag)
        for start, end, tag in _by_line(_scan_hashtags, text)
        if not (links and _overlaps(start, end, links))
    )


def _scan_hashtags(text: str) -> tuple[tuple[int, int, str], ...]:
    found: list[tuple[int, int, str]] = []
    for match in _HASHTAG.finditer(text):
        tag = match.group("tag")
        if _ALPHABETIC.search(tag):
            found.append((match.start(), match.end(), tag))
    return tuple(found)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def entities(text: str, *, require_scheme: bool = False) -> tuple[Span, ...]:
    """Links, mentions and hashtags of ``text``, sorted by position, never overlapping.

    Links win over anything they contain. ``require_scheme`` is passed to :func:`find_links`.
    Cached: every preview card asks for the same text on each keystroke.
    """
    links = find_links(text, require_scheme=require_scheme)
    # Mentions and hashtags already skip every link, and neither can start inside the other, so
    # this pass only guards the invariant: sorted by start (links first on a tie), no overlaps.
    ordered = sorted((*links, *_mentions(text), *_hashtags(text)), key=_entity_order)
    result: list[Span] = []
    last_end = 0
    for span in ordered:
        if span.start >= last_end:
            result.append(span)
            last_end = span.end
    return tuple(result)


_KIND_PRIORITY = {SpanKind.LINK: 0, SpanKind.MENTION: 1, SpanKind.HASHTAG: 2}


def _entity_order(span: Span) -> tuple[int, int]:
    return span.start, _KIND_PRIORITY[span.kind]


# --------------------------------------------------------------------------------------------
# Platform lengths

_BLANK = lazy_regex(r"\p{White_Space}*")


@functools.lru_cache(maxsize=_CACHE_SIZE)
def mastodon_length(text: str, spoiler: str = "", url_weight: int = 23) -> int:
    """The length Mastodon's ``StatusLengthValidator`` checks against ``max_characters``.

    Grapheme clusters of ``spoiler + text`` after rewriting ``text``: every link written with
    ``http(s)://`` becomes ``url_weight`` characters (the instance's
    ``characters_reserved_per_url``), every ``@user@domain`` becomes ``@user``. A text that is only
    whitespace counts as empty (Ruby's ``blank?``), as on the server.
    """
    countable = ""
    if not _BLANK.fullmatch(text):
        parts: list[str] = []
        position = 0
        placeholder = "x" * max(url_weight, 0)
        for span in entities(text, require_scheme=True):
            if span.kind is SpanKind.HASHTAG:
                continue
            parts.append(text[position : span.start])
            if span.kind is SpanKind.LINK:
                parts.append(placeholder)
            else:
                parts.append("@" + span.value.split("@", 1)[0])
            position = span.end
        parts.append(text[position:])
        countable = "".join(parts)
    return grapheme_count(spoiler + countable)


# Code points twitter-text v3 weighs 1 (scale 100, weight 100); everything else weighs 2.
_HEAVY = lazy_regex(r"[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")
# A character that makes its grapheme cluster an emoji. © and ® are Extended_Pictographic but
# text-presentation: on their own they are ordinary (weight 1) characters, with U+FE0F emoji.
_EMOJI_CHAR = lazy_regex(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_TEXT_PICTOGRAPHS = frozenset("\u00a9\u00ae")
_X_URL_WEIGHT = 23


def _is_emoji_cluster(cluster: str) -> bool:
    for char in _EMOJI_CHAR.findall(cluster):
        if char not in _TEXT_PICTOGRAPHS or "\ufe0f" in cluster:
            return True
    return False


# One emoji as twitter-text's emoji list spells them: a keycap, a flag, a tag sequence, or
# pictographs with their variation selector and skin tone joined by ZWJ. What else a grapheme
# cluster carries after it (a dangling ZWJ, a combining mark) is weighed as ordinary characters.
_EMOJI_SEQUENCE = lazy_regex(
    r"[0-9#*]\ufe0f?\u20e3"
    r"|\p{Regional_Indicator}{2}"
    r"|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"
    r"|(?:\p{Extended_Pictographic}|\p{Emoji_Presentation})\ufe0f?\p{Emoji_Modifier}?"
    r"(?:\u200d(?:\p{Extended_Pictographic}|\p{Emoji_Presentation})\ufe0f?\p{Emoji_Modifier}?)*"
)


def _plain_weight(text: str) -> int:
    return len(text) + len(_HEAVY.findall(text))


def _x_weight(segment: str) -> int:
    if segment.isascii():
        return len(segment)
    weight = _plain_weight(segment)
    if _EMOJI_CHAR.search(segment):
        for cluster in _GRAPHEME.findall(segment):
            if _is_emoji_cluster(cluster):
                sequence = _EMOJI_SEQUENCE.match(cluster)
                if sequence:  # (a stray keycap mark or selector is no emoji: weighed as it is)
                    # The emoji weighs 2 instead of the sum of its code points.
                    weight += 2 - _plain_weight(sequence.group())
    return weight


@functools.lru_cache(maxsize=_CACHE_SIZE)
def weighted_length(text: str) -> int:
    """The length X checks against 280 (twitter-text v3 configuration).

    The text is NFC-normalised; code points in 0–4351, 8192–8205, 8208–8223 and 8242–8247 weigh
    1, all others 2; an emoji (ZWJ sequences, flags, skin tones, keycaps, tag sequences) weighs 2
    in total; every link X finds (:func:`staffetta.core.twitter_text.url_spans`: twitter-text's
    rules, with or without scheme) weighs 23 (t.co). Checked against the official twitter-text
    3.1.0 package; it differs only where that package's emoji list (Emoji 12) is older than the
    emoji: 🧑‍💻 (Emoji 12.1) weighs 2 here and 5 there, as would a ZWJ pair that is not a
    standard emoji (🐶‍🐱: 2 here, 5 there, shown by most systems as two pictures).
    """
    # Imported at the first X count: building twitter-text's patterns takes ~0.15 s and 7 MB,
    # which a start without an X account (or before its first preview) need not pay.
    from staffetta.core.twitter_text import url_spans

    normalized = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end in url_spans(normalized):  # X's own notion of a link, not find_links'
        total += _x_weight(normalized[position:start]) + _X_URL_WEIGHT
        position = end
    return total + _x_weight(normalized[position:])
