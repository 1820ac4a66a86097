"""Talking to a Ghost site's Admin API: the key, a short-lived token per request, error reading.

Facts (docs.ghost.org/admin-api, and Ghost's own ``core/server/services/auth/api-key/admin.js``):
an Admin API key is ``<id>:<secret>``, the secret in hex. Every request carries
``Authorization: Ghost <token>``, a JWT signed HS256 with the secret's *bytes*, its header naming
the key (``kid``), its payload ``aud: "/admin/"`` with ``iat`` and ``exp`` at most 5 minutes apart.
Ghost refuses a token whose key it does not know (401 "Unknown Admin API Key"), a wrong
signature, a wrong audience or an expired token (401 "Invalid token: …"), and a token without
``kid`` (400). Errors are ``{"errors": [{"message", "context", "type", "code", …}]}``.

The token is written here with the standard library (``hmac``, ``hashlib``, ``base64``, ``json``):
HS256 over two small JSON objects is a dozen lines, fully specified by RFC 7515/7519, and checked
against the real Ghost's verification in the tests — not worth a new runtime dependency.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

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

PLATFORM = "Ghost"
ADMIN_PATH = "/ghost/api/admin"
# The Admin API version Staffetta is written against: what it uses exists since Ghost 5.0.
ACCEPT_VERSION = "v5.0"
TOKEN_LIFETIME = 300  # seconds: Ghost refuses tokens older than 5 minutes
_KEY = re.compile(r"([0-9a-f]{1,64}):([0-9a-f]{2,256})")
# Ghost's error codes that mean "this key cannot be used": reconnecting fixes them.
_AUTH_CODES = frozenset(
    {
        "INVALID_JWT",
        "MISSING_ADMIN_API_KID",
        "INVALID_AUTH_HEADER",
        "UNKNOWN_ADMIN_API_KEY",
        "INVALID_API_KEY_TYPE",
    }
)


# --- the key and its tokens -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminKey:
    """An Admin API key: ``id`` names it (the token's ``kid``), ``secret`` signs the tokens."""

    id: str
    secret: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str | None) -> AdminKey:
        """``<id>:<hex secret>`` as Ghost shows it, or :class:`InputError` saying what is wrong."""
        raw = "".join((text or "").split()).lower()
        if not raw:
            raise InputError(
                "Paste the Admin API key of a custom integration (Ghost Admin → Settings → "
                "Integrations → Add custom integration)."
            )
        match = _KEY.fullmatch(raw)
        if not match or len(match.group(2)) % 2:
            raise InputError(
                "That is not a Ghost Admin API key: it looks like two parts joined by a colon, "
                "<id>:<secret>, in letters a–f and digits. The Content API key does not work "
                "here: copy the Admin API key."
            )
        return cls(match.group(1), bytes.fromhex(match.group(2)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def admin_token(key: AdminKey, now: float) -> str:
    """A JWT for one request: HS256, ``kid`` = the key's id, ``aud`` = ``/admin/``, 5 minutes."""
    issued = int(now)
    header = {"alg": "HS256", "typ": "JWT", "kid": key.id}
    payload = {"iat": issued, "exp": issued + TOKEN_LIFETIME, "aud": "/admin/"}
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode("utf-8")) for part in (header, payload)
    )
    signature = hmac.new(key.secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


# --- addresses ------------------------------------------------------------------------------------


def admin_url(site: str, route: str, params: Mapping[str, Any] | None = None) -> str:
    """``https://site/ghost/api/admin/<route>/`` with ``params`` (Ghost's routes end in ``/``)."""
    path = route.strip("/")
    url = httpx.URL(f"{site.rstrip('/')}{ADMIN_PATH}/{path}/" if path else f"{site}{ADMIN_PATH}/")
    if params:
        url = url.copy_merge_params({k: v for k, v in params.items() if v is not None})
    return str(url)


def segment(value: str) -> str:
    """One path segment (a slug or an id), percent-encoded."""
    return quote(value, safe="")


def host_of(url: str) -> str:
    return urlsplit(url).netloc


# --- requests and errors --------------------------------------------------------------------------


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    now: float,
    key: AdminKey | None,
    ok: tuple[int, ...] = (200, 201),
    **kwargs: Any,
) -> httpx.Response:
    """One call (signed with a fresh token when ``key`` is given); every failure comes back as a
    classified :class:`DeliveryError`.

    A read (GET) cannot publish anything, so "no answer after sending" is plain transient there.
    """
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "application/json")
    headers["Accept-Version"] = ACCEPT_VERSION
    if key is not None:
        headers["Authorization"] = f"Ghost {admin_token(key, now)}"
    try:
        response = await http.request(method, url, headers=headers, **kwargs)
    except (httpx.TransportError, httpx.DecodingError) as exc:
        error = transport_error(exc)
        if method == "GET" and isinstance(error, UnknownOutcome):
            error = TransientError(str(error))
        raise error from None
    if response.status_code in ok:
        return response
    raise classify_response(response, now)


