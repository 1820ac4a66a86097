"""LinkedIn's "little" text format for a post's ``commentary``, so user text is never misparsed.

In little text the characters ``| { } @ [ ] ( ) < > # \\ * _ ~`` are reserved (they start
mentions, hashtags and templates) and must be escaped with a backslash to be plain text; left
unescaped, LinkedIn cuts the post at the first one it cannot parse. So every reserved character
of the user's text is escaped — links included, which LinkedIn still shows and links — except
that a ``#tag`` (as :func:`staffetta.core.text.find_hashtags` finds it) becomes the documented
hashtag template ``{hashtag|\\#|tag}``, so hashtags stay hashtags. A mention needs the member's
URN, which the text does not carry, so ``@name`` stays plain text.

The count is the text as readers see it (grapheme clusters), against LinkedIn's 3,000.
"""

from __future__ import annotations

from staffetta.core.text import find_hashtags, grapheme_count

RESERVED = frozenset("|{}@[]()<>#\\*_~")
MAX_CHARS = 3000


def escape(text: str) -> str:
    """``text`` as plain little text: every reserved character backslash-escaped."""
    return "".join("\\" + char if char in RESERVED else char for char in text)


def commentary(text: str) -> str:
    """The ``commentary`` for ``text``: escaped, with its hashtags as hashtag templates."""
    out: list[str] = []
    position = 0
    for span in find_hashtags(text):
        out.append(escape(text[position : span.start]))
        out.append("{hashtag|\\#|" + escape(span.value) + "}")
        position = span.end
    out.append(escape(text[position:]))
    return "".join(out)


def length(text: str) -> int:
    """What LinkedIn's limit is checked against: the text as shown, in characters."""
    return grapheme_count(text)
