"""Posts as Markdown files: reading one with front matter, rendering Markdown, making slugs.

``staffetta publish FILE.md`` and ``staffetta preview FILE.md`` read a post with
:func:`read_post_file`. The file is Markdown with optional YAML front matter::

    ---
    title: Una giornata al mare
    tags: [travel, sea]            # or "travel, sea"
    link: https://example.com/trip
    cw: sunburn                    # alias of content_warning
    schedule: 2024-07-01T09:30:00+02:00   # naive = local time
    images:
      - path: photos/beach.jpg     # relative to this file's folder
        alt: Waves on a sandy beach
      - photos/boat.jpg            # a plain string: a path without alt text
    overrides:
      mastodon-1: A shorter text for that account
    ---
    The body, in Markdown.

Every problem becomes an :class:`InputError` naming the file, the key and what was expected.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from staffetta.core.errors import InputError
from staffetta.core.model import Image, Post

if TYPE_CHECKING:
    import yaml
    from markdown_it import MarkdownIt

KNOWN_KEYS = frozenset(
    {"title", "tags", "link", "content_warning", "cw", "schedule", "images", "overrides"}
)

_FRONT_MATTER = re.compile(r"\A(?P<open>---[ \t]*\r?\n)(?P<yaml>.*?)^---[ \t]*$\r?\n?", re.S | re.M)


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    """Safe YAML whose impossible dates (2024-13-45) stay text, so the key's check reports them.

    Built at the first post file read: the window never reads one, and YAML need not load with it.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> object:
        try:
            return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
        except ValueError:
            return loader.construct_scalar(node)  # type: ignore[arg-type]

    Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp_or_text)
    return Loader


# --- reading a post file ------------------------------------------------------------------------


def read_post_file(path: Path) -> Post:
    """Read a Markdown post with YAML front matter; raise :class:`InputError` on any problem."""
    path = Path(path).expanduser()
    name = str(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise InputError(
            f"{name} is a folder, not a post file. Give the path of a .md file."
        ) from None
    except FileNotFoundError:
        raise InputError(f"{name} does not exist. Check the path of the post file.") from None
    except OSError as exc:
        raise InputError(f"Cannot read {name}: {exc.strerror or exc}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text (byte {exc.start} cannot be decoded). "
            "Save it as UTF-8 and try again."
        ) from None

    meta, body = _split_front_matter(text, name)
    return _post_from_meta(meta, body, name, path.resolve().parent)


def _split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    if text.startswith("+++"):
        raise InputError(
            f"{name}: TOML front matter (+++) is not supported. "
            "Put the settings in YAML between two lines of three dashes (---)."
        )
    match = _FRONT_MATTER.match(text)
    if match is None:
        if re.match(r"\A---[ \t]*\r?\n", text):
            raise InputError(
                f"{name}: the front matter starting on line 1 is never closed. "
                "Add a line with three dashes (---) after the last setting."
            )
        return {}, text.strip()
    import yaml

    try:
        data = yaml.load(match["yaml"], Loader=_loader())  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            # +2: the mark is 0-based and the front matter starts after the opening "---" line.
            where = f" on line {mark.line + 2}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or "it cannot be parsed"
        raise InputError(
            f"{name}: the front matter is not valid YAML{where}: {problem}. "
            "Each setting is one 'key: value' line; quote values that contain ': ' or start "
            "with a special character."
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(
            f"{name}: the front matter must be a list of 'key: value' settings, "
            f"not a {_kind(data)}."
        )
    return data, text[match.end() :].strip()


def _post_from_meta(meta: dict[str, Any], body: str, name: str, folder: Path) -> Post:
    meta = {str(k): v for k, v in meta.items()}
    if "content_warning" in meta and "cw" in meta:
        raise InputError(f"{name}: give either 'content_warning' or 'cw', not both.")
    post = Post(
        body=body,
        title=_text(meta, "title", name),
        tags=_tags(meta.get("tags"), name),
        link=_link(meta.get("link"), name),
        content_warning=_text(meta, "content_warning" if "content_warning" in meta else "cw", name),
        scheduled_at=_schedule(meta.get("schedule"), name),
        images=_images(meta.get("images"), name, folder),
        overrides=_overrides(meta.get("overrides"), name),
    )
    if not post.body and not post.title and not post.images:
        raise InputError(
            f"{name}: there is nothing to publish: the post has no text, title or image."
        )
    return post


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, datetime | date):
        return "date"
    return type(value).__name__


def _text(meta: dict[str, Any], key: str, name: str) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"{name}: '{key}' should be a piece of text, not a {_kind(value)}.")


