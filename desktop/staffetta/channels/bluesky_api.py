"""Talking XRPC to a Bluesky (AT Protocol) server: URLs, one request helper, error reading, TIDs.

Facts from the atproto lexicons and the reference PDS (see reference/platforms.md §2): errors are
JSON ``{"error": "<Name>", "message": "..."}``; an expired access JWT is **400** ``ExpiredToken``
and a bad one 400 ``InvalidToken`` (401 is a missing or refused credential); rate limits come as
``RateLimit-Remaining``/``RateLimit-Reset`` (epoch seconds) and 429. Record keys of posts are
TIDs, which a client may choose itself: that is what makes publishing idempotent here.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from staffetta.core.channel import classify_transport_error, retry_after_seconds
from staffetta.core.errors import (
    AuthError,
    DeliveryError,
    InputError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

PLATFORM = "Bluesky"
POST_COLLECTION = "app.bsky.feed.post"

# app.bsky.feed.post#text: maxGraphemes 300, maxLength 3000 (UTF-8 bytes).
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
MAX_IMAGES = 4
# app.bsky.embed.images#image.image maxSize in the current lexicon (formerly 1,000,000: a server
# validating against an older lexicon says so when it refuses a record, and the channel adapts).
DEFAULT_IMAGE_BYTES = 2_000_000
# app.bsky.embed.external#external.thumb maxSize.
THUMB_BYTES = 1_000_000
# Bluesky's own app scales pictures to fit 2000 × 2000 before upload; its CDN serves no more.
MAX_IMAGE_SIDE = 2000
MAX_ALT_CHARS = 2000  # the app's limit on alt text (graphemes); the lexicon sets none
MAX_TAGS = 8
MAX_TAG_BYTES = 640
MAX_TAG_GRAPHEMES = 64

DEFAULT_SERVICE = "https://bsky.social"
DEFAULT_PLC_URL = "https://plc.directory"

_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_ANY_STATUS = tuple(range(100, 600))


# --- server URLs ----------------------------------------------------------------------------------


def normalise_service_url(raw: str, what: str = "server") -> str:
    """``bsky.social`` -> ``https://bsky.social``; refuse what cannot be a safe server URL.

    Plain ``http://`` is only accepted for this computer (127.0.0.0/8, ::1, localhost): anywhere
    else the password and session tokens would cross the network unencrypted.
    """
    text = (raw or "").strip()
    if not text:
        raise InputError(f"Enter the {what}'s address, for example bsky.social.")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InputError(f"“{raw.strip()}” is not a valid {what} address.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise InputError(f"“{raw.strip()}” is not a web address: it should start with https://.")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise InputError(f"Enter only the {what}'s address, like https://bsky.social.")
    host = _normalise_host(parts.hostname or "", raw)
    if scheme == "http" and not is_loopback_host(host):
        raise InputError(
            f"{host} must be reached over https://. Plain http:// would send your password "
            "unencrypted, so Staffetta only allows it for a server on this computer."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _normalise_host(host: str, raw: str) -> str:
    if not host:
        raise InputError(f"“{raw.strip()}” has no server name in it.")
    host = host.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InputError(f"“{host}” is not a valid server name.") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise InputError(f"“{host}” is not a valid server name.")
    return ascii_host


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def host_of(url: str) -> str:
    return urlsplit(url).netloc


# --- requests and errors --------------------------------------------------------------------------


async def xrpc(
    http: httpx.AsyncClient,
    method: str,
    base: str,
    nsid: str,
    *,
    now: float,
    token: str | None = None,
    ok: tuple[int, ...] = (200,),
    **kwargs: Any,
) -> httpx.Response:
    """One XRPC call (``{base}/xrpc/{nsid}``); every failure is a classified DeliveryError.

    A GET (a query) never changes anything, so "no answer after sending" is only transient for
    it; for a procedure it is an unknown outcome the caller reconciles.
    """
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "application/json")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = await http.request(method, f"{base}/xrpc/{nsid}", headers=headers, **kwargs)
    except httpx.TransportError as exc:
        error = transport_error(exc, host_of(base))
        if method == "GET" and isinstance(error, UnknownOutcome):
            error = TransientError(str(error))
        raise error from None
    if response.status_code in ok:
        return response
    raise classify_response(response, now)


def transport_error(exc: httpx.TransportError, host: str) -> DeliveryError:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return TransientError(
            f"The security certificate of {host} could not be verified, so Staffetta did not "
            "connect (it never skips this check). It will try again later."
        )
    return classify_transport_error(exc, f"{PLATFORM} ({host})")


def error_of(response: httpx.Response) -> tuple[str, str]:
    """``(error name, message)`` of an XRPC error reply; empty strings when it has none."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        return str(payload.get("error") or "").strip(), str(payload.get("message") or "").strip()
    return "", ""


