"""Talking to the Telegram Bot API: one call helper, error reading, and keeping the token secret.

Every method is ``POST {api}/bot<token>/<method>`` and answers ``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": int, "description": str, "parameters": {"retry_after" |
"migrate_to_chat_id"}}``; the HTTP status equals ``error_code``.

The bot token is part of the URL path, so it travels wherever a URL does: httpx's exceptions and
its ``HTTP Request: POST https://…`` log line. Messages here are built from Telegram's reply only,
transport errors are scrubbed before they become our errors, and :func:`hide_tokens_in_logs`
puts a filter on the ``httpx`` logger that blanks ``/bot<token>/`` in every record.
"""

from __future__ import annotations

import ipaddress
import logging
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

PLATFORM = "Telegram"
OFFICIAL_API = "https://api.telegram.org"
OFFICIAL_LINKS = "https://t.me"

# A token as BotFather issues it (``123456789:AA…``), also inside a URL path.
_TOKEN_IN_PATH = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
_PREFIXES = ("Bad Request: ", "Forbidden: ", "Unauthorized: ", "Conflict: ", "Not Found: ")


# --- secrets out of text and logs ----------------------------------------------------------------


def scrub(text: str, token: str | None = None) -> str:
    """``text`` with the token (given, or anything shaped like one) replaced by ``<token>``."""
    if token:
        text = text.replace(token, "<token>")
    return _TOKEN.sub("<token>", _TOKEN_IN_PATH.sub("/bot<token>", text))


class _HideTokens(logging.Filter):
    """Blanks bot tokens in log records (httpx logs every request URL at INFO)."""

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


def check_token(token: str | None) -> str:
    """The token, stripped, if it looks like one BotFather issues; AuthError otherwise."""
    value = (token or "").strip()
    if not value:
        raise AuthError("This Telegram account has no bot token — reconnect it.")
    if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", value):
        raise AuthError(
            "The bot token does not look like one from @BotFather (digits, a colon, then letters "
            "and digits, like 123456789:AAE…). Reconnect with the token BotFather gave you."
        )
    return value


# --- settings -----------------------------------------------------------------------------------


def normalise_api_url(raw: str) -> str:
    """The Bot API base URL: Telegram's own unless a local Bot API server or sandbox is given.

    Plain ``http://`` is accepted only for this computer, where the token cannot be overheard.
    """
    text = (raw or "").strip().rstrip("/")
    if not text:
        return OFFICIAL_API
    try:
        parts = urlsplit(text if "://" in text else "https://" + text)
        port = parts.port
    except ValueError:
        raise InputError(f"“{raw.strip()}” is not a valid Bot API address.") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(f"“{raw.strip()}” is not a valid Bot API address (https://…).")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError("Enter only the Bot API server's address, without user, ? or # parts.")
    if parts.scheme == "http" and not _is_loopback(host):
        raise InputError(
            f"{host} must be reached over https://: plain http:// would send the bot token "
            "unencrypted, so Staffetta only allows it for a server on this computer."
        )
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}{f':{port}' if port else ''}{parts.path.rstrip('/')}"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_chat(raw: str) -> str:
    """``@name``, ``t.me/name`` or a numeric id (``-100…``) as the ``chat_id`` Telegram takes."""
    text = (raw or "").strip()
    for prefix in ("https://t.me/", "http://t.me/", "t.me/"):
        if text.lower().startswith(prefix):
            text = "@" + text[len(prefix) :].strip("/")
    if re.fullmatch(r"-?\d{1,20}", text):
        return text
    name = text.removeprefix("@")
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name):
        return "@" + name
    raise InputError(
        f"“{raw.strip()}” is not a Telegram channel: give its public name, like @mychannel, or "
        "for a private channel its numeric id, like -1001234567890."
    )


def message_url(link_base: str, chat: Mapping[str, Any], message_id: int | str) -> str:
    """The link to a message: ``t.me/<name>/<id>``, or ``t.me/c/<id>/<id>`` for a private one."""
    username = chat.get("username")
    if isinstance(username, str) and username:
        return f"{link_base}/{username}/{message_id}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"{link_base}/c/{chat_id[4:]}/{message_id}"
    return ""