def _tags(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, list):
        items = list(value)
    else:
        raise InputError(
            f"{name}: 'tags' should be a list (tags: [one, two]) or comma-separated text "
            f"(tags: one, two), not a {_kind(value)}."
        )
    tags: list[str] = []
    for index, item in enumerate(items, start=1):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise InputError(f"{name}: 'tags' item {index} should be a word, not a {_kind(item)}.")
        tag = str(item).strip().lstrip("#").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _link(value: object, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{name}: 'link' should be a web address, not a {_kind(value)}.")
    link = value.strip()
    if not link:
        return ""
    if re.match(r"^[a-z][a-z0-9+.-]*://", link, re.I):
        if not re.match(r"^https?://[^\s/]+", link, re.I):
            raise InputError(
                f"{name}: 'link' should be a web address starting with https:// or http://, "
                f"not {link!r}."
            )
        return link
    if re.match(r"^[^\s/]+\.[^\s/]+(/\S*)?$", link):
        return f"https://{link}"
    raise InputError(
        f"{name}: 'link' should be a web address such as https://example.com/page, not {link!r}."
    )


def _schedule(value: object, name: str) -> float | None:
    if value is None or value == "":
        return None
    expected = (
        "a date and time such as 2024-07-01T09:30:00+02:00 (with the UTC offset) or "
        "2024-07-01 09:30 (local time)"
    )
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        raise InputError(f"{name}: 'schedule' has a date but no time; write {expected}.")
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"{name}: 'schedule' is {value!r}; expected {expected}.") from None
    else:
        raise InputError(f"{name}: 'schedule' should be {expected}, not a {_kind(value)}.")
    try:
        # A naive datetime is local time: ``timestamp`` interprets it that way.
        return when.timestamp()
    except (OverflowError, OSError, ValueError):
        raise InputError(
            f"{name}: 'schedule' {value!s} is out of range; expected {expected}."
        ) from None


