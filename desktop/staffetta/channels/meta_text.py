"""How Meta counts text: Threads posts, Instagram captions, Facebook Page posts.

- **Threads**: 500 characters per post, where "emojis are counted by their UTF-8 byte length"
  (the Threads API's text parameter): a grapheme cluster that is an emoji counts as many as its
  UTF-8 bytes (😀 = 4, 👍🏽 = 8, a flag = 8, 👨‍👩‍👧 = 18), every other cluster counts one (é made
  of e + U+0301 is 1, 中 is 1). At most 5 distinct links per post.
- **Instagram**: a caption of at most 2,200 characters, 30 hashtags and 20 @-mentions
  (IG User Media reference). "Characters" are counted as Unicode code points, the stricter of
  the readings that keeps a ZWJ emoji family at its real length on the server (7, not 1).
- **Facebook Page**: 63,206 characters (widely quoted, not in Meta's reference), code points.
"""

from __future__ import annotations

import functools

import regex

from staffetta.core.text import cluster_runs, find_hashtags, find_links, find_mentions

THREADS_LIMIT = 500
THREADS_MAX_LINKS = 5
CAPTION_LIMIT = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
FACEBOOK_LIMIT = 63_206

_GRAPHEME = regex.compile(r"\X")
# A character that makes its cluster an emoji; © and ® only with the emoji selector U+FE0F.
_EMOJI_CHAR = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_TEXT_STYLE = frozenset("\u00a9\u00ae")


def _is_emoji(cluster: str) -> bool:
    return any(
        char not in _TEXT_STYLE or "\ufe0f" in cluster for char in _EMOJI_CHAR.findall(cluster)
    )


@functools.lru_cache(maxsize=256)
def threads_length(text: str) -> int:
    """Threads' count: one per grapheme cluster, an emoji cluster by its UTF-8 bytes."""
    if text.isascii():
        return len(text) - text.count("\r\n")
    if len(text) > _CACHED_LINES_MIN:
        # A line feed is always a cluster of its own, or the end of CR LF (UAX #29 GB3-GB5), so a
        # long text is counted line by line and each line is remembered: the preview counts the
        # whole post on every keystroke, and a keystroke changes one line.
        lines = text.split("\n")
        return sum(map(_line_length, lines)) + len(lines) - 1 - text.count("\r\n")
    return _clusters_length(text)


# Shorter texts (thread parts, say) are cheaper to count again than to cache line by line.
_CACHED_LINES_MIN = 1000


@functools.lru_cache(maxsize=1024)
def _line_length(line: str) -> int:
    # No LF in a line: a CR in it is a cluster of its own. Only the runs where code points may
    # join are cut into clusters; elsewhere each code point is one, an emoji by its bytes.
    if line.isascii():
        return len(line)
    total = 0
    for run, single in cluster_runs(line):
        if not single:
            total += _clusters_length(run)
            continue
        total += len(run)
        if not run.isascii():
            for char in _EMOJI_CHAR.findall(run):
                if char not in _TEXT_STYLE:
                    total += len(char.encode("utf-8", "surrogatepass")) - 1
    return total


def _clusters_length(text: str) -> int:
    if text.isascii():
        return len(text) - text.count("\r\n")
    total = 0
    for cluster in _GRAPHEME.findall(text):
        # No ASCII character makes a cluster an emoji: the pattern's search is saved for the rest.
        if not cluster.isascii() and _EMOJI_CHAR.search(cluster) and _is_emoji(cluster):
            total += len(cluster.encode("utf-8", "surrogatepass"))
        else:
            total += 1
    return total


def threads_links(text: str) -> int:
    """Distinct links in a Threads post (the API refuses more than five)."""
    return len({span.value.rstrip("/").lower() for span in find_links(text)})


def caption_length(text: str) -> int:
    """An Instagram caption's length in Unicode code points."""
    return len(text)


def hashtag_count(text: str) -> int:
    return len(find_hashtags(text))


def mention_count(text: str) -> int:
    return len(find_mentions(text))
