"""Talking to a Discord webhook: its URL (a secret), one request helper, errors and rate limits.

The webhook URL ``https://discord.com/api/webhooks/<id>/<token>`` is the whole credential: anyone
holding it can post. It lives in the keyring only; the non-secret ``server`` setting says which
Discord to probe (Discord itself unless it is the sandbox). Like a Telegram bot token it travels
in the URL path, so messages are built from Discord's reply only, transport errors are scrubbed
and :func:`hide_tokens_in_logs` blanks ``/webhooks/<id>/<token>`` in the ``httpx`` logger.

Errors are ``{"code": int, "message": str, "errors"?: {…}}``; a 429 body is ``{"message",
"retry_after" (float seconds), "global"}`` with ``Retry-After`` and ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

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

PLATFORM = "Discord"
OFFICIAL = "https://discord.com"
API_VERSION = "v10"
_DISCORD_HOSTS = frozenset(
    f"{prefix}{domain}"
    for prefix in ("", "ptb.", "canary.")
    for domain in ("discord.com", "discordapp.com")
)
_WEBHOOK_PATH = re.compile(r"(?:/api(?:/v\d+)?)?/webhooks/(\d{1,25})/([A-Za-z0-9_.-]{1,200})/?")
_TOKEN_IN_PATH = re.compile(r"(/webhooks/\d+/)[A-Za-z0-9_.-]+")

UNKNOWN_WEBHOOK = 10015
UNKNOWN_MESSAGE = 10008


@dataclass(frozen=True, slots=True)
class Webhook:
    """A parsed webhook URL. ``repr`` never shows the token."""

    origin: str
    id: str
    token: str = field(repr=False)
    thread_id: str = ""

    @property
    def url(self) -> str:
        return f"{self.origin}/api/{API_VERSION}/webhooks/{self.id}/{self.token}"

    @property
    def on_discord(self) -> bool:
        return urlsplit(self.origin).hostname in _DISCORD_HOSTS


# --- secrets out of text and logs ----------------------------------------------------------------


def scrub(text: str, token: str | None = None) -> str:
    if token:
        text = text.replace(token, "<token>")
    return _TOKEN_IN_PATH.sub(r"\1<token>", text)


class _HideTokens(logging.Filter):
    """Blanks webhook tokens in log records (httpx logs every request URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; let logging report it
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = _HideTokens()


def hide_tokens_in_logs() -> None:
    """Install the token filter on the ``httpx`` logger (idempotent: one shared filter)."""
    logging.getLogger("httpx").addFilter(_FILTER)


# --- URLs ---------------------------------------------------------------------------------------


def parse_webhook_url(raw: str | None) -> Webhook:
    """Check a pasted webhook URL. Messages never repeat it (it is a password)."""
    text = (raw or "").strip()
    if not text:
        raise InputError("Paste the webhook URL from Discord (Integrations › Webhooks).")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InputError("That is not a valid webhook URL.") from None
    host = (parts.hostname or "").lower()
    loopback = _is_loopback(host)
    if host not in _DISCORD_HOSTS and not loopback:
        raise InputError(
            "That is not a Discord webhook URL: it should start with "
            "https://discord.com/api/webhooks/."
        )
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise InputError("A Discord webhook URL starts with https://.")
    match = _WEBHOOK_PATH.fullmatch(parts.path)
    if not match or parts.username or parts.password:
        raise InputError(
            "That URL is not a complete Discord webhook URL: copy it again with Copy Webhook URL "
            "(it ends in /webhooks/<number>/<long code>)."
        )
    thread = parse_qs(parts.query).get("thread_id", [""])[0]
    if thread and not thread.isdigit():
        raise InputError("The webhook URL's thread_id must be a number.")
    netloc = f"[{host}]" if ":" in host else host
    origin = f"{parts.scheme}://{netloc}{f':{port}' if port else ''}"
    if host in _DISCORD_HOSTS:
        origin = OFFICIAL
    return Webhook(origin, match.group(1), match.group(2), thread)


def normalise_server(raw: str | None) -> str:
    """The ``server`` setting: Discord's own address unless a sandbox on this computer is given."""
    text = (raw or "").strip().rstrip("/")
    if not text:
        return OFFICIAL
    try:
        parts = urlsplit(text if "://" in text else "https://" + text)
        port = parts.port
    except ValueError:
        raise InputError(f"“{text}” is not a valid server address.") from None
    host = (parts.hostname or "").lower()
    if host in _DISCORD_HOSTS:
        return OFFICIAL
    if not _is_loopback(host) or parts.scheme not in ("http", "https"):
        raise InputError(
            "Leave the server empty for Discord; only a sandbox on this computer "
            "(http://127.0.0.1:…) can be given."
        )
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}{f':{port}' if port else ''}"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def channel_url(origin: str, guild_id: str, channel_id: str, message_id: str = "") -> str:
    """Where Discord shows a channel (or one message in it)."""
    base = f"{origin}/channels/{guild_id or '@me'}/{channel_id}"
    return f"{base}/{message_id}" if message_id else base


