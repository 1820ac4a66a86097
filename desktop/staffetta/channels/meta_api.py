"""Talking to Meta's Graph APIs (Facebook, Instagram, Threads): addresses, one request helper, and
what Meta's error replies mean for a delivery.

Facts from developers.facebook.com (Graph API error handling and rate limiting): an error is JSON
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "error_user_title",
"error_user_msg", "fbtrace_id"}}`` and its ``code`` says more than the HTTP status:

- 190 (and 102): the token expired or was revoked; 10 and 200-299: a permission is missing.
  Both need the user to sign in again, so they pause the account.
- 4, 17, 32, 613, 341 and 80001-80014: throttling (app, user, page, custom and
  business-use-case limits). ``X-Business-Use-Case-Usage`` may say when access comes back
  (``estimated_time_to_regain_access``, in minutes).
- 1, 2 or ``is_transient: true``: Meta's own trouble, try again.
- 506: a duplicate of a recent post (Facebook Pages): the channel looks for the post it repeats.
- 9007 / 2207027: a container is not ready to publish yet.

Every host (``graph.facebook.com``, ``graph.instagram.com``, ``graph.threads.net``, the sign-in
pages) is reached at ``https://<host><path>``; with an ``api_url`` (the Staffetta sandbox) at
``<api_url>/<host><path>`` instead, so one sandbox can play every Meta host.

Tokens go in the ``Authorization`` header, never in a URL we log or show. Messages are built from
Meta's reply only, and any secret that Meta echoes back is blanked.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
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

GRAPH_VERSION = "v25.0"  # Facebook and Instagram Graph API version, in one place
THREADS_VERSION = "v1.0"

FACEBOOK_GRAPH = "graph.facebook.com"
INSTAGRAM_GRAPH = "graph.instagram.com"
THREADS_GRAPH = "graph.threads.net"

AUTH_CODES = frozenset({102, 190, 10})
THROTTLING_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
DUPLICATE_CODE = 506
NOT_READY_CODES = frozenset({9007})
NOT_READY_SUBCODES = frozenset({2207027})
PUBLISH_LIMIT_SUBCODES = frozenset({2207042})
_ANY_STATUS = tuple(range(100, 600))


class DuplicatePost(PermanentError):
    """Meta refused the post as a duplicate of a recent one (Facebook error 506)."""


@dataclass(frozen=True, slots=True)
class GraphError:
    """Meta's error object, as read from a reply."""

    status: int
    code: int
    subcode: int
    message: str
    user_message: str
    kind: str
    transient: bool

    @property
    def words(self) -> str:
        """What to quote to the user: Meta's message for users when it gave one."""
        text = self.user_message or self.message or f"HTTP {self.status}"
        return text if len(text) <= 300 else text[:297] + "…"


# --- addresses ----------------------------------------------------------------------------------


