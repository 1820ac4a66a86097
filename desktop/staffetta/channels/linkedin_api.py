"""Talking to LinkedIn's versioned REST API (Posts, Images) and its OAuth endpoints.

Facts from learn.microsoft.com/linkedin: every ``/rest`` call carries ``Linkedin-Version:
YYYYMM`` and ``X-Restli-Protocol-Version: 2.0.0``; a created post answers 201 with its URN in
the ``x-restli-id`` header; errors are ``{"status", "serviceErrorCode", "code", "message"}``
(``EXPIRED_ACCESS_TOKEN``, ``REVOKED_ACCESS_TOKEN``, ``ACCESS_DENIED``…); a repeat of a recent
post is refused with 422 "Content is a duplicate of urn:li:share:…"; daily quotas answer 429 with
no rate-limit headers. Sign-in is at ``www.linkedin.com/oauth/v2``; the member is read from the
OpenID Connect ``/v2/userinfo``.

``api_url`` (an account setting, empty in real use) points every address at one other server —
the Staffetta sandbox.
"""

from __future__ import annotations

import ipaddress
import re
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

PLATFORM = "LinkedIn"
# The one place the API version lives: LinkedIn supports each monthly version for about a year.
LINKEDIN_VERSION = "202605"
API = "https://api.linkedin.com"
OAUTH = "https://www.linkedin.com/oauth/v2"
WEB = "https://www.linkedin.com"
MEMBER_SCOPES = "openid profile w_member_social"
ORGANIZATION_SCOPE = "w_organization_social"
_DUPLICATE = re.compile(r"duplicate of (urn:li:[A-Za-z]+:\d+)")


@dataclass(frozen=True, slots=True)
class Endpoints:
    api: str
    oauth: str
    web: str

    @property
    def authorize(self) -> str:
        return f"{self.oauth}/authorization"

    @property
    def token(self) -> str:
        return f"{self.oauth}/accessToken"


def endpoints(api_url: str = "") -> Endpoints:
    raw = api_url.strip().rstrip("/")
    if not raw:
        return Endpoints(API, OAUTH, WEB)
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InputError("The LinkedIn API address must start with https:// (or be empty).")
    if parts.scheme == "http" and not _loopback(host):
        raise InputError(
            "The LinkedIn API address must use https:// unless it is on this computer."
        )
    return Endpoints(raw, f"{raw}/oauth/v2", raw)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def rest_headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Linkedin-Version": LINKEDIN_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }


def post_url(web: str, urn: str) -> str:
    return f"{web}/feed/update/{urn}/"


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    token: str,
    now: float,
    ok: tuple[int, ...] = (200, 201),
    rest: bool = True,
    **kwargs: Any,
) -> httpx.Response:
    """One call; failures come back as classified DeliveryErrors (a GET's lost answer is only
    transient: a read publishes nothing)."""
    headers = rest_headers(token) if rest else {"Authorization": f"Bearer {token}"}
    headers.update(kwargs.pop("headers", None) or {})
    try:
        response = await http.request(method, url, headers=headers, **kwargs)
    except httpx.TransportError as exc:
        error = classify_transport_error(exc, PLATFORM)
        if method == "GET" and isinstance(error, UnknownOutcome):
            error = TransientError(str(error))
        raise error from None
    if response.status_code in ok:
        return response
    raise classify(response, now)


def error_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        for key in ("message", "error_description", "error"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    text = response.text.strip() if "html" not in response.headers.get("content-type", "") else ""
    if text and len(text) <= 200 and "\n" not in text:
        return text
    return response.reason_phrase or f"HTTP {response.status_code}"


class DuplicatePost(PermanentError):
    """LinkedIn refused the post as a repeat of one it has: ``urn`` is that post."""

    def __init__(self, message: str, urn: str) -> None:
        super().__init__(message)
        self.urn = urn


def classify(response: httpx.Response, now: float) -> DeliveryError:
    status = response.status_code
    message = error_message(response)
    if status == 401:
        return AuthError(
            f"LinkedIn no longer accepts this account's sign-in — reconnect it. "
            f"(LinkedIn said: {message})"
        )
    if status == 403:
        return AuthError(
            f"LinkedIn does not let this app post for the account: check that the app has the "
            f"“Share on LinkedIn” product (and, for a page, that you administer it), then "
            f"reconnect. (LinkedIn said: {message})"
        )
    if status == 422:
        duplicate = _DUPLICATE.search(message)
        if duplicate:
            return DuplicatePost(f"LinkedIn already has this post: {message}", duplicate.group(1))
    if status == 429:
        return RateLimited(
            f"LinkedIn's daily limit for this app or member is used up: {message}",
            retry_after_seconds(response, now),
        )
    if status >= 500:
        return TransientError(
            f"LinkedIn is having trouble (HTTP {status}): {message}",
            retry_after_seconds(response, now),
        )
    return PermanentError(f"LinkedIn refused the post: {message}")


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise TransientError(f"LinkedIn sent an unreadable reply for {what}.")
    return payload
