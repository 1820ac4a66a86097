"""Talking to a Micropub endpoint (W3C Recommendation, 2017-05-23): requests, errors, queries.

- Errors are JSON ``{"error", "error_description"?}`` (§3.8): ``invalid_request`` 400,
  ``unauthorized`` 401, ``insufficient_scope`` 401, ``forbidden`` 403.
- ``q=config`` (§3.7.1) names the ``media-endpoint`` and the queries the server supports (``q``).
- ``q=source&url=…`` (§3.7.2) returns one post's properties; many servers also list recent posts
  with ``q=source`` and no URL (``{"items": [...]}``).
- Creating (§3.3) answers 201 or 202 with the post's URL in ``Location``; a media endpoint
  (§3.6) answers 201 with the file's URL in ``Location``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from staffetta.core.channel import classify_transport_error, retry_after_seconds
from staffetta.core.errors import (
    AuthError,
    DeliveryError,
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

PLATFORM = "Micropub"


def host_of(url: str) -> str:
    return urlsplit(url).netloc


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    now: float,
    token: str | None = None,
    ok: tuple[int, ...] = (200, 201, 202),
    accept: str = "application/json",
    **kwargs: Any,
) -> httpx.Response:
    """One call; every failure comes back as a classified :class:`DeliveryError`.

    A read (GET) cannot publish anything, so "no answer after sending" is plain transient there.
    """
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", accept)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = await http.request(method, url, headers=headers, **kwargs)
    except httpx.TransportError as exc:
        error = classify_transport_error(exc, f"the site at {host_of(url)}")
        if method == "GET" and isinstance(error, UnknownOutcome):
            error = TransientError(str(error))
        raise error from None
    if response.status_code in ok:
        return response
    raise classify_response(response, now)


def error_message(response: httpx.Response) -> str:
    """The server's own words: ``error_description`` (or ``error``), else a short text."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        error = str(payload.get("error") or "").strip()
        description = str(payload.get("error_description") or "").strip()
        if description:
            return f"{description} ({error})" if error and error not in description else description
        if error:
            return error
    content_type = response.headers.get("content-type", "")
    text = response.text.strip() if "html" not in content_type else ""
    if text and len(text) <= 200 and "\n" not in text:
        return text
    return response.reason_phrase or f"HTTP {response.status_code}"


def error_code(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    return str(payload.get("error") or "") if isinstance(payload, Mapping) else ""


def classify_response(response: httpx.Response, now: float) -> DeliveryError:
    status = response.status_code
    message = error_message(response)
    said = f"(The site said: {message})"
    if status == 401 or (
        status == 403 and error_code(response) in ("forbidden", "insufficient_scope")
    ):
        if error_code(response) == "insufficient_scope":
            return AuthError(
                f"The site's token may not create posts or upload images — reconnect the account "
                f"and allow both. {said}"
            )
        return AuthError(f"The site refused Staffetta's token — reconnect the account. {said}")
    if status == 429:
        return RateLimited(
            f"The site asked to slow down: {message}", retry_after_seconds(response, now)
        )
    if status >= 500 or status in (408, 425):
        return TransientError(
            f"The site's Micropub endpoint is having trouble (HTTP {status}): {message}",
            retry_after_seconds(response, now),
        )
    if status == 413:
        return PermanentError(f"The site refused the upload as too large. {said}")
    return PermanentError(f"The site refused the post: {message}")


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise TransientError(f"The site sent an unreadable reply for {what}.")
    return payload


def location(response: httpx.Response) -> str:
    """The absolute URL in ``Location`` (relative ones resolved against the request), or ``""``."""
    value = response.headers.get("location", "").strip()
    return urljoin(str(response.request.url), value) if value else ""


# --- queries --------------------------------------------------------------------------------------


async def config(
    http: httpx.AsyncClient, endpoint: str, token: str, *, now: float
) -> dict[str, Any]:
    """``q=config``; servers that do not support it (400) count as an empty configuration."""
    url = str(httpx.URL(endpoint).copy_merge_params({"q": "config"}))
    response = await request(http, "GET", url, now=now, token=token, ok=(200, 400))
    if response.status_code == 400:
        return {}
    return json_object(response, "the site's configuration")


def media_endpoint(found: Mapping[str, Any], endpoint: str) -> str:
    value = found.get("media-endpoint")
    return urljoin(endpoint, value) if isinstance(value, str) and value else ""


def supports_source(found: Mapping[str, Any]) -> bool:
    queries = found.get("q")
    return isinstance(queries, list) and "source" in queries


async def source(
    http: httpx.AsyncClient, endpoint: str, token: str, *, now: float, **params: str
) -> dict[str, Any] | None:
    """``q=source`` with ``params``: the answer, or None when the server says there is none
    (400/404: no such post, or no listing without a URL)."""
    url = str(httpx.URL(endpoint).copy_merge_params({"q": "source", **params}))
    response = await request(http, "GET", url, now=now, token=token, ok=(200, 400, 404))
    if response.status_code != 200:
        return None
    return json_object(response, "a post")