def _images(value: object, name: str, folder: Path) -> tuple[Image, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(
            f"{name}: 'images' should be a list of images, each '- path: photo.jpg' with an "
            f"'alt:' line, not a {_kind(value)}."
        )
    images: list[Image] = []
    for index, item in enumerate(value, start=1):
        where = f"{name}: 'images' item {index}"
        alt = ""
        rel: object
        if isinstance(item, str):
            rel = item
        elif isinstance(item, Mapping):
            rel = item.get("path")
            if not isinstance(rel, str) or not rel.strip():
                raise InputError(f"{where} needs a 'path:' with the image file's path.")
            alt_value = item.get("alt")
            if alt_value is not None and not isinstance(alt_value, str | int | float):
                raise InputError(f"{where}: 'alt' should be text, not a {_kind(alt_value)}.")
            alt = "" if alt_value is None else str(alt_value).strip()
        else:
            raise InputError(
                f"{where} should be a path or 'path:'/'alt:' settings, not a {_kind(item)}."
            )
        image_path = Path(rel.strip()).expanduser()
        if not image_path.is_absolute():
            image_path = folder / image_path
        try:
            is_file = image_path.is_file()
        except OSError:
            is_file = False
        if not is_file:
            raise InputError(
                f"{where}: the image {rel.strip()!r} was not found (looked for {image_path}). "
                f"Image paths are relative to the post file's folder, {folder}."
            )
        images.append(Image(path=str(image_path.resolve()), alt=alt))
    return tuple(images)


def _overrides(value: object, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(
            f"{name}: 'overrides' should map account ids to text (account-id: text), "
            f"not a {_kind(value)}."
        )
    result: dict[str, str] = {}
    for key, text in value.items():
        if not isinstance(text, str):
            raise InputError(
                f"{name}: 'overrides' for account {key!s} should be text, not a {_kind(text)}."
            )
        result[str(key)] = text.strip()
    return result


# --- rendering ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # ~25 ms: loaded with the first render

    # CommonMark with raw HTML off (user text never injects markup; markdown-it also refuses
    # javascript:/data: links) and bare URLs turned into links.
    md = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable("linkify")
    # Normalising a link's address and text (URL parsing, percent-encoding, punycode) is a third
    # of rendering a paragraph with links; both are pure functions of their string.
    remembered = functools.lru_cache(maxsize=1024)
    md.normalizeLink = remembered(md.normalizeLink)  # type: ignore[method-assign]
    md.normalizeLinkText = remembered(md.normalizeLinkText)  # type: ignore[method-assign]
    md.linkify = _RememberedLinks(md.linkify)
    return md


class _RememberedLinks:
    """markdown-it's link finder (linkify-it) with its answers remembered by text.

    markdown-it asks it about every run of text in a paragraph, and a keystroke changes one run:
    the others are answered from memory. Each answer depends only on the text asked about (the
    finder's own state between its test and match calls stays inside the real finder).
    """

    def __init__(self, linkify: Any) -> None:
        remembered = functools.lru_cache(maxsize=1024)
        self.pretest = remembered(linkify.pretest)
        self.test = remembered(linkify.test)
        self.match_at_start = remembered(linkify.match_at_start)
        self._match = remembered(linkify.match)

    def match(self, text: str) -> tuple[Any, ...] | None:
        found = self._match(text)
        return tuple(found) if found else None


# Previews render the body on every keystroke, for every blog and newsletter account, and finding
# bare links (linkify) is most of markdown-it's time. So a render is split the way markdown-it
# itself works: the block structure of the whole text is parsed every time (cheap), while the
# inline content of each block (a paragraph, a heading, a list item's text), which is all the
# rest of the work, is rendered once and remembered. markdown-it's core rules after the block
# parse (inline, linkify, text_join) each take one inline token at a time and read nothing but
# its content and the parse's ``env``, so a remembered block renders exactly as it would inside
# the whole text; while ``env`` holds anything (reference-style link definitions, which links in
# other blocks use), the text is rendered whole instead. tests/unit/test_postfile_render.py
# compares the two renders on generated documents.
_RENDERED_INLINE = "staffetta_rendered_inline"


def _render_as_is(
    renderer: object, tokens: list[Any], idx: int, options: object, env: object
) -> str:
    content: str = tokens[idx].content
    return content


@functools.lru_cache(maxsize=1)
def _block_markdown() -> MarkdownIt:
    """:func:`_markdown` that stops after the block structure: its inline tokens hold their
    content, rendered separately by :func:`_inline_html`."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable("linkify")
    core = md.get_active_rules()["core"]
    md.core.ruler.disable(core[core.index("block") + 1 :])
    md.add_render_rule(_RENDERED_INLINE, _render_as_is)
    return md


# Characters that open inline syntax able to reach over a space (code spans, emphasis, links,
# images, autolinks) or that is safest left to markdown-it whole (escapes, entities).
_INLINE_SYNTAX = re.compile(r"[\\`*_\[\]<>!&]")
_CHUNKED_FROM = 160  # characters: shorter content is rendered in one piece
_CHUNK_WORDS = 3  # a piece ends after about one word in this many (chosen by the word's hash)


def _inline_html(content: str) -> str:
    """One block's inline content rendered as markdown-it renders it inside a whole text.

    Content without inline syntax (no ``\\`*_[]<>!&``) is plain words, bare links and line
    breaks, and none of them reaches over a space between two words: it is rendered in pieces cut
    at such spaces, each piece remembered, so a keystroke in a long paragraph renders one piece.
    A piece ends after a word picked by its hash, not at a fixed length, so typing moves no other
    piece's bounds. Property-tested against markdown-it on the whole text
    (tests/unit/test_postfile_render.py).
    """
    if len(content) < _CHUNKED_FROM or _INLINE_SYNTAX.search(content):
        return _inline_piece_html(content)
    pieces: list[str] = []
    words: list[str] = []
    for word in content.split(" "):
        # A cut is made only at a single space between two words (a space next to another space,
        # a tab or a line break may belong to a hard line break).
        if words and word and not word[0].isspace() and _ends_piece(words[-1]):
            pieces.append(_inline_piece_html(" ".join(words)))
            words = []
        words.append(word)
    pieces.append(_inline_piece_html(" ".join(words)))
    return " ".join(pieces)


def _ends_piece(word: str) -> bool:
    return bool(word) and not word[-1].isspace() and hash(word) % _CHUNK_WORDS == 0


@functools.lru_cache(maxsize=4096)
def _inline_piece_html(content: str) -> str:
    md = _markdown()
    env: dict[str, Any] = {}
    children = md.parseInline(content, env)[0].children or []
    renderer: Any = md.renderer  # a RendererHTML; the protocol it is typed as lacks renderInline
    html: str = renderer.renderInline(children, md.options, env)
    return html


# A line that may start a block reaching over blank lines (a list item, indented or fenced code)
# or one that other blocks may refer to (a link reference definition: any line opening with "[").
_SPANS_BLANK_LINES = re.compile(
    r"^(?: {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)|(?: {4}| {0,3}\t)[ \t]*\S| {0,3}(?:```|~~~|\[))",
    re.M,
)
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")


@functools.lru_cache(maxsize=16)
def render_html(markdown: str) -> str:
    """The body as a reader sees it: safe HTML for previews, email and blog channels.

    Remembered by text (every blog and newsletter preview asks for the same body on each
    keystroke), by run of lines between blank lines (a keystroke changes one of them) and by
    block: see :func:`_inline_html`. A text where no block can reach over a blank line is
    rendered run by run, which gives markdown-it's own output for the whole text (property-tested
    against it); any other text is parsed whole.
    """
    if not _SPANS_BLANK_LINES.search(markdown):
        return "".join(_html_of(run) for run in _BLANK_LINES.split(markdown) if run.strip())
    return _html_of(markdown)


@functools.lru_cache(maxsize=1024)
def _html_of(markdown: str) -> str:
    from markdown_it.token import Token

    md = _block_markdown()
    env: dict[str, Any] = {}
    tokens = md.parse(markdown, env)
    if env:  # reference definitions: links in any block may use them
        html: str = _markdown().render(markdown)
        return html
    for token in tokens:
        if token.type == "inline":
            rendered = Token(_RENDERED_INLINE, "", 0)
            rendered.content = _inline_html(token.content)
            token.children = [rendered]
    html = md.renderer.render(tokens, md.options, env)
    return html


# --- slugs --------------------------------------------------------------------------------------

# Latin letters that NFKD does not decompose into a base letter plus accents.
_LATIN_SPECIAL = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ł": "l",
    "þ": "th",
    "ħ": "h",
    "ı": "i",
}
_SLUG_MAX_BYTES = 180  # filenames are limited to 255 bytes; leave room for dates and suffixes


