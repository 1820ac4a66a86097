"""Talking to a Mastodon server: instance URLs, one request helper, error reading, instance limits.

Facts from docs.joinmastodon.org: errors are JSON ``{"error", "error_description"?}`` and the HTTP
status is authoritative; ``X-RateLimit-Reset`` is an ISO 8601 timestamp; ``GET /api/v2/instance``
holds ``configuration.statuses`` and ``configuration.media_attachments``; older servers (and
several Mastodon-API servers) only have ``/api/v1/instance``, some with ``max_toot_chars``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from staffetta.core.channel import classify_status, classify_transport_error, retry_after_seconds
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

PLATFORM = "Mastodon"

# Mastodon's defaults, used until the instance tells us its own.
DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_WEIGHT = 23
DEFAULT_MAX_MEDIA = 4
DEFAULT_IMAGE_BYTES = 16 * 1024 * 1024
DEFAULT_IMAGE_PIXELS = 33_177_600
DEFAULT_DESCRIPTION_LIMIT = 1500

_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_HANDLE_LIKE = re.compile(r"@?[^@/\s]+@([^@/\s]+)")


# --- instance URLs ------------------------------------------------------------------------------


def normalise_instance_url(raw: str) -> str:
    """``mastodon.social`` -> ``https://mastodon.social``; refuse what cannot be a safe server URL.

    Keeps a path prefix (``https://example.org/social``), drops a trailing slash, lower-cases the
    host and turns international names into their ASCII form. Plain ``http://`` is only accepted
    for this computer (127.0.0.0/8, ::1, localhost): anywhere else the token would cross the
    network in clear text.
    """
    text = (raw or "").strip()
    if not text:
        raise InputError("Enter your Mastodon server's address, for example mastodon.social.")
    if "://" not in text:
        handle = _HANDLE_LIKE.fullmatch(text)
        if handle:
            raise InputError(
                f"“{text}” looks like a handle. Enter only the server's address, "
                f"for example {handle.group(1)}."
            )
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InputError(f"“{raw.strip()}” is not a valid server address.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise InputError(
            f"“{raw.strip()}” is not a web address: a Mastodon server's address starts with "
            "https:// (or just type its name, like mastodon.social)."
        )
    if parts.username is not None or parts.password is not None:
        raise InputError("Leave the user name out of the server address (no “user@” part).")
    if parts.query or parts.fragment:
        raise InputError("Enter only the server's address, without “?” or “#” parts.")
    host = _normalise_host(parts.hostname or "", raw)
    if scheme == "http" and not is_loopback_host(host):
        raise InputError(
            f"{host} must be reached over https://. Plain http:// would send your access token "
            "unencrypted, so Staffetta only allows it for a server on this computer."
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    return f"{scheme}://{netloc}{path}"


def _normalise_host(host: str, raw: str) -> str:
    if not host:
        raise InputError(f"“{raw.strip()}” has no server name in it.")
    host = host.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.isascii():  # what IDNA gives back; the label checks below refuse what it would refuse
        ascii_host = host
    else:
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InputError(f"“{host}” is not a valid server name.") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise InputError(f"“{host}” is not a valid server name.")
    if len(labels) == 1 and ascii_host != "localhost":
        raise InputError(
            f"“{host}” is not a complete server name. Enter it the way it appears in your "
            "handle, for example mastodon.social."
        )
    return ascii_host


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_of(instance_url: str) -> str:
    parts = urlsplit(instance_url)
    return f"{parts.scheme}://{parts.netloc}"


def host_of(instance_url: str) -> str:
    return urlsplit(instance_url).netloc


# --- requests and errors ------------------------------------------------------------------------


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    now: float,
    token: str | None = None,
    ok: tuple[int, ...] = (200,),
    **kwargs: Any,
) -> httpx.Response:
    """One call to the server; every failure comes back as a classified :class:`DeliveryError`.

    Reads (GET) can never publish anything, so for them "no answer after sending" is just a
    transient failure, not an unknown outcome.
    """
    headers = dict(kwargs.pop("headers", None) or {})
    headers.setdefault("Accept", "application/json")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = await http.request(method, url, headers=headers, **kwargs)
    except httpx.TransportError as exc:
        error = _transport_error(exc)
        if method == "GET" and isinstance(error, UnknownOutcome):
            error = TransientError(str(error))
        raise error from None
    if response.status_code in ok:
        return response
    raise classify_response(response, now)


def _transport_error(exc: httpx.TransportError) -> DeliveryError:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return TransientError(
            "The Mastodon server's security certificate could not be verified, so Staffetta did "
            "not connect (it never skips this check). If the server's certificate has expired, "
            "it will go out once the server fixes it."
        )
    return classify_transport_error(exc, PLATFORM)


def error_message(response: httpx.Response) -> str:
    """The server's own words: ``error`` and ``error_description`` from JSON, else short text."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        error = str(payload.get("error") or "").strip()
        description = str(payload.get("error_description") or "").strip()
        if error and description and description != error:
            return f"{error} ({description})" if len(error) < 40 else f"{error}: {description}"
        if error or description:
            return error or description
    content_type = response.headers.get("content-type", "")
    text = response.text.strip() if "html" not in content_type else ""
    if text and len(text) <= 200 and "\n" not in text:
        return text
    return response.reason_phrase or f"HTTP {response.status_code}"


def classify_response(response: httpx.Response, now: float) -> DeliveryError:
    """Mastodon's error statuses, in terms the engine acts on."""
    status = response.status_code
    message = error_message(response)
    if status == 401:
        return AuthError(
            f"Mastodon refused the access token — reconnect the account. (Mastodon said: {message})"
        )
    if status == 403:
        lowered = message.lower()
        token_problem = ("revoked", "invalid_token", "access token", "authorized scopes")
        if any(words in lowered for words in token_problem):
            return AuthError(
                f"Mastodon no longer accepts this account's access token — reconnect the account. "
                f"(Mastodon said: {message})"
            )
        return PermanentError(f"Mastodon does not allow this: {message}")
    if status == 404:
        return PermanentError(f"Mastodon could not find it: {message}")
    if status == 422:
        if "finished processing" in message:
            # Media still being processed: asking again in a moment works.
            return TransientError(f"Mastodon said: {message}", 5.0)
        return PermanentError(f"Mastodon refused the post: {message}")
    if status == 429:
        return RateLimited(
            f"Mastodon asked to slow down: {message}", retry_after_seconds(response, now)
        )
    if status >= 500:
        return TransientError(
            f"Mastodon is having trouble (HTTP {status}): {message}",
            retry_after_seconds(response, now),
        )
    return classify_status(response, PLATFORM, message, now)


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise TransientError(f"Mastodon sent an unreadable reply for {what}.")
    return payload


# --- instance settings --------------------------------------------------------------------------


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None


def parse_instance(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The limits an instance announces, as account settings (v2 or v1 shape)."""
    configuration = payload.get("configuration")
    config: Mapping[str, Any] = configuration if isinstance(configuration, Mapping) else {}
    statuses = config.get("statuses") if isinstance(config.get("statuses"), Mapping) else {}
    media = (
        config.get("media_attachments")
        if isinstance(config.get("media_attachments"), Mapping)
        else {}
    )
    assert isinstance(statuses, Mapping)
    assert isinstance(media, Mapping)
    found: dict[str, Any] = {
        "max_characters": _positive_int(statuses.get("max_characters"))
        or _positive_int(payload.get("max_toot_chars")),  # Pleroma, glitch-soc, old servers
        "characters_reserved_per_url": _positive_int(statuses.get("characters_reserved_per_url")),
        "max_media_attachments": _positive_int(statuses.get("max_media_attachments")),
        "image_size_limit": _positive_int(media.get("image_size_limit")),
        "image_matrix_limit": _positive_int(media.get("image_matrix_limit")),
        "description_limit": _positive_int(media.get("description_limit")),
    }
    mime_types = media.get("supported_mime_types")
    if isinstance(mime_types, list) and all(isinstance(m, str) for m in mime_types):
        found["supported_mime_types"] = [m for m in mime_types if m.startswith("image/")]
    domain = payload.get("domain") or payload.get("uri")
    if isinstance(domain, str) and domain:
        found["domain"] = domain.removeprefix("https://").removeprefix("http://").rstrip("/")
    version = payload.get("version")
    if isinstance(version, str):
        found["server_version"] = version
    return {key: value for key, value in found.items() if value is not None}


async def fetch_instance_settings(
    http: httpx.AsyncClient, instance_url: str, *, now: float
) -> dict[str, Any]:
    """The instance's limits (``/api/v2/instance``, or ``/api/v1/instance`` on older servers)."""
    base = normalise_instance_url(instance_url)
    response = await request(http, "GET", f"{base}/api/v2/instance", now=now, ok=(200, 404))
    if response.status_code == 404:
        response = await request(http, "GET", f"{base}/api/v1/instance", now=now)
    return parse_instance(json_object(response, "the server's settings"))


# --- the text of a published status -------------------------------------------------------------


def html_to_text(content: str) -> str:
    """Plain text of a status's ``content`` HTML (links keep their full URL)."""
    from html.parser import HTMLParser  # with its dozen regular expressions: only when needed

    parts: list[str] = []

    class TextOf(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "br":
                parts.append("\n")
            elif tag == "p" and parts:
                parts.append("\n\n")

        def handle_data(self, data: str) -> None:
            parts.append(data)

    parser = TextOf(convert_charrefs=True)
    parser.feed(content)
    parser.close()
    return "".join(parts)


_REMOTE_MENTION = re.compile(r"(?<![\w/])(@\w[\w.-]*)@[\w.-]*\w", re.UNICODE)
_SPACE = re.compile(r"\s+")


def comparable_text(text: str) -> str:
    """Text reduced to what survives Mastodon's rendering: remote mentions show as ``@user``."""
    return _SPACE.sub(" ", _REMOTE_MENTION.sub(r"\1", text)).strip()
