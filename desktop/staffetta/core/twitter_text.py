"""Which parts of a text X counts as links (each weighs 23): twitter-text v3's URL rules.

Re-implemented from the rules twitter-text documents and tests (its ``extractUrlsWithIndices``),
because X's count depends on exactly them and they differ from a general link finder:

- a link must follow a character that is not an ASCII letter or digit, ``@``, ``$`` or ``#``
  (so ``#example.com`` and ``@example.com`` are not links);
- its host ends in a known top-level domain followed by something that is not a letter, digit,
  ``@``, ``+`` or ``-``; without ``http(s)://`` only the ASCII (and Latin-accented) part of the
  host counts, and not after ``-``, ``_``, ``.`` or ``/``;
- the path takes Latin, Latin-accented and Cyrillic letters, digits and URL punctuation, one
  level of balanced parentheses, and must end on a letter, digit or ``+ - = _ # /``; CJK text
  straight after a link is not part of it;
- a host label longer than 63 characters (in punycode) or a link longer than 4,096 characters
  is not a link; a ``t.co`` link ends after its slug.

Pure; never raises on any ``str``.
"""

from __future__ import annotations

import functools

import regex
from linkify_it.tlds import TLDS

__all__ = ["url_spans"]

_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
_SPACES = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_INVALID = r"\uFFFE\uFEFF\uFFFF"
_DIRECTIONAL = r"\u202A-\u202E\u061C\u200E\u200F\u2066-\u2069"
_LATIN = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
_CYRILLIC = r"\u0400-\u04FF"
# Internationalised country domains in the form people type them (IANA lists them in punycode).
_IDN_TLDS = (
    "рф", "укр", "срб", "бел", "қаз", "мкд", "мон", "бг", "ελ", "中国", "中國", "香港", "台湾",
    "台灣", "新加坡", "한국", "ไทย", "भारत", "இந்தியா", "امارات", "السعودية", "مصر", "ایران",
    "გე", "հայ", "みんな", "中文网", "公司", "网络", "在线", "онлайн", "сайт", "орг", "рус",
)  # fmt: skip


def _tld_pattern() -> str:
    names = sorted({t.lower() for t in (*TLDS, *_IDN_TLDS)}, key=lambda t: (-len(t), t))
    return "(?:" + "|".join(regex.escape(n) for n in names) + r")(?=[^a-z0-9@+\-]|$)"


_DOMAIN_CHAR = f"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"
_TLD = _tld_pattern()
_PUNYCODE = r"(?:xn--[\-0-9a-z]+)"
_SUBDOMAIN = f"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\\.)"
_DOMAIN_NAME = f"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\\.)"
_DOMAIN = f"(?:{_SUBDOMAIN}*{_DOMAIN_NAME}(?:{_TLD}|{_PUNYCODE}))"
_PATH_CHAR = f"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&{_LATIN}]"
_PARENS = f"\\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\\({_PATH_CHAR}+\\){_PATH_CHAR}*))\\)"
_PATH_END = f"(?:[+\\-a-z{_CYRILLIC}0-9=_#/{_LATIN}]|(?:{_PARENS}))"
_PATH = f"(?:(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END})|(?:@{_PATH_CHAR}+/))"
_QUERY_CHAR = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
_QUERY_END = r"[a-z0-9\-_&=#/]"
_URL = regex.compile(
    f"(?P<before>(?:[^A-Za-z0-9@＠$#＃{_INVALID}]|[{_DIRECTIONAL}]|^))"
    f"(?P<url>(?P<protocol>https?://)?(?P<domain>{_DOMAIN})(?::[0-9]+)?"
    f"(?P<path>/{_PATH}*)?(?:\\?{_QUERY_CHAR}*{_QUERY_END})?)",
    regex.IGNORECASE | regex.VERSION0,
)
_ASCII_DOMAIN = regex.compile(
    f"(?:(?:[\\-a-z0-9{_LATIN}]+)\\.)+(?:{_TLD}|{_PUNYCODE})", regex.IGNORECASE
)
_TCO = regex.compile(f"^https?://t\\.co/([a-z0-9]+)(?:\\?{_QUERY_CHAR}*{_QUERY_END})?", regex.I)
_NO_PROTOCOL_AFTER = regex.compile(r"[-_./]$")
MAX_URL = 4096
MAX_LABEL = 63


