"""Talking to the X API v2: addresses, one request helper, the rate-limit headers, error reading.

Facts from docs.x.com: the API is ``https://api.x.com/2/...``; users sign in at
``https://x.com/i/oauth2/authorize`` and tokens come from ``POST /2/oauth2/token``; errors are
problem objects ``{"title", "detail", "type", "status"}`` (older ones ``{"errors": [{"code",
"message"}]}``); every answer carries ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and
``x-rate-limit-reset`` (epoch seconds), and 429 means the window is used up. Posting the same text
twice in a row is refused with 403 "You are not allowed to create a Tweet with duplicate content".

``api_url`` (an account setting, empty in real use) points every address at one other server —
the Staffetta sandbox.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
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

PLATFORM = "X"
API = "https://api.x.com"
AUTHORIZE = "https://x.com/i/oauth2/authorize"
WEB = "https://x.com"
SCOPES = "tweet.read tweet.write users.read media.write offline.access"
MAX_WEIGHT = 280
MAX_MEDIA = 4
IMAGE_BYTES = 5 * 1024 * 1024
ALT_CHARS = 1000
_ANY = tuple(range(100, 600))


@dataclass(frozen=True, slots=True)
class Endpoints:
    api: str  # https://api.x.com
    authorize: str
    web: str  # where posts are shown: https://x.com/<user>/status/<id>

    @property
    def token(self) -> str:
        return f"{self.api}/2/oauth2/token"


def endpoints(api_url: str = "") -> Endpoints:
    """X's own addresses, or all of them under ``api_url`` (a sandbox on this computer)."""
    raw = api_url.strip().rstrip("/")
    if not raw:
        return Endpoints(API, AUTHORIZE, WEB)
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InputError("The X API address must start with https:// (leave it empty for X).")
    if parts.scheme == "http" and not _loopback(host):
        raise InputError("The X API address must use https:// unless it is on this computer.")
    return Endpoints(raw, f"{raw}/i/oauth2/authorize", raw)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RateLimits:
    """The last ``x-rate-limit-*`` headers seen per (account, endpoint), so a request that X
    would refuse with 429 waits for the window's reset instead of being sent."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, float]] = {}

    def note(self, key: tuple[str, str], response: httpx.Response) -> None:
        remaining = response.headers.get("x-rate-limit-remaining")
        reset = response.headers.get("x-rate-limit-reset")
        if remaining is None or reset is None:
            return
        try:
            self._windows[key] = (int(remaining), float(reset))
        except ValueError:
            return

    def check(self, key: tuple[str, str], now: float) -> None:
        """Raise :class:`RateLimited` when the last answer said the window is used up."""
        window = self._windows.get(key)
        if window is None:
            return
        remaining, reset = window
        if remaining > 0 or reset <= now:
            return
        raise RateLimited(
            f"X's limit for this is used up until its window resets "
            f"(in {max(1, round(reset - now))} s); it goes out then.",
            reset - now,
        )


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    token: str,
    now: float,
    limits: RateLimits | None = None,
    limit_key: tuple[str, str] | None = None,
    ok: tuple[int, ...] = (200, 201),
    **kwargs: Any,
) -> httpx.Response:
    """One authenticated call; every failure comes back as a classified DeliveryError.

    A GET can never publish anything, so "no answer after sending" is just transient for it.
    """
    if limits is not None and limit_key is not None:
        limits.check(limit_key, now)
    headers = dict(kwargs.pop("headers", None) or {})
    headers["Authorization"] = f"Bearer {token}"
    try:
        response = await http.request(method, url, headers=headers, **kwargs)
    except httpx.TransportError as exc:
        error = classify_transport_error(exc, PLATFORM)
        if method == "GET" and isinstance(error, UnknownOutcome):
            error = TransientError(str(error))
        raise error from None
    if limits is not None and limit_key is not None:
        limits.note(limit_key, response)
    if response.status_code in ok:
        return response
    raise classify(response, now)


def error_message(response: httpx.Response) -> str:
    """X's own words: a problem's ``detail`` (or ``title``), or the first ``errors[].message``."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        for key in ("detail", "title", "error_description", "error"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        errors = payload.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            message = errors[0].get("message") or errors[0].get("detail")
            if isinstance(message, str) and message.strip():
                return message.strip()
    text = response.text.strip() if "html" not in response.headers.get("content-type", "") else ""
    if text and len(text) <= 200 and "\n" not in text:
        return text
    return response.reason_phrase or f"HTTP {response.status_code}"


class DuplicateContent(PermanentError):
    """X refused the post as a duplicate of a recent one: it may already be there."""


def is_duplicate(message: str) -> bool:
    return "duplicate content" in message.lower()


def classify(response: httpx.Response, now: float) -> DeliveryError:
    status = response.status_code
    message = error_message(response)
    if status == 401:
        return AuthError(f"X refused the sign-in — reconnect the account. (X said: {message})")
    if status == 403:
        if is_duplicate(message):
            return DuplicateContent(f"X refused it as a duplicate of a recent post: {message}")
        lowered = message.lower()
        if any(w in lowered for w in ("scope", "not permitted to perform")):
            return AuthError(
                f"X does not let this app post for the account — check the app's permissions "
                f"(Read and write) and reconnect. (X said: {message})"
            )
        return PermanentError(f"X does not allow this: {message}")
    if status == 429:
        return RateLimited(f"X asked to slow down: {message}", retry_after_seconds(response, now))
    if status >= 500:
        return TransientError(
            f"X is having trouble (HTTP {status}): {message}", retry_after_seconds(response, now)
        )
    if status in (408, 425):
        return TransientError(f"X said: {message}", retry_after_seconds(response, now))
    return PermanentError(f"X refused the post: {message}")


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise TransientError(f"X sent an unreadable reply for {what}.")
    return payload


def data_of(response: httpx.Response, what: str) -> dict[str, Any]:
    data = json_object(response, what).get("data")
    if not isinstance(data, dict):
        raise TransientError(f"X's reply for {what} had no data.")
    return data


def post_url(web: str, username: str, post_id: str) -> str:
    user = username.lstrip("@") or "i/web"
    return f"{web}/{user}/status/{post_id}"


ANY_STATUS = _ANY