# --- requests -----------------------------------------------------------------------------------


async def request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    token: str,
    *,
    now: float,
    publishes: bool = False,
    ok: tuple[int, ...] = (200,),
    **kwargs: Any,
) -> httpx.Response:
    """One call; every failure is a classified DeliveryError whose text never has the token."""
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        error = classify_transport_error(exc, PLATFORM)
        if isinstance(error, UnknownOutcome) and not publishes:
            error = TransientError(str(error))
        raise type(error)(scrub(str(error), token)) from None
    except httpx.HTTPError as exc:  # e.g. a URL httpx refuses: its text would carry the token
        raise PermanentError(
            f"Staffetta could not build the request to Discord ({type(exc).__name__})."
        ) from None
    if response.status_code in ok:
        return response
    raise classify(response, now)


def payload_of(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def error_code(response: httpx.Response) -> int | None:
    code = payload_of(response).get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def describe(response: httpx.Response) -> str:
    """Discord's ``message`` plus the field errors of a 50035 "Invalid Form Body"."""
    payload = payload_of(response)
    message = str(payload.get("message") or "").strip()
    details = [f"{path}: {text}" for path, text in _field_errors(payload.get("errors"), "")]
    if details:
        message = f"{message or 'Invalid Form Body'} ({'; '.join(details[:5])})"
    if not message:
        text = response.text.strip() if "html" not in response.headers.get("content-type") else ""
        message = text if text and len(text) <= 200 and "\n" not in text else ""
    return scrub(message or response.reason_phrase or f"HTTP {response.status_code}")


def _field_errors(node: Any, path: str) -> list[tuple[str, str]]:
    if not isinstance(node, Mapping):
        return []
    found: list[tuple[str, str]] = []
    for error in node.get("_errors") or []:
        if isinstance(error, Mapping) and error.get("message"):
            found.append((path or "message", str(error["message"])))
    for key, child in node.items():
        if key != "_errors":
            found += _field_errors(child, f"{path}.{key}" if path else str(key))
    return found


def classify(response: httpx.Response, now: float) -> DeliveryError:
    """Discord's error replies, in terms the engine acts on."""
    status, code, said = response.status_code, error_code(response), describe(response)
    if status == 429:
        payload = payload_of(response)
        wait = payload.get("retry_after")
        seconds = (
            float(wait) if isinstance(wait, int | float) and not isinstance(wait, bool) else None
        )
        if seconds is None:
            seconds = retry_after_seconds(response, now) or _reset_after(response)
        scope = "all of Discord (global limit)" if payload.get("global") else "this webhook"
        return RateLimited(f"Discord asked to slow down for {scope}: {said}", seconds)
    if status == 401 or code == UNKNOWN_WEBHOOK:
        return AuthError(
            f"Discord no longer accepts this webhook ({said}): it was deleted or its URL reset. "
            "Create a new webhook in the channel's settings and reconnect the account with its URL."
        )
    if status == 403:
        return AuthError(f"Discord does not let this webhook post ({said}); reconnect it.")
    if status >= 500:
        return TransientError(
            f"Discord is having trouble (HTTP {status}): {said}", retry_after_seconds(response, now)
        )
    if status == 413:
        return PermanentError(f"Discord refused the files as too large: {said}")
    return PermanentError(f"Discord refused the post: {said}")


def _reset_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("x-ratelimit-reset-after", "")))
    except ValueError:
        return None


class Buckets:
    """What Discord's rate-limit headers said, so the next request waits instead of a 429.

    Keyed by webhook id (each webhook is its own bucket for executing); remembers the time its
    window resets when ``X-RateLimit-Remaining`` reached 0.
    """

    def __init__(self) -> None:
        self._blocked_until: dict[str, float] = {}

    def wait(self, key: str, now: float) -> float:
        """Seconds to wait before the next request for ``key`` (0 = go ahead)."""
        until = self._blocked_until.get(key, 0.0)
        if until <= now:
            self._blocked_until.pop(key, None)
            return 0.0
        return until - now

    def update(self, key: str, response: httpx.Response, now: float) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset_after = _reset_after(response)
        if remaining is None or reset_after is None:
            return
        if remaining.strip() == "0":
            self._blocked_until[key] = now + reset_after
        else:
            self._blocked_until.pop(key, None)