# --- calls --------------------------------------------------------------------------------------


async def call(
    http: httpx.AsyncClient,
    base: str,
    token: str,
    method: str,
    *,
    now: float,
    publishes: bool = False,
    **kwargs: Any,
) -> Any:
    """Call ``method`` and return its ``result``; every failure is a classified DeliveryError.

    Only a call that ``publishes`` can leave an unknown outcome; for the others a request that got
    no answer is just a transient failure. No message ever contains the token.
    """
    url = f"{base}/bot{token}/{method}"
    try:
        response = await http.post(url, **kwargs)
    except httpx.TransportError as exc:
        error = classify_transport_error(exc, PLATFORM)
        if isinstance(error, UnknownOutcome) and not publishes:
            error = TransientError(str(error))
        raise type(error)(scrub(str(error), token)) from None
    except httpx.HTTPError as exc:  # e.g. a URL httpx refuses: its text would carry the token
        raise PermanentError(
            f"Staffetta could not build the request to Telegram ({type(exc).__name__})."
        ) from None
    payload = _json(response)
    if response.status_code == 200 and isinstance(payload, Mapping) and payload.get("ok"):
        return payload.get("result")
    error = classify(response, payload, now)
    error.add_note(describe(payload, response))  # Telegram's own words, for callers to quote
    raise error


def telegram_said(error: BaseException) -> str:
    """What Telegram said in the reply that became ``error`` (empty if it was not a reply)."""
    notes = getattr(error, "__notes__", None) or [""]
    return str(notes[-1])


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def describe(payload: Any, response: httpx.Response) -> str:
    """Telegram's ``description`` in plain words (``Bad Request: `` and the like dropped)."""
    description = ""
    if isinstance(payload, Mapping):
        description = str(payload.get("description") or "").strip()
    if not description:
        text = response.text.strip() if "html" not in response.headers.get("content-type") else ""
        description = text if text and len(text) <= 200 and "\n" not in text else ""
    for prefix in _PREFIXES:
        if description.startswith(prefix):
            description = description[len(prefix) :]
    return scrub(description or response.reason_phrase or f"HTTP {response.status_code}")


def classify(response: httpx.Response, payload: Any, now: float) -> DeliveryError:
    """Telegram's error replies, in terms the engine acts on."""
    status = response.status_code
    said = describe(payload, response)
    lowered = said.lower()
    parameters = payload.get("parameters") if isinstance(payload, Mapping) else None
    parameters = parameters if isinstance(parameters, Mapping) else {}
    if status == 429:
        wait = _seconds(parameters.get("retry_after"))
        if wait is None:
            wait = retry_after_seconds(response, now)
        return RateLimited(f"Telegram asked to slow down ({said}).", wait)
    if status == 401 or (status == 404 and lowered in ("not found", "")):
        return AuthError(
            f"Telegram refused the bot token ({said}): it is wrong or was revoked with "
            "@BotFather. Reconnect the account with the bot's current token."
        )
    if status >= 500:
        return TransientError(
            f"Telegram is having trouble (HTTP {status}): {said}",
            retry_after_seconds(response, now),
        )
    migrated = parameters.get("migrate_to_chat_id")
    if migrated:
        return AuthError(
            f"The group became a supergroup with the id {migrated}: reconnect the account with "
            "that id as its channel."
        )
    if status == 403 or "chat not found" in lowered:
        return AuthError(
            f"Telegram refused: {said}. Add the bot to the channel as an administrator with the "
            "right to post messages, check the channel's name, then reconnect the account."
        )
    if "rights" in lowered or "not enough" in lowered or "administrator" in lowered:
        return AuthError(
            f"The bot may not post there ({said}). Give it the “Post messages” right in the "
            "channel's administrators, then reconnect the account."
        )
    if status == 413:
        return PermanentError(f"Telegram refused the upload as too large: {said}")
    return PermanentError(f"Telegram refused the post: {said}")


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, float(value))
