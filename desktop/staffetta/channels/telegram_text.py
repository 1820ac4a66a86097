"""Telegram text: the Markdown subset as plain text plus entities, counted as Telegram does.

We never send ``parse_mode`` strings (a stray ``*`` or ``<`` in user text would make Telegram
refuse the whole message); the text goes out plain, with ``entities`` whose offsets and lengths
are UTF-16 code units, as the Bot API's ``MessageEntity`` requires.

What becomes an entity (CommonMark rules, through markdown-it with only these inline rules on):
``**bold**``/``__bold__`` → ``bold``; ``*italic*``/``_italic_`` → ``italic``;
``[text](https://…)`` → ``text_link``; a bare link (``https://…`` or ``example.org/page``, found
by :func:`staffetta.core.text.find_links`) → ``text_link`` to itself, so a link the preview shows
is a link on Telegram too (Telegram ignores ``url`` entities a bot sends and re-detects links by
its own rules). Backslash escapes work (``\\*not italic\\*``); everything else — lists, ``#``,
``>`` — stays as written. Bare links are shielded from emphasis, so ``https://x.org/_a_/`` stays
whole.

Counting follows TDLib, which serves the Bot API (``td/telegram/MessageEntity.cpp``
``fix_formatted_text`` and the bot check ``utf8_length(text) > message_text_length_max`` in
``MessagesManager.cpp``): ``\\r`` and U+2028–U+202E and the combining marks U+030A, U+0333,
U+033F are removed, other control characters become spaces, spaces and newlines are trimmed at
both ends (leading ones only before the first entity), entities holding only spaces are dropped —
and the limit is then checked in *code points* (``utf8_length`` counts characters, not bytes), so
an emoji outside the BMP counts 1 against 4096 even though it is 2 UTF-16 units in an entity.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import regex

from staffetta.core.text import Span, SpanKind, find_hashtags, find_links, to_utf16_range

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

TEXT_LIMIT = 4096  # sendMessage: 1-4096 characters after entities parsing
CAPTION_LIMIT = 1024  # sendPhoto / first item of sendMediaGroup: 0-1024

_SURROGATE = regex.compile(r"[\ud800-\udfff]")
_CONTROL = regex.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f]")
_REMOVED = regex.compile(r"[\r\u2028-\u202e\u030a\u0333\u033f]")
_SPACE = " \n"  # what TDLib trims and what does not make an entity worth keeping
_LINK_SCHEMES = ("http://", "https://", "tg://")
# Code points standing in for bare links while markdown-it parses (Supplementary Private Use
# Area-A: letters to CommonMark, so emphasis around a link still works).
_PLACEHOLDER = 0xF0000
_PLACEHOLDER_RANGE = regex.compile(r"[\U000f0000-\U0010ffff]")
# What opens one of the subset's inline rules (emphasis, links, escapes): a text without them
# is only text and line breaks to markdown-it.
_SYNTAX = regex.compile(r"[*_\[\\]")


@dataclass(frozen=True, slots=True)
class Entity:
    """A formatting entity over ``[start, end)`` of the plain text, in code points."""

    kind: str  # "bold", "italic" or "text_link"
    start: int
    end: int
    url: str = ""


@dataclass(frozen=True, slots=True)
class TelegramText:
    """What Telegram stores for a text or caption: plain text and its entities."""

    text: str
    entities: tuple[Entity, ...] = ()

    @property
    def length(self) -> int:
        """Telegram's count: characters (code points) of the cleaned, trimmed text."""
        return len(self.text)

    def api_entities(self) -> list[dict[str, Any]]:
        """``MessageEntity`` objects with UTF-16 offsets and lengths, in text order."""
        found = []
        for entity in self.entities:
            start, end = to_utf16_range(self.text, entity.start, entity.end)
            item: dict[str, Any] = {"type": entity.kind, "offset": start, "length": end - start}
            if entity.url:
                item["url"] = entity.url
            found.append(item)
        return found

    def spans(self) -> tuple[Span, ...]:
        """Links (as Telegram will make them) and hashtags, for highlighting in the preview."""
        links = [
            Span(e.start, e.end, SpanKind.LINK, e.url)
            for e in self.entities
            if e.kind == "text_link"
        ]
        tags = [
            tag
            for tag in find_hashtags(self.text)
            if not any(link.start < tag.end and tag.start < link.end for link in links)
        ]
        return tuple(sorted((*links, *tags), key=lambda span: (span.start, span.end)))


def clean(text: str) -> str:
    """Telegram's character rules (TDLib ``fix_formatted_text``), applied before anything else.

    Lone surrogates, which no UTF-8 request can carry, become U+FFFD.
    """
    text = str(_SURROGATE.sub("\ufffd", text))
    return str(_CONTROL.sub(" ", _REMOVED.sub("", text)))


@functools.lru_cache(maxsize=64)
def format_text(markdown: str) -> TelegramText:
    """The post's text as Telegram will hold it. Never raises; cached (previews ask per key)."""
    return _format(markdown)