def _label_ok(label: str) -> bool:
    if label.isascii():
        return 1 <= len(label) <= MAX_LABEL
    try:
        encoded = "xn--" + label.encode("punycode").decode("ascii")
    except UnicodeError:
        return False
    return len(encoded) <= MAX_LABEL


def _valid(url: str, protocol: str, domain: str) -> bool:
    if domain[:4].lower() == "xn--" and not _ASCII_DOMAIN.search(domain):
        return False
    labels = domain.split(".")
    if not all(_label_ok(label) for label in labels):
        return False
    extra = sum(len("xn--" + lb.encode("punycode").decode()) - len(lb) for lb in labels
                if not lb.isascii())  # fmt: skip
    return len(protocol or "https://") + len(url) + extra <= MAX_URL


# A link never holds one of twitter-text's spaces, so each run between them is searched on its
# own — only when one of its dot-separated labels could be a top-level domain — with a time
# budget: the rules' nested repetitions backtrack badly on runs like "a.a.a.…" (as they do in
# twitter-text itself), and a preview must never hang. A run over budget counts as plain text.
_RUN = regex.compile(f"[^{_SPACES}]+")
_LABEL_HEAD = regex.compile(r"\.([a-z0-9-]*)([^.]?)", regex.IGNORECASE)
_TLD_SET = frozenset(t.lower() for t in (*TLDS, *_IDN_TLDS))
RUN_BUDGET = 0.05  # seconds


def _may_hold_url(run: str) -> bool:
    for head, after in _LABEL_HEAD.findall(run):
        if after and not after.isascii():
            return True  # an internationalised label: leave it to the rules
        head = head.lower()
        if head.startswith("xn--") or (head in _TLD_SET and after not in ("@", "+")):
            return True
    return False


@functools.lru_cache(maxsize=256)
def url_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of every link X finds in ``text`` (code point offsets), in order."""
    if "." not in text:
        return ()
    found: list[tuple[int, int]] = []
    for run in _RUN.finditer(text):
        if "." in run.group() and _may_hold_url(run.group()):
            # With the space before it: the rules read the character before a link.
            offset = max(0, run.start() - 1)
            spans = _run_spans(text[offset : run.end()])
            found.extend((offset + a, offset + b) for a, b in spans)
    return tuple(found)


@functools.lru_cache(maxsize=4096)
def _run_spans(run: str) -> tuple[tuple[int, int], ...]:
    try:
        return _spans(run)
    except TimeoutError:
        return ()


def _spans(text: str) -> tuple[tuple[int, int], ...]:
    found: list[tuple[int, int]] = []
    for match in _URL.finditer(text, timeout=RUN_BUDGET):
        url, protocol, domain = match.group("url"), match.group("protocol"), match.group("domain")
        start, end = match.span("url")
        if not _valid(url, protocol or "", domain):
            continue
        if not protocol:
            if _NO_PROTOCOL_AFTER.search(match.group("before")):
                continue
            last: list[int] | None = None
            searched = 0
            for ascii_domain in _ASCII_DOMAIN.finditer(domain):
                at = domain.find(ascii_domain.group(), searched)
                searched = at + len(ascii_domain.group())
                last = [start + at, start + searched]
                found.append((last[0], last[1]))
            if last is not None and match.group("path"):
                found[-1] = (last[0], end)
            continue
        tco = _TCO.match(url)
        if tco:
            if len(tco.group(1)) > 40:
                continue
            end = start + tco.end()
        found.append((start, end))
    return tuple(found)