def transport_error(exc: httpx.TransportError | httpx.DecodingError) -> DeliveryError:
    if isinstance(exc, httpx.DecodingError):
        # The request was handled, but its answer arrived garbled.
        return UnknownOutcome(f"Ghost's answer could not be read ({exc}).")
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return TransientError(
            "The Ghost site's security certificate could not be verified, so Staffetta did not "
            "connect (it never skips this check). Once the site fixes its certificate, the post "
            "goes out."
        )
    return classify_transport_error(exc, PLATFORM)


def error_parts(response: httpx.Response) -> tuple[str, str]:
    """Ghost's error ``code`` and its message (with the ``context`` that says which field)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    errors = payload.get("errors") if isinstance(payload, Mapping) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, Mapping):
        code = str(first.get("code") or first.get("type") or "")
        message = str(first.get("message") or "").strip()
        context = str(first.get("context") or "").strip()
        if context and context != message:
            message = f"{message} {context}".strip()
        if message or code:
            return code, message or code
    content_type = response.headers.get("content-type", "")
    text = response.text.strip() if "html" not in content_type else ""
    if text and len(text) <= 200 and "\n" not in text:
        return "", text
    return "", response.reason_phrase or f"HTTP {response.status_code}"


def classify_response(response: httpx.Response, now: float) -> DeliveryError:
    """Ghost's error answers, in the terms the engine acts on."""
    status = response.status_code
    code, message = error_parts(response)
    said = f"(Ghost said: {message})"
    if status in (401, 403) or code in _AUTH_CODES:
        hint = ""
        if "expired" in message or "maxAge" in message:
            hint = " If the key is right, check that this computer's clock is set correctly."
        return AuthError(
            f"Ghost refused the Admin API key, or this key may not do this — reconnect the "
            f"account with the Admin API key of a custom integration.{hint} {said}"
        )
    if status == 429:
        return RateLimited(
            f"Ghost asked to slow down: {message}", retry_after_seconds(response, now)
        )
    if status >= 500 or status in (408, 425):
        return TransientError(
            f"Ghost is having trouble (HTTP {status}): {message}",
            retry_after_seconds(response, now),
        )
    if 300 <= status < 400:
        where = response.headers.get("location", "")
        return PermanentError(
            f"Ghost's API answered from another address ({where or f'HTTP {status}'}): enter the "
            "address Ghost shows next to the Admin API key as the site's address."
        )
    if status == 409:
        # UpdateCollisionError: the post changed since we read it; reading it again fixes it.
        return TransientError(f"Ghost says the post changed meanwhile: {message}")
    if status == 413:
        return PermanentError(
            f"The site refused the upload as too large (HTTP 413). Use a smaller image. {said}"
        )
    if status == 404:
        return PermanentError(f"Ghost could not find it: {message}")
    if status == 422:
        return PermanentError(f"Ghost refused the post: {message}")
    return PermanentError(f"Ghost refused the request: {message}")


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        raise TransientError(f"Ghost sent an unreadable reply for {what}.") from None
    if not isinstance(payload, dict):
        raise TransientError(f"Ghost sent an unexpected reply for {what}.")
    return payload


def first_of(response: httpx.Response, resource: str, what: str) -> dict[str, Any]:
    """The one entity in ``{"<resource>": [entity]}``, as Ghost answers reads and writes."""
    items = json_object(response, what).get(resource)
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        raise TransientError(f"Ghost's reply for {what} held no {resource}.")
    return dict(items[0])
