"""Talking to a Listmonk server: one request helper and Listmonk's errors in the engine's terms.

Facts from Listmonk's documentation (docs/apis) and source: API users authenticate with
``Authorization: token <api user>:<token>``; answers are ``{"data": ...}``; errors are
``{"message": "..."}`` with the HTTP status — 403 for unknown credentials (``invalid API
credentials``) and for missing permissions (``permission denied: campaigns:manage``), 400 for
bad values, 404, 429 without headers, 5xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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

PLATFORM = "Listmonk"


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    user: str,
    token: str,
    now: float,
    ok: tuple[int, ...] = (200,),
    **kwargs: Any,
) -> httpx.Response:
    """One call; every failure comes back as a classified :class:`DeliveryError`. A read that
    got no answer is transient (it cannot have changed anything)."""
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "application/json")
    headers["Authorization"] = f"token {user}:{token}"
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
    if isinstance(payload, Mapping) and str(payload.get("message") or "").strip():
        return str(payload["message"]).strip()
    text = response.text.strip() if "html" not in response.headers.get("content-type", "") else ""
    if text and len(text) <= 200 and "\n" not in text:
        return text
    return response.reason_phrase or f"HTTP {response.status_code}"


def classify(response: httpx.Response, now: float) -> DeliveryError:
    status = response.status_code
    message = error_message(response)
    if status in (401, 403):
        return AuthError(
            f"Listmonk refused the API user or token, or does not let it do this — reconnect "
            f"the account with an API user allowed to manage campaigns and media. (Listmonk "
            f"said: {message})"
        )
    if status == 429:
        return RateLimited(
            f"Listmonk asked to slow down: {message}", retry_after_seconds(response, now)
        )
    if status >= 500 or status in (408, 425):
        return TransientError(
            f"Listmonk is having trouble (HTTP {status}): {message}",
            retry_after_seconds(response, now),
        )
    if status == 404:
        return PermanentError(f"Listmonk could not find it: {message}")
    return PermanentError(f"Listmonk refused the campaign: {message}")


def data_of(response: httpx.Response, what: str) -> Any:
    """The ``data`` of a Listmonk answer."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or "data" not in payload:
        raise TransientError(f"Listmonk sent an unreadable reply for {what}.")
    return payload["data"]


def object_of(response: httpx.Response, what: str) -> dict[str, Any]:
    data = data_of(response, what)
    if not isinstance(data, dict):
        raise TransientError(f"Listmonk sent an unreadable reply for {what}.")
    return data
