"""Talking to Buttondown's API: one request helper and Buttondown's errors in the engine's terms.

Facts from Buttondown's documentation (docs.buttondown.com and its OpenAPI description): requests
carry ``Authorization: Token <api key>``; errors are ``{"code", "detail", "metadata"}``, or a
422 ``{"detail": [{"type", "loc", "msg"}]}`` for a body that does not fit the schema; a key
without the permission an action needs gets 403; 429 comes with ``Retry-After`` and
``X-RateLimit-Reset`` (Unix seconds); ``X-Idempotency-Key`` (at most 200 characters) makes any
request replay its first response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from staffetta.channels.owned_common import normalise_site_url
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

PLATFORM = "Buttondown"
DEFAULT_API = "https://api.buttondown.com"
MAX_KEY_LENGTH = 200


def api_base(raw: str) -> str:
    """``https://api.buttondown.com/v1`` or the address given (a sandbox on this computer)."""
    return normalise_site_url(raw or DEFAULT_API, "Buttondown API") + "/v1"


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    api_key: str,
    now: float,
    ok: tuple[int, ...] = (200, 201),
    **kwargs: Any,
) -> httpx.Response:
    """One call; every failure comes back as a classified :class:`DeliveryError`.

    A read can never send anything, so "no answer after sending" is only an unknown outcome for
    writes.
    """
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "application/json")
    headers["Authorization"] = f"Token {api_key}"
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
    """Buttondown's own words: ``detail`` (with its ``code``), or the 422 field errors."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        detail = payload.get("detail")
        code = str(payload.get("code") or "").strip()
        if isinstance(detail, list):
            fields = []
            for item in detail:
                if isinstance(item, Mapping):
                    where = ".".join(str(part) for part in item.get("loc") or [] if part != "body")
                    text = str(item.get("msg") or "").strip()
                    fields.append(f"{where}: {text}" if where else text)
            if fields:
                return "; ".join(fields)
        if isinstance(detail, str) and detail.strip():
            return f"{detail.strip()} ({code})" if code else detail.strip()
        if code:
            return code
    text = response.text.strip() if "html" not in response.headers.get("content-type", "") else ""
    if text and len(text) <= 200 and "\n" not in text:
        return text
    return response.reason_phrase or f"HTTP {response.status_code}"


def classify(response: httpx.Response, now: float) -> DeliveryError:
    status = response.status_code
    message = error_message(response)
    if status == 401:
        return AuthError(
            f"Buttondown refused the API key — reconnect the account with a current key. "
            f"(Buttondown said: {message})"
        )
    if status == 403:
        return AuthError(
            f"This Buttondown API key is not allowed to do this — reconnect the account with a "
            f"key that has e-mail (and, to send, sending) access. (Buttondown said: {message})"
        )
    if status == 409:
        return PermanentError(
            f"Buttondown refused a request it had seen before with other content ({message}). "
            "Check the drafts and sent e-mails on Buttondown before sending this post again."
        )
    if status == 429:
        return RateLimited(
            f"Buttondown asked to slow down: {message}", retry_after_seconds(response, now)
        )
    if status >= 500 or status in (408, 425):
        return TransientError(
            f"Buttondown is having trouble (HTTP {status}): {message}",
            retry_after_seconds(response, now),
        )
    if status == 404:
        return PermanentError(f"Buttondown could not find it: {message}")
    return PermanentError(f"Buttondown refused the e-mail: {message}")


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise TransientError(f"Buttondown sent an unreadable reply for {what}.")
    return payload