def error_message(response: httpx.Response) -> str:
    """The server's own words, for the user: the message, else the error name, else the status."""
    name, message = error_of(response)
    if message or name:
        return message or name
    content_type = response.headers.get("content-type", "")
    text = response.text.strip() if "html" not in content_type else ""
    if text and len(text) <= 200 and "\n" not in text:
        return text
    return response.reason_phrase or f"HTTP {response.status_code}"


# Error names that mean the account (not the post) needs the user.
_ACCOUNT_ERRORS = frozenset(
    {"AccountTakedown", "AccountDeactivated", "AccountSuspended", "InvalidToken", "BadTokenScope"}
)


def is_expired_token(response: httpx.Response) -> bool:
    """The reference PDS answers an expired access JWT with 400 ``ExpiredToken`` (not 401)."""
    return response.status_code in (400, 401) and error_of(response)[0] == "ExpiredToken"


def classify_response(response: httpx.Response, now: float) -> DeliveryError:
    """XRPC error statuses, in terms the engine acts on."""
    status = response.status_code
    name, _ = error_of(response)
    message = error_message(response)
    if status == 429 or name == "RateLimitExceeded":
        return RateLimited(
            f"Bluesky asked to slow down: {message}", retry_after_seconds(response, now)
        )
    if status == 401 or name in _ACCOUNT_ERRORS or name == "ExpiredToken":
        return AuthError(
            f"Bluesky refused this account's sign-in — reconnect it with a new app password. "
            f"(Bluesky said: {message})"
        )
    if status == 403:
        return PermanentError(f"Bluesky does not allow this: {message}")
    if status in (408, 425) or (status >= 500 and status != 501):
        return TransientError(
            f"Bluesky is having trouble (HTTP {status}): {message}",
            retry_after_seconds(response, now),
        )
    if status == 501:
        return PermanentError(f"This Bluesky server does not support the request: {message}")
    return PermanentError(f"Bluesky refused the post: {message}")


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise TransientError(f"Bluesky sent an unreadable reply for {what}.")
    return payload


# --- JWTs ---------------------------------------------------------------------------------------


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (epoch seconds), read without verifying it; None if absent.

    Only used to refresh a session before the server would refuse it: the server stays the judge.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return float(exp)
    return None


# --- record keys --------------------------------------------------------------------------------

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_PATTERN = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def make_tid(micros: int, clock_id: int) -> str:
    """A TID: 53 bits of microseconds since the epoch and a 10-bit clock id, big-endian, in
    base32-sortable (13 characters; the top bit is always 0, so the first is ``2``–``j``)."""
    if not 0 <= micros < 1 << 53 or not 0 <= clock_id < 1 << 10:
        raise ValueError("a TID needs 0 <= micros < 2**53 and 0 <= clock_id < 1024")
    value = (micros << 10) | clock_id
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in range(12, -1, -1))


def parse_tid(tid: str) -> tuple[int, int]:
    """``(micros, clock_id)`` of a TID; ValueError when it is not one."""
    if not TID_PATTERN.fullmatch(tid):
        raise ValueError(f"{tid!r} is not a TID")
    value = 0
    for char in tid:
        value = value << 5 | _TID_ALPHABET.index(char)
    return value >> 10, value & 1023


def delivery_rkey(not_before: float, delivery_id: int, idempotency_key: str, part: int = 0) -> str:
    """The record key of one post (or thread part) of a delivery, fixed from the moment it is
    queued: the same delivery always gets the same keys, so a resend can never make a copy.

    The time is the delivery's ``not_before`` to the millisecond with the delivery id in the
    microseconds, so two deliveries of one account differ unless queued for the same millisecond
    with ids 1000 apart; the clock id comes from the delivery's random idempotency key (plus the
    part number), which separates even those — and two Staffetta installs posting to one account.
    """
    millis = max(0, int(not_before * 1000))
    micros = millis * 1000 + delivery_id % 1000
    seed = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:2], "big")
    return make_tid(micros, (seed + part) % 1024)


def at_uri_parts(uri: str) -> tuple[str, str, str]:
    """``(repo, collection, rkey)`` of ``at://repo/collection/rkey``."""
    match = re.fullmatch(r"at://([^/]+)/([^/]+)/([^/]+)", uri)
    if not match:
        raise ValueError(f"{uri!r} is not a record URI")
    return match.group(1), match.group(2), match.group(3)


def web_url(handle_or_did: str, rkey: str) -> str:
    """Where people see the post in Bluesky's web app."""
    return f"https://bsky.app/profile/{handle_or_did}/post/{rkey}"


__all__ = [
    "DEFAULT_IMAGE_BYTES",
    "DEFAULT_PLC_URL",
    "DEFAULT_SERVICE",
    "MAX_GRAPHEMES",
    "MAX_TEXT_BYTES",
    "PLATFORM",
    "POST_COLLECTION",
    "at_uri_parts",
    "classify_response",
    "delivery_rkey",
    "error_message",
    "error_of",
    "is_expired_token",
    "jwt_expiry",
    "make_tid",
    "normalise_service_url",
    "parse_tid",
    "xrpc",
]
