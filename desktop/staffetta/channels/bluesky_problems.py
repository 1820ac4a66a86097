"""What the Bluesky preview warns about: length (graphemes and bytes, as posted) and images."""

from __future__ import annotations

import os

from staffetta.channels import bluesky_api as api
from staffetta.channels import bluesky_richtext as richtext
from staffetta.core.channel import Fix, Limits, Problem
from staffetta.core.errors import InputError
from staffetta.core.media import ImageInfo
from staffetta.core.text import grapheme_count, utf8_length


def over_limits(text: str) -> str:
    """What is over the limits in ``text`` as posted, or "" when it fits."""
    posted = richtext.posted_text(text)
    count, size = grapheme_count(posted), utf8_length(posted)
    if count > api.MAX_GRAPHEMES:
        return f"{count} / {api.MAX_GRAPHEMES} characters — {count - api.MAX_GRAPHEMES} over"
    if size > api.MAX_TEXT_BYTES:
        return (
            f"{size} / {api.MAX_TEXT_BYTES} bytes — {size - api.MAX_TEXT_BYTES} over "
            f"(Bluesky also limits the size of a post's text)"
        )
    return ""


def length_problems(texts: list[str]) -> list[Problem]:
    if len(texts) == 1:
        over = over_limits(texts[0])
        if not over:
            return []
        return [
            Problem("too_long", over, blocking=True, fix=Fix.SPLIT),
            Problem(
                "too_long_customise",
                "Or shorten the text for this account only.",
                blocking=False,
                fix=Fix.CUSTOMISE,
            ),
        ]
    problems = []
    for number, text in enumerate(texts, start=1):
        over = over_limits(text)
        if over:
            problems.append(
                Problem(
                    "too_long",
                    f"Part {number} of {len(texts)}: {over}",
                    blocking=True,
                    fix=Fix.SPLIT,
                )
            )
    return problems


def image_problems(
    number: int, path: str, alt: str, limits: Limits, info: ImageInfo | InputError
) -> list[Problem]:
    label = f"Image {number} ({os.path.basename(path)})"
    if isinstance(info, InputError):
        return [
            Problem("image_unreadable", f"{label}: {info}", blocking=True, fix=Fix.REMOVE_IMAGES)
        ]
    problems: list[Problem] = []
    if not alt.strip():
        problems.append(
            Problem(
                "missing_alt",
                f"{label} has no description (alt text) for people who cannot see it.",
                blocking=False,
                fix=Fix.ADD_ALT,
            )
        )
    elif grapheme_count(alt) > limits.max_alt_chars:
        problems.append(
            Problem(
                "alt_too_long",
                f"{label}: the description is {grapheme_count(alt)} characters; Bluesky "
                f"shows {limits.max_alt_chars}.",
                blocking=True,
                fix=Fix.ADD_ALT,
            )
        )
    if info.size_bytes > limits.max_image_bytes or max(info.width, info.height) > (
        api.MAX_IMAGE_SIDE
    ):
        problems.append(
            Problem(
                "image_too_large",
                f"{label} is larger than Bluesky takes; it will be resized when sent.",
                blocking=False,
                fix=Fix.RESIZE,
            )
        )
    return problems