def slugify(title_or_text: str, max_len: int = 60) -> str:
    """A URL- and filename-safe slug: ``"Caffè e 日本語!"`` → ``"caffe-e-日本語"``.

    Latin letters lose their accents; letters of other scripts are kept as they are (with their
    combining marks, which are part of the letter there). Lowercase, words joined by hyphens, at
    most ``max_len`` characters and 180 UTF-8 bytes, cut at a word boundary when possible.
    Never empty: a text with no letters or digits gives ``"post"``.
    """
    return _slug_words(title_or_text, max_len) or "post"


def _slug_words(text: str, max_len: int) -> str:
    out: list[str] = []
    last_base_latin = False
    for ch in unicodedata.normalize("NFKC", text).lower():
        category = unicodedata.category(ch)
        if category.startswith("M"):
            if not last_base_latin and out and out[-1] != "-":
                out.append(ch)
            continue
        if category.startswith("L"):
            if unicodedata.name(ch, "").startswith("LATIN"):
                last_base_latin = True
                plain = _LATIN_SPECIAL.get(ch) or "".join(
                    c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
                )
                out.append(plain)
            else:
                last_base_latin = False
                out.append(ch)
        elif category == "Nd":
            last_base_latin = False
            out.append(ch)
        else:
            last_base_latin = False
            if out and out[-1] != "-":
                out.append("-")
    slug = "".join(out).strip("-")
    return _truncate(slug, max(1, max_len))


def _truncate(slug: str, max_len: int) -> str:
    def fits(s: str) -> bool:
        return len(s) <= max_len and len(s.encode("utf-8")) <= _SLUG_MAX_BYTES

    if fits(slug):
        return slug
    cut = slug[:max_len]
    while not fits(cut):
        cut = cut[:-1]
    # Never separate a letter from the combining marks that follow it.
    while cut and unicodedata.category(slug[len(cut)]).startswith("M"):
        cut = cut[:-1]
    if slug[len(cut)] != "-" and "-" in cut:
        # Cut at the last word boundary unless that throws most of the text away.
        at_word = cut.rsplit("-", 1)[0]
        if len(at_word) >= len(cut) // 2:
            cut = at_word
    return cut.strip("-")
