"""A post's text the way a platform shows it, as rich text for a preview card.

Pure string work (no widgets), memoised: on every keystroke every card of the same platform asks
for the same text, so each distinct rendering is built once, and its HTML string is then the key
under which :class:`~staffetta.ui.preview_parts.DocumentCache` lays it out once for all of them.

How platforms show links (what a reader sees, not what is counted):

- Mastodon drops ``http(s)://`` and ``www.`` and shows the first 30 characters, then ``…``
  (its ``TextFormatter``); a mention of a remote account shows as ``@user``.
- Bluesky shows host and path, the path cut to 13 characters followed by ``...`` when it is longer
  than 15 (its ``toShortUrl``).
- Everything else shows the link as written.
"""

from __future__ import annotations

import enum
import functools
import html
import itertools
from urllib.parse import urlsplit

from staffetta.core.text import Span, SpanKind


class LinkStyle(enum.Enum):
    AS_WRITTEN = "as_written"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"


# Channel name -> how its apps display links. Channels not listed show links as written.
LINK_STYLES: dict[str, LinkStyle] = {
    "mastodon": LinkStyle.MASTODON,
    "bluesky": LinkStyle.BLUESKY,
}
# Channels whose apps show ``@user@domain`` as ``@user``.
SHORT_MENTIONS: frozenset[str] = frozenset({"mastodon"})

# Beyond this many characters a card shows the start of the text and a "Show more" button: a long
# text costs layout time on every keystroke, and platforms fold long posts too.
FOLD_CHARS = 600
_FOLD_LOOKBACK = 40  # how far back from FOLD_CHARS to look for a space to fold at

_MASTODON_PREFIXES = ("https://www.", "http://www.", "https://", "http://")
_MASTODON_VISIBLE = 30
_BLUESKY_PATH_MAX = 15
_BLUESKY_PATH_KEPT = 13


def display_url(url: str, style: LinkStyle) -> str:
    """``url`` (as the user wrote it) the way a platform with ``style`` prints it."""
    if style is LinkStyle.MASTODON:
        lowered = url.lower()
        for prefix in _MASTODON_PREFIXES:
            if lowered.startswith(prefix):
                url = url[len(prefix) :]
                break
        if len(url) > _MASTODON_VISIBLE:
            return url[:_MASTODON_VISIBLE] + "…"
        return url
    if style is LinkStyle.BLUESKY:
        written = url if "://" in url else "https://" + url
        try:
            parts = urlsplit(written)
        except ValueError:
            return url
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return url
        path = "" if parts.path == "/" else parts.path
        if parts.query:
            path += "?" + parts.query
        if parts.fragment:
            path += "#" + parts.fragment
        if len(path) > _BLUESKY_PATH_MAX:
            return parts.netloc + path[:_BLUESKY_PATH_KEPT] + "..."
        return parts.netloc + path
    return url


def link_host(url: str) -> str:
    """The host a link card names (``example.org``), or the URL itself when it has none."""
    written = url if "://" in url else "https://" + url
    try:
        host = urlsplit(written).hostname or ""
    except ValueError:
        host = ""
    host = host.removeprefix("www.")
    return host or url


def _fold_point(text: str, spans: tuple[Span, ...], limit: int) -> int:
    """Where to fold ``text`` so no entity is cut: at a space shortly before ``limit`` if any."""
    cut = limit
    for span in spans:
        if span.start < cut < span.end:
            cut = span.start
            break
        if span.start >= cut:
            break
    space = text.rfind(" ", max(0, cut - _FOLD_LOOKBACK), cut)
    if space > 0:
        cut = space
    # Never between a character and the combining marks or joiners that follow it.
    while 0 < cut < len(text) and _joins_previous(text[cut]):
        cut -= 1
    return cut


def _joins_previous(char: str) -> bool:
    code = ord(char)
    return (
        0x0300 <= code <= 0x036F  # combining diacritics
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or code in (0x200D, 0x20E3)  # zero width joiner, keycap
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xDC00 <= code <= 0xDFFF  # a lone low surrogate
        or 0xE0020 <= code <= 0xE007F  # tag characters (flag sequences)
    )


