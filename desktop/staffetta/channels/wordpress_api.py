"""Talking to a WordPress site's REST API: where the API lives, one request helper, error reading.

Facts (developer.wordpress.org/rest-api, and WordPress's own source): the API index is
``/wp-json/`` on sites with pretty permalinks and ``/?rest_route=/`` on the others; every page
names it in a ``Link: <…>; rel="https://api.w.org/"`` header. Authentication with an application
password is HTTP Basic ``user:password``. Errors are JSON ``{"code", "message", "data":
{"status"}}``; a wrong password answers 401 (``incorrect_password``, or ``rest_not_logged_in``
when WordPress does not say which), a user without the right to post 401/403
``rest_cannot_create``, a bad field 400 ``rest_invalid_param`` with the offending ``params``.
"""

from __future__ import annotations

import html
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

PLATFORM = "WordPress"
API_LINK_REL = "https://api.w.org/"
_LINK = re.compile(r"<([^>]*)>\s*;([^,]*)")
# Codes that mean "these credentials cannot do this": reconnecting (or another user) fixes them.
_AUTH_CODES = frozenset(
    {
        "incorrect_password",
        "invalid_username",
        "invalid_email",
        "rest_not_logged_in",
        "rest_cannot_create",
        "rest_cannot_edit",
        "rest_cannot_create_term",
        "rest_cannot_view",
        "rest_forbidden",
        "rest_forbidden_context",
        "rest_forbidden_status",
        "rest_cannot_publish",
        "rest_cannot_assign_term",
        "application_passwords_disabled",
        "application_passwords_disabled_for_user",
    }
)


def route_url(api_root: str, route: str, params: Mapping[str, Any] | None = None) -> str:
    """The URL of ``route`` (``/wp/v2/posts``) under ``api_root``, with ``params`` added.

    ``api_root`` is ``https://site/wp-json`` or, on sites without pretty permalinks,
    ``https://site/?rest_route=``; the query is merged, never replaced.
    """
    if api_root.endswith("rest_route="):
        url = httpx.URL(api_root + route)
    else:
        url = httpx.URL(api_root.rstrip("/") + route)
    if params:
        url = url.copy_merge_params({k: v for k, v in params.items() if v is not None})
    return str(url)


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def api_link(response: httpx.Response) -> str | None:
    """The API root a page announces in its ``Link`` header, if any."""
    for header in response.headers.get_list("link"):
        for target, attributes in _LINK.findall(header):
            rels = re.findall(r'rel="?([^";]+)"?', attributes)
            if any(API_LINK_REL in rel.split() for rel in rels):
                return str(target)
    return None


# --- requests and errors ------------------------------------------------------------------------


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    now: float,
    auth: tuple[str, str] | None = None,
    ok: tuple[int, ...] = (200, 201),
    **kwargs: Any,
) -> httpx.Response:
    """One call; every failure comes back as a classified :class:`DeliveryError`.

    A read (GET) cannot publish anything, so "no answer after sending" is plain transient there.
    """
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "application/json")
    try:
        response = await http.request(
            method, url, headers=headers, auth=httpx.BasicAuth(*auth) if auth else None, **kwargs
        )
    except httpx.TransportError as exc:
        error = transport_error(exc)
        if method == "GET" and isinstance(error, UnknownOutcome):
            error = TransientError(str(error))
        raise error from None
    if response.status_code in ok:
        return response
    raise classify_response(response, now)


def transport_error(exc: httpx.TransportError) -> DeliveryError:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return TransientError(
            "The WordPress site's security certificate could not be verified, so Staffetta did "
            "not connect (it never skips this check). Once the site fixes its certificate, the "
            "post goes out."
        )
    return classify_transport_error(exc, PLATFORM)


def error_parts(response: httpx.Response) -> tuple[str, str]:
    """WordPress's ``code`` and ``message`` (with the invalid parameters, if any)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        code = str(payload.get("code") or "")
        message = html.unescape(str(payload.get("message") or "")).strip()
        data = payload.get("data")
        params = data.get("params") if isinstance(data, Mapping) else None
        if isinstance(params, Mapping) and params:
            details = "; ".join(f"{key}: {value}" for key, value in params.items())
            message = f"{message} ({details})" if message else details
        if code or message:
            return code, message or code
    content_type = response.headers.get("content-type", "")
    text = response.text.strip() if "html" not in content_type else ""
    if text and len(text) <= 200 and "\n" not in text:
        return "", text
    return "", response.reason_phrase or f"HTTP {response.status_code}"


def classify_response(response: httpx.Response, now: float) -> DeliveryError:
    """WordPress's error answers, in the terms the engine acts on."""
    status = response.status_code
    code, message = error_parts(response)
    said = f"(WordPress said: {message})"
    if status == 401 or (status == 403 and code in _AUTH_CODES):
        return AuthError(
            f"WordPress refused the user name or application password, or this user may not "
            f"publish — reconnect the account. {said}"
        )
    if status == 429:
        return RateLimited(
            f"WordPress asked to slow down: {message}", retry_after_seconds(response, now)
        )
    if status >= 500 or status in (408, 425):
        return TransientError(
            f"WordPress is having trouble (HTTP {status}): {message}",
            retry_after_seconds(response, now),
        )
    if status == 413:
        return PermanentError(
            f"The site refused the upload as too large (HTTP 413). Raise the site's upload limit "
            f"or use a smaller image. {said}"
        )
    if status == 404:
        return PermanentError(f"WordPress could not find it: {message}")
    if status == 403:
        return PermanentError(f"WordPress does not allow this: {message}")
    return PermanentError(f"WordPress refused the post: {message}")


def json_of(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientError(f"WordPress sent an unreadable reply for {what}.") from None


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    payload = json_of(response, what)
    if not isinstance(payload, dict):
        raise TransientError(f"WordPress sent an unexpected reply for {what}.")
    return payload


# --- finding the API ------------------------------------------------------------------------------


def _is_index(response: httpx.Response, now: float) -> bool:
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise classify_response(response, now)  # the site is there but not well: try later
    if response.status_code != 200:
        return False
    try:
        payload = response.json()
    except ValueError:
        return False
    return isinstance(payload, dict) and "wp/v2" in (payload.get("namespaces") or ())


async def discover_api_root(http: httpx.AsyncClient, site: str, *, now: float) -> str:
    """Where the site's REST API lives: ``/wp-json``, ``/?rest_route=`` or its ``Link`` header.

    Raises :class:`InputError` when the address holds no WordPress REST API, and the transient
    errors of :func:`request` when the site cannot be reached.
    """
    candidates = [f"{site}/wp-json", f"{site}/?rest_route="]
    for root in candidates:
        response = await request(http, "GET", route_url(root, "/"), now=now, ok=_ANY)
        if _is_index(response, now):
            return root
    page = await request(http, "GET", f"{site}/", now=now, ok=_ANY)
    announced = api_link(page)
    if announced:
        root = announced.rstrip("/")
        response = await request(http, "GET", route_url(root, "/"), now=now, ok=_ANY)
        if _is_index(response, now):
            return root
    raise InputError(
        f"No WordPress REST API answers at {host_of(site)}. Check the site's address; if it is "
        "a WordPress site, a security plugin may be blocking the REST API."
    )


_ANY = tuple(range(100, 600))
