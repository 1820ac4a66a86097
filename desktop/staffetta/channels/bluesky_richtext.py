"""Bluesky rich text: facets with UTF-8 byte offsets, and the link card's page metadata.

Bluesky shows no link, mention or hashtag the client does not describe: each is a facet whose
``index`` is a [byteStart, byteEnd) range of the text's UTF-8 bytes. Entities are found with the
same rules as everywhere else in Staffetta (:func:`staffetta.core.text.entities`), so the preview
highlights exactly what becomes a facet. A mention becomes a facet only when its handle resolves
to a DID at publish time (as in Bluesky's own app); a ``@user@server`` fediverse address is text.

As in Bluesky's own app, a link is posted shortened (``example.org/a-long-pa...``) with its facet
pointing at the full URL, and the post is counted that way.

The link card (``app.bsky.embed.external``) is built by the client from the page's own metadata:
Open Graph ``og:title``/``og:description``/``og:image``, falling back to ``<title>`` and
``<meta name="description">``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from staffetta.channels import bluesky_api as api
from staffetta.core.lazy import lazy_module
from staffetta.core.text import (
    Span,
    SpanKind,
    entities,
    grapheme_count,
    graphemes,
    to_utf8_range,
    utf8_length,
)

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

FACET = "app.bsky.richtext.facet"
PAGE_LIMIT = 512 * 1024  # bytes of a page read for its metadata (the <head> comes first)
IMAGE_LIMIT = 15 * 1024 * 1024  # bytes of a card image downloaded before it is re-encoded
CARD_TIMEOUT = 10.0
CARD_TITLE_GRAPHEMES = 300
CARD_DESCRIPTION_GRAPHEMES = 1000


def mention_handle(span: Span) -> str | None:
    """The handle a mention span names, if it can be a Bluesky handle (a domain name)."""
    if span.kind is not SpanKind.MENTION or "@" in span.value or "." not in span.value:
        return None
    return span.value.lower()


def facet_spans(text: str) -> tuple[Span, ...]:
    """The entities that can become facets: links, hashtags and handle-shaped mentions."""
    return tuple(
        span
        for span in entities(text)
        if span.kind is not SpanKind.MENTION or mention_handle(span) is not None
    )


def mention_handles(text: str) -> list[str]:
    """Handles mentioned in ``text``, each once, in order."""
    found = (mention_handle(span) for span in facet_spans(text))
    return list(dict.fromkeys(h for h in found if h))


def _tag_fits(tag: str) -> bool:
    return utf8_length(tag) <= api.MAX_TAG_BYTES and grapheme_count(tag) <= api.MAX_TAG_GRAPHEMES


@functools.lru_cache(maxsize=1024)  # previews shorten every link of the post on each keystroke
def short_url(written: str) -> str:
    """A link as Bluesky's app writes it into a post: host and path, the path cut to 13
    characters and ``...`` when longer than 15 (its ``toShortUrl``); the facet keeps the full URL.

    The desktop preview (``ui.preview_text.display_url`` with the Bluesky style) shows links by the
    same rule, so what the preview shows is what gets posted, and counted.
    """
    url = written if "://" in written else "https://" + written
    try:
        parts = urlsplit(url)
    except ValueError:
        return written
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return written
    path = "" if parts.path == "/" else parts.path
    if parts.query:
        path += "?" + parts.query
    if parts.fragment:
        path += "#" + parts.fragment
    if len(path) > 15:
        return parts.netloc + path[:13] + "..."
    return parts.netloc + path


@functools.lru_cache(maxsize=64)
def posted_text(text: str) -> str:
    """The text as it is posted (and counted): every link shortened by :func:`short_url`."""
    return _shortened(text)[0]


def _shortened(text: str) -> tuple[str, list[tuple[int, int, Span]]]:
    """The posted text and each facet span's [start, end) in it (code points)."""
    pieces: list[str] = []
    placed: list[tuple[int, int, Span]] = []
    position = length = 0
    for span in facet_spans(text):
        pieces.append(text[position : span.start])
        length += span.start - position
        shown = short_url(text[span.start : span.end]) if span.kind is SpanKind.LINK else None
        shown = shown if shown is not None else text[span.start : span.end]
        pieces.append(shown)
        placed.append((length, length + len(shown), span))
        length += len(shown)
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces), placed


