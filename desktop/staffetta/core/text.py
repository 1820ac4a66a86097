"""Text engine: PLACEHOLDER — being written (see helper task)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SpanKind(enum.StrEnum):
    LINK = "link"
    MENTION = "mention"
    HASHTAG = "hashtag"


@dataclass(frozen=True, slots=True)
class Span:
    """An entity in a text, as [start, end) offsets in Python ``str`` indices (code points)."""

    start: int
    end: int
    kind: SpanKind
    value: str  # the URL (with scheme added if it had none), the mention, or the tag without '#'