def _format(markdown: str, plain_path: bool = True) -> TelegramText:
    """:func:`format_text`, uncached; ``plain_path=False`` parses even a text without syntax."""
    source = clean(markdown)
    shielded, links = _shield_links(source)
    builder = _Builder(links)
    if not plain_path or _SYNTAX.search(shielded):
        for token in _parser().parseInline(shielded)[0].children or []:
            builder.feed(token.type, token.content, token.attrs)
    else:
        _feed_plain(builder, shielded)
    return _trim(builder.text(), builder.entities)


def _feed_plain(builder: _Builder, text: str) -> None:
    """What markdown-it's inline parse gives for a text none of the subset's rules can change
    (nothing but text and line breaks), without running it (~40 % of a long post's format).

    Its ``newline`` rule drops the spaces before a line break and the spaces and tabs after it.
    tests/unit/test_telegram_text.py compares the two on generated texts.
    """
    lines = text.split("\n")
    last = len(lines) - 1
    for number, line in enumerate(lines):
        if number:
            builder.feed("softbreak", "", {})
            line = line.lstrip(" \t")
        builder.feed("text", line.rstrip(" ") if number < last else line, {})


def telegram_length(markdown: str) -> int:
    """The count Telegram checks against 4096 (text) or 1024 (caption)."""
    return format_text(markdown).length


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt  # ~25 ms: loaded with the first render

    # Inline rules only: no headings, lists or code, so nothing but the subset changes the text.
    return MarkdownIt("zero").enable(["emphasis", "link", "escape", "newline"])


def _shield_links(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Replace bare links by placeholder code points so emphasis rules cannot cut into them.

    Returns the shielded text and, per placeholder, the link as written and its URL.
    """
    if _PLACEHOLDER_RANGE.search(text):
        return text, []  # the text already uses those code points: leave it as it is
    pieces: list[str] = []
    links: list[tuple[str, str]] = []
    position = 0
    for span in find_links(text):
        if text[: span.start].endswith(("](", "](<")):
            continue  # the destination of [text](…): markdown-it's to read
        pieces += [text[position : span.start], chr(_PLACEHOLDER + len(links))]
        links.append((text[span.start : span.end], span.value))
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces), links


class _Builder:
    """Collects plain text and entities from markdown-it's inline tokens."""

    def __init__(self, links: list[tuple[str, str]]) -> None:
        self._links = links
        self._parts: list[str] = []
        self._length = 0
        self._open: list[tuple[str, int, str]] = []  # kind, start, url
        self.entities: list[Entity] = []

    def text(self) -> str:
        return "".join(self._parts)

    def feed(self, kind: str, content: str, attrs: dict[str, Any]) -> None:
        if kind == "text":
            self._add_text(content)
        elif kind in ("softbreak", "hardbreak"):
            self._append("\n")
        elif kind in ("strong_open", "em_open"):
            self._open.append(("bold" if kind == "strong_open" else "italic", self._length, ""))
        elif kind == "link_open":
            self._open.append(("link", self._length, str(attrs.get("href", ""))))
        elif kind in ("strong_close", "em_close", "link_close") and self._open:
            self._close()

    def _close(self) -> None:
        kind, start, url = self._open.pop()
        if kind == "link":
            if self._length == start:
                self._append(url)  # [](https://…): show the address itself
            if not url.lower().startswith(_LINK_SCHEMES):
                return  # a relative or mailto: link keeps its text, without a link
            kind = "text_link"
        else:
            url = ""
        if self._length > start:
            self.entities.append(Entity(kind, start, self._length, url))

    def _add_text(self, content: str) -> None:
        if not self._links:  # no placeholders (a text using their code points itself has none)
            self._append(content)
            return
        position = 0
        for match in _PLACEHOLDER_RANGE.finditer(content):
            self._append(content[position : match.start()])
            written, url = self._links[ord(match.group()) - _PLACEHOLDER]
            start = self._length
            self._append(written)
            if not any(kind == "link" for kind, _, _ in self._open):  # no link inside a link
                self.entities.append(Entity("text_link", start, self._length, url))
            position = match.end()
        self._append(content[position:])

    def _append(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self._length += len(text)


def _trim(text: str, entities: list[Entity]) -> TelegramText:
    """TDLib's last steps: drop blank entities, trim spaces and newlines at both ends."""
    kept = [e for e in entities if text[e.start : e.end].strip(_SPACE)]
    end = len(text.rstrip(_SPACE))
    kept = [Entity(e.kind, e.start, min(e.end, end), e.url) for e in kept if e.start < end]
    first_entity = min((e.start for e in kept), default=end)
    cut = len(text[:first_entity]) - len(text[:first_entity].lstrip(_SPACE))
    shifted = [Entity(e.kind, e.start - cut, e.end - cut, e.url) for e in kept]
    shifted.sort(key=lambda e: (e.start, -e.end))
    return TelegramText(text[cut:end], tuple(shifted))