def build_facets(text: str, dids: Mapping[str, str]) -> tuple[str, list[dict[str, Any]]]:
    """The text to post and its facets; ``dids`` maps each resolved mention handle to its DID.

    Links are shortened in the posted text (:func:`short_url`), their facets keeping the URL;
    byte offsets are those of the posted text.
    """
    posted, placed = _shortened(text)
    facets: list[dict[str, Any]] = []
    for start, end, span in placed:
        feature: dict[str, Any]
        if span.kind is SpanKind.LINK:
            feature = {"$type": f"{FACET}#link", "uri": span.value}
        elif span.kind is SpanKind.HASHTAG:
            if not _tag_fits(span.value):
                continue
            feature = {"$type": f"{FACET}#tag", "tag": span.value}
        else:
            did = dids.get(mention_handle(span) or "")
            if not did:
                continue
            feature = {"$type": f"{FACET}#mention", "did": did}
        byte_start, byte_end = to_utf8_range(posted, start, end)
        facets.append(
            {"index": {"byteStart": byte_start, "byteEnd": byte_end}, "features": [feature]}
        )
    return posted, facets


def record_tags(tags: tuple[str, ...], text: str) -> list[str]:
    """The post's tags as the record's ``tags`` (hidden hashtags): without ``#``, not already in
    the text, within the lexicon's limits (8 tags of ≤ 64 graphemes / 640 bytes)."""
    inline = {span.value.casefold() for span in entities(text) if span.kind is SpanKind.HASHTAG}
    found: list[str] = []
    for raw in tags:
        tag = raw.strip().lstrip("#＃").strip()
        if tag and tag.casefold() not in inline and _tag_fits(tag) and tag not in found:
            found.append(tag)
    return found[: api.MAX_TAGS]


def card_link(text: str, post_link: str) -> str:
    """The link the card is for: the post's own link, else the first link in the text."""
    if post_link.strip():
        spans = [s for s in entities(post_link.strip()) if s.kind is SpanKind.LINK]
        return spans[0].value if spans else post_link.strip()
    for span in entities(text):
        if span.kind is SpanKind.LINK:
            return span.value
    return ""


# --- page metadata ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str = ""
    description: str = ""
    image: str = ""  # absolute URL


class _HeadParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = {k.lower(): (v or "") for k, v in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values and key not in self.meta:
                self.meta[key] = values["content"].strip()
        elif tag == "title":
            self._in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.title:
            self.title = data.strip()


def parse_page_meta(html: str, page_url: str) -> PageMeta:
    """Title, description and image of an HTML page, Open Graph first."""
    parser = _HeadParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: S110 - a broken page just has less metadata
        pass
    meta = parser.meta
    title = meta.get("og:title") or meta.get("twitter:title") or parser.title
    description = (
        meta.get("og:description")
        or meta.get("twitter:description")
        or meta.get("description")
        or ""
    )
    image = meta.get("og:image") or meta.get("og:image:url") or meta.get("twitter:image") or ""
    if image:
        image = urljoin(page_url, image)
        if urlsplit(image).scheme not in ("http", "https"):
            image = ""
    return PageMeta(
        _clip(" ".join(title.split()), CARD_TITLE_GRAPHEMES),
        _clip(" ".join(description.split()), CARD_DESCRIPTION_GRAPHEMES),
        image,
    )


def _clip(text: str, limit: int) -> str:
    if grapheme_count(text) <= limit:
        return text
    return "".join(graphemes(text)[: limit - 1]).rstrip() + "…"


async def _read_limited(response: httpx.Response, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            return b"".join(chunks) if limit == PAGE_LIMIT else None
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch_page_meta(http: httpx.AsyncClient, url: str) -> PageMeta | None:
    """The page's metadata, or None when it cannot be reached or is not an HTML page."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    try:
        async with http.stream(
            "GET",
            url,
            headers={"Accept": "text/html,application/xhtml+xml"},
            follow_redirects=True,
            timeout=CARD_TIMEOUT,
        ) as response:
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or kind not in ("text/html", "application/xhtml+xml"):
                return None
            body = await _read_limited(response, PAGE_LIMIT)
            encoding = response.encoding or "utf-8"
            final_url = str(response.url)
    except (httpx.HTTPError, LookupError):
        return None
    if body is None:
        return None
    try:
        html = body.decode(encoding, "replace")
    except LookupError:
        html = body.decode("utf-8", "replace")
    return parse_page_meta(html, final_url)


async def fetch_image(http: httpx.AsyncClient, url: str) -> bytes | None:
    """The bytes of a card image (at most IMAGE_LIMIT), or None."""
    try:
        async with http.stream(
            "GET", url, headers={"Accept": "image/*"}, follow_redirects=True, timeout=CARD_TIMEOUT
        ) as response:
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or not kind.startswith("image/"):
                return None
            return await _read_limited(response, IMAGE_LIMIT)
    except httpx.HTTPError:
        return None