def social_html(
    text: str,
    spans: tuple[Span, ...],
    channel: str,
    accent: str,
    fold: bool,
) -> tuple[str, bool]:
    """The part's text as the platform shows it, as HTML, and whether it was folded.

    Entities (``spans``, from the channel's preview) are drawn in ``accent`` (a ``#rrggbb``
    colour); links are shortened the platform's way. Line breaks and runs of spaces are kept, as
    platforms keep them. With ``fold`` a text longer than :data:`FOLD_CHARS` stops after about
    that many characters with ``…``.
    """
    style = LINK_STYLES.get(channel, LinkStyle.AS_WRITTEN)
    short_mentions = channel in SHORT_MENTIONS
    if fold and len(text) > FOLD_CHARS:
        # Only the start shows: typing further down must not build (or even look up) the HTML
        # by the whole text and every entity in it, so the cache sees just what is shown.
        end = _fold_point(text, spans, FOLD_CHARS)
        shown = tuple(itertools.takewhile(lambda span: span.start < end, spans))
        return _social_html(text[:end], shown, style, short_mentions, accent, True), True
    return _social_html(text, spans, style, short_mentions, accent, False), False


# The colour of the documents that only measure a social text: every channel showing the same
# text the same way shares one (colours do not change how text is laid out).
LAYOUT_ACCENT = "#000000"


@functools.lru_cache(maxsize=64)
def _social_html(
    text: str,
    spans: tuple[Span, ...],
    style: LinkStyle,
    short_mentions: bool,
    accent: str,
    folded: bool,
) -> str:
    """``text`` (all of it shown; ``folded``: followed by ``…``) as :func:`social_html` says."""
    end = len(text)
    pieces = ['<div style="white-space: pre-wrap">']
    position = 0
    open_tag = f'<span style="color:{accent}">'
    for span in spans:
        if span.start < position or span.end > end:
            if span.start >= end:
                break
            continue  # overlapping or cut by the fold: shown as plain text
        pieces.append(html.escape(text[position : span.start], quote=False))
        shown = text[span.start : span.end]
        if span.kind is SpanKind.LINK:
            shown = display_url(shown, style)
        elif span.kind is SpanKind.MENTION and short_mentions:
            shown = "@" + span.value.split("@", 1)[0]
        pieces += [open_tag, html.escape(shown, quote=False), "</span>"]
        position = span.end
    pieces.append(html.escape(text[position:end], quote=False))
    if folded:
        pieces.append("…")
    pieces.append("</div>")
    return "".join(pieces)


_BLOCK_SLACK = 300  # how many more characters of text a block may hold and still be kept whole


@functools.lru_cache(maxsize=16)
def fold_html(body: str, limit: int = FOLD_CHARS) -> tuple[str, bool]:
    """The start of an HTML body holding about ``limit`` characters of text (what is outside its
    tags: a link's address in ``href`` takes no room on screen), and whether anything was cut.

    Cuts after a whole block (``markdown-it`` ends every block with ``>`` and a line break) when
    one ends soon after ``limit``, else at a space outside any tag; unclosed tags are fine, Qt's
    HTML reader closes them.
    """
    start = _after_text(body, limit)
    if _after_text(body, _BLOCK_SLACK, start) >= len(body):
        return body, False
    block = body.find(">\n", start, _after_text(body, _BLOCK_SLACK, start))
    if block != -1:
        return body[: block + 2] + "<p>…</p>", True
    position = start
    while True:
        position = body.find(" ", position + 1)
        if position == -1:
            return body, False
        if body.rfind("<", 0, position) <= body.rfind(">", 0, position):
            return body[:position] + " …", True


def _after_text(body: str, count: int, start: int = 0) -> int:
    """The index in ``body`` after ``count`` more characters outside tags from ``start`` (the
    length of ``body`` when it has fewer)."""
    position = start
    size = len(body)
    while position < size:
        tag = body.find("<", position)
        if tag == -1:
            tag = size
        if tag - position >= count:
            return position + count
        count -= tag - position
        end = body.find(">", tag)
        if end == -1:
            return size
        position = end + 1
    return size


def reader_css(link: str, muted: str) -> str:
    """A readable stylesheet for owned channels' HTML bodies (blog posts, newsletters)."""
    return (
        "p, ul, ol, blockquote, pre { margin-top: 0; margin-bottom: 10px; }"
        "p, li { line-height: 135%; }"
        f"a {{ color: {link}; text-decoration: underline; }}"
        "h1 { font-size: x-large; } h2 { font-size: large; } h3 { font-size: medium; }"
        "h1, h2, h3 { font-weight: 600; margin-top: 6px; margin-bottom: 6px; }"
        f"blockquote {{ margin-left: 12px; color: {muted}; font-style: italic; }}"
        "code, pre { font-family: monospace; }"
        "img { max-width: 100%; }"
    )