def normalise_api_url(raw: str) -> str:
    """The sandbox base address (``""`` = Meta's real hosts). http:// only for this computer."""
    text = (raw or "").strip().rstrip("/")
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InputError(f"“{text}” is not a valid address.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(f"“{text}” is not a web address (it should start with https://).")
    if parts.scheme == "http" and not is_loopback(host):
        raise InputError(
            f"{host} must be reached over https://: plain http:// would send your tokens "
            "unencrypted, so Staffetta only allows it on this computer."
        )
    if parts.query or parts.fragment or parts.username:
        raise InputError(f"“{text}” should be a plain address, without “?”, “#” or a user name.")
    return text


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url(api_url: str, host: str, path: str) -> str:
    """``https://host/path``, or ``<api_url>/host/path`` when a sandbox stands in for Meta."""
    return f"{api_url}/{host}{path}" if api_url else f"https://{host}{path}"


def origin_key(api_url: str, host: str) -> str:
    """The circuit breaker's key for one Meta host."""
    return f"{api_url}/{host}" if api_url else host


# --- requests -----------------------------------------------------------------------------------


async def call(
    http: httpx.AsyncClient,
    method: str,
    address: str,
    *,
    platform: str,
    now: float,
    token: str | None = None,
    hide: tuple[str, ...] = (),
    ok: tuple[int, ...] = (200,),
    **kwargs: Any,
) -> httpx.Response:
    """One request; every failure comes back as a classified :class:`DeliveryError`.

    ``hide``: secrets sent in the request (an app secret in a query) that must never reach a
    message even if Meta repeats them. A read (GET) that got no answer is merely transient: it
    cannot have published anything.
    """
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "application/json")
    if token:
        headers["Authorization"] = f"Bearer {token}"
        hide = (*hide, token)
    try:
        response = await http.request(method, address, headers=headers, **kwargs)
    except httpx.TransportError as exc:
        error = classify_transport_error(exc, platform)
        if method == "GET" and isinstance(error, UnknownOutcome):
            error = TransientError(str(error))
        raise _scrubbed(error, hide) from None
    if response.status_code in ok:
        return response
    raise _scrubbed(classify(response, platform, now), hide)


async def call_json(
    http: httpx.AsyncClient,
    method: str,
    address: str,
    *,
    platform: str,
    now: float,
    what: str,
    **kwargs: Any,
) -> dict[str, Any]:
    """:func:`call`, then the reply's JSON object (an unreadable reply is transient)."""
    response = await call(http, method, address, platform=platform, now=now, **kwargs)
    return json_object(response, platform, what)


def json_object(response: httpx.Response, platform: str, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise TransientError(f"{platform} sent an unreadable reply for {what}.")
    return payload


def _scrubbed(error: DeliveryError, hide: tuple[str, ...]) -> DeliveryError:
    text = str(error)
    clean = text
    for secret in hide:
        if secret and len(secret) >= 6:
            clean = clean.replace(secret, "[hidden]")
    if clean == text:
        return error
    copy = type(error)(clean)
    if isinstance(error, TransientError) and isinstance(copy, TransientError):
        copy.retry_after = error.retry_after
    return copy


# --- errors -------------------------------------------------------------------------------------


def graph_error(response: httpx.Response) -> GraphError | None:
    """Meta's error object in ``response``, or None when the reply has none (an HTML 502...)."""
    try:
        payload = response.json()
    except ValueError:
        return None
    if not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    if error is None and "error_message" in payload:  # api.instagram.com's older shape
        text = str(payload.get("error_message") or "")
        kind = str(payload.get("error_type") or "")
        return GraphError(response.status_code, 0, 0, text, "", kind, False)
    if isinstance(error, str):  # the OAuth endpoints of Instagram and Threads, sometimes
        text = str(payload.get("error_description") or payload.get("error_message") or error)
        return GraphError(response.status_code, 0, 0, text, "", error, False)
    if not isinstance(error, Mapping):
        return None
    return GraphError(
        status=response.status_code,
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        message=str(error.get("message") or "").strip(),
        user_message=str(error.get("error_user_msg") or "").strip(),
        kind=str(error.get("type") or ""),
        transient=bool(error.get("is_transient")),
    )


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def classify(response: httpx.Response, platform: str, now: float) -> DeliveryError:
    """What Meta's error reply means for the delivery (the engine only looks at the type)."""
    error = graph_error(response)
    status = response.status_code
    if error is None:
        if status == 429:
            return RateLimited(
                f"{platform} asked to slow down (HTTP 429).", retry_after_seconds(response, now)
            )
        if status >= 500 or status in (408, 425):
            return TransientError(
                f"{platform} is having trouble (HTTP {status}).", retry_after_seconds(response, now)
            )
        if status == 401:
            return AuthError(f"{platform} refused the sign-in (HTTP 401) — reconnect the account.")
        return PermanentError(f"{platform} refused the request (HTTP {status}).")
    code, words = error.code, error.words
    if code in AUTH_CODES or 200 <= code <= 299 or (error.kind == "OAuthException" and code == 0):
        what = (
            "no longer accepts this account's sign-in"
            if code in (102, 190) or code == 0
            else "says Staffetta lacks a permission it needs"
        )
        return AuthError(f"{platform} {what} — reconnect the account. ({platform} said: {words})")
    if code in THROTTLING_CODES or status == 429 or error.subcode in PUBLISH_LIMIT_SUBCODES:
        wait = usage_wait(response) or retry_after_seconds(response, now)
        return RateLimited(f"{platform} asked to slow down: {words}", wait)
    if code == DUPLICATE_CODE:
        return DuplicatePost(f"{platform} refused it as a duplicate of a recent post: {words}")
    if code in NOT_READY_CODES or error.subcode in NOT_READY_SUBCODES:
        return TransientError(f"{platform} is still preparing the post: {words}", 10.0)
    if code in TRANSIENT_CODES or error.transient or status >= 500:
        return TransientError(
            f"{platform} is having trouble: {words}", retry_after_seconds(response, now)
        )
    return PermanentError(f"{platform} refused the post: {words}")


def usage_wait(response: httpx.Response) -> float | None:
    """Seconds until Meta lets the app call again, from ``X-Business-Use-Case-Usage``."""
    raw = response.headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes: list[float] = []
    for entries in usage.values() if isinstance(usage, dict) else []:
        for entry in entries if isinstance(entries, list) else []:
            value = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else 0
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                minutes.append(float(value))
    return math.ceil(max(minutes) * 60) if minutes else None


def timestamp(value: Any) -> float | None:
    """Epoch seconds of a Graph API time (``2026-01-02T03:04:05+0000``), or None."""
    if not isinstance(value, str):
        return None
    text = value.replace("Z", "+00:00")
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"  # Meta writes +0000
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None
