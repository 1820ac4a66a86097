"""The composer's Markdown subset as text to paste into an app that has no publishing API.

Two flavours, both plain text the user pastes as it is:

- **WhatsApp** keeps emphasis in WhatsApp's own marks (``*bold*``, ``_italic_``, ``~strike~``,
  ```` ```mono``` ````), which WhatsApp renders;
- **plain** (Instagram) drops the marks: captions show them literally.

A link written ``[text](https://…)`` becomes ``text (https://…)`` — neither app turns words into
links — and a bare link stays as written. Everything else (lists, line breaks, ``#tags``,
``@names``) stays exactly as the user wrote it: each line is parsed on its own, inline rules only,
so no block syntax is ever reinterpreted.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


WHATSAPP = "whatsapp"
PLAIN = "plain"

_MARKS = {
    WHATSAPP: {"strong": "*", "em": "_", "s": "~", "code": "```"},
    PLAIN: {"strong": "", "em": "", "s": "", "code": ""},
}


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt  # ~25 ms: loaded with the first render

    return MarkdownIt("zero").enable(["emphasis", "link", "strikethrough", "escape", "backticks"])


def render(markdown: str, flavour: str = PLAIN) -> str:
    """``markdown`` as the app should receive it (see the module doc)."""
    return "\n".join(_line(line, flavour) for line in markdown.split("\n"))


# Lines are independent, and previews ask for the whole text on every keystroke, which changes
# one line: each line is remembered.
@functools.lru_cache(maxsize=1024)
def _line(line: str, flavour: str) -> str:
    if not line.strip():
        return line
    marks = _MARKS[flavour]
    tokens: list[Any] = _parser().parseInline(line)[0].children or []
    out: list[str] = []
    links: list[str] = []
    for token in tokens:
        kind = token.type
        if kind == "text":
            out.append(token.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "code_inline":
            mark = marks["code"]
            out.append(f"{mark}{token.content}{mark}")
        elif kind.endswith("_open") or kind.endswith("_close"):
            name = kind.rsplit("_", 1)[0]
            if name == "link":
                if kind == "link_open":
                    links.append(str(token.attrGet("href") or ""))
                    out.append("\x00")  # where the link text starts
                else:
                    _close_link(out, links.pop() if links else "")
            else:
                out.append(marks.get(name, ""))
        else:
            out.append(token.content)
    return "".join(out)


def _close_link(out: list[str], href: str) -> None:
    start = len(out) - 1 - out[::-1].index("\x00")
    text = "".join(out[start + 1 :])
    del out[start:]
    if not href or text.strip() == href or not text.strip():
        out.append(href or text)
    else:
        out.append(f"{text} ({href})")
