"""The link card of a Discord post: an embed with the linked page's title, description and image.

Read from the page's Open Graph tags (``og:title``, ``og:description``, ``og:image``,
``og:site_name``), else its ``<title>`` and ``<meta name="description">``. Fetching is best effort
and bounded (5 s, the first 512 KiB, HTML only): an unreachable page still gets a card with the
post's title, or the link's address, so the post never waits for someone else's server.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

FETCH_TIMEOUT = 5.0
MAX_BYTES = 512 * 1024
TITLE_LIMIT = 256  # Discord's embed title limit
DESCRIPTION_LIMIT = 350  # a card, not an article (Discord allows 4096)


async def link_card(http: httpx.AsyncClient, url: str, title: str = "") -> dict[str, Any]:
    """The ``embeds[0]`` for ``url``; ``title`` (the post's) is used when the page has none."""
    meta = await page_meta(http, url)
    card: dict[str, Any] = {
        "url": url,
        "title": _fit(
            meta.get("og:title") or meta.get("title") or title or _host(url), TITLE_LIMIT
        ),
    }
    description = meta.get("og:description") or meta.get("description")
    if description:
        card["description"] = _fit(description, DESCRIPTION_LIMIT)
    image = meta.get("og:image")
    if image:
        absolute = urljoin(url, image)
        if absolute.startswith(("https://", "http://")):
            card["thumbnail"] = {"url": absolute}
    site = meta.get("og:site_name")
    if site:
        card["author"] = {"name": _fit(site, TITLE_LIMIT)}
    return card


async def page_meta(http: httpx.AsyncClient, url: str) -> dict[str, str]:
    """The page's title and meta tags, or nothing if it cannot be read quickly."""
    if not url.lower().startswith(("https://", "http://")):
        return {}
    parser = _Meta()
    try:
        async with http.stream(
            "GET",
            url,
            follow_redirects=True,
            timeout=FETCH_TIMEOUT,
            headers={"Accept": "text/html,application/xhtml+xml"},
        ) as response:
            kind = response.headers.get("content-type", "")
            if response.status_code != 200 or "html" not in kind:
                return {}
            size = 0
            async for chunk in response.aiter_text():
                parser.feed(chunk)
                size += len(chunk)
                if parser.done or size >= MAX_BYTES:
                    break
    except (httpx.HTTPError, UnicodeDecodeError, ValueError):
        return {}
    return parser.found


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


class _Meta(HTMLParser):
    _WANTED = frozenset(
        {"og:title", "og:description", "og:image", "og:site_name", "description", "title"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self.done = False
        self._in_title = False
        self._title: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = dict(attrs)
            key = (values.get("property") or values.get("name") or "").strip().lower()
            content = (values.get("content") or "").strip()
            if key in self._WANTED and content and key not in self.found:
                self.found[key] = content
        elif tag == "title":
            self._in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            title = "".join(self._title).strip()
            if title:
                self.found.setdefault("title", title)
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
