"""Discord webhooks for the sandbox: the routes a webhook client uses, as discord-api-docs
(``resources/webhook.mdx``, ``topics/rate-limits.mdx``) describes them.

Routes (under ``/api`` or ``/api/v<n>``): ``GET /gateway`` (health), ``GET`` and ``POST
/webhooks/<id>/<token>`` (``?wait=true`` answers the message, else 204; JSON or multipart with
``payload_json`` and ``files[n]``), ``GET`` and ``DELETE /webhooks/<id>/<token>/messages/<id>``;
and ``GET /channels/<guild>/<channel>/<message>`` (what a message link shows, as JSON).

Checked like Discord: content at most 2000 characters (code points), at most 10 embeds (title
256, description 4096, 6000 in all), at most 10 files of at most ``max_file_bytes`` (10 MiB; else
413 code 40005), attachment descriptions at most 1024, and not empty (50006). Field errors are a
400 code 50035 "Invalid Form Body" with ``errors``. An unknown webhook is 404 code 10015, a wrong
token 401 code 50027, an unknown message 404 code 10008.

``issue_token`` creates a webhook and returns ``<id>/<token>``: the webhook URL is
``<instance url>/api/webhooks/<id>/<token>``; ``revoke_tokens`` deletes every webhook.

Options: ``guild_id``, ``channel_id``, ``max_file_bytes``, and ``rate_limit`` = ``[limit,
window_seconds]`` for each webhook's bucket (none by default): with it every execute answers
``X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`` and a request over the limit gets a
429 ``{"message", "retry_after", "global": false}`` with ``Retry-After`` and
``X-RateLimit-Scope``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import secrets
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from staffetta.sandbox.platform import (
    Platform,
    Request,
    Response,
    UploadedFile,
    iso_timestamp,
    parse_body,
)

CONTENT_LIMIT = 2000
FILE_BYTES = 10 * 1024 * 1024
_API = r"/api(?:/v\d+)?"
_WEBHOOK = re.compile(_API + r"/webhooks/(\d+)/([^/]+)")
_MESSAGE = re.compile(_API + r"/webhooks/(\d+)/([^/]+)/messages/(\d+)")
_OPTIONS = frozenset({"guild_id", "channel_id", "max_file_bytes", "rate_limit"})


def _error(status: int, message: str, code: int, errors: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return Response.json(status, body)


def _field_error(message: str, code: str = "BASE_TYPE_MAX_LENGTH") -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


@dataclass(slots=True)
class _Hook:
    id: str
    token: str
    name: str


class _Bucket:
    """One webhook's fixed window (Discord's buckets reset together)."""

    def __init__(self) -> None:
        self.started = -math.inf
        self.used = 0


class DiscordPlatform(Platform):
    """Webhooks into one channel of one guild. See the module doc for routes and options."""

    type_name = "discord"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self._ids = 0  # snowflake-like ids keep increasing across resets
        self.hooks: dict[str, _Hook] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.files: list[dict[str, Any]] = []
        self._buckets: dict[str, _Bucket] = {}
        self.reset()

    # --- Platform interface ---------------------------------------------------------------

    def reset(self) -> None:
        self.guild_id = "1100000000000000001"
        self.channel_id = "1100000000000000002"
        self.max_file_bytes = FILE_BYTES
        self.rate_limit: tuple[int, float] | None = None
        self.hooks.clear()
        self.messages.clear()
        self.files.clear()
        self._buckets.clear()

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"discord has no options {sorted(unknown)}")
        if "guild_id" in options:
            self.guild_id = str(options["guild_id"])
        if "channel_id" in options:
            self.channel_id = str(options["channel_id"])
        if "max_file_bytes" in options:
            self.max_file_bytes = max(1, int(options["max_file_bytes"]))
        if "rate_limit" in options:
            value = options["rate_limit"]
            if value is None:
                self.rate_limit = None
            else:
                limit, window = value
                if int(limit) < 1 or float(window) <= 0:
                    raise ValueError("rate_limit needs limit >= 1 and window > 0")
                self.rate_limit = (int(limit), float(window))
            self._buckets.clear()

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(message)) for message in self.messages.values()]

    def uploads(self) -> list[dict[str, Any]]:
        return [dict(item) for item in self.files]

    def issue_token(self, username: str = "demo") -> str:
        hook = _Hook(self._next_id(), secrets.token_urlsafe(51), f"{username.capitalize()} hook")
        self.hooks[hook.id] = hook
        return f"{hook.id}/{hook.token}"

    def revoke_tokens(self) -> None:
        self.hooks.clear()

    def loggable_path(self, path: str) -> str:
        return re.sub(r"(/webhooks/\d+/)[^/]+", r"\1<token>", path, count=1)

    # --- routing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if re.fullmatch(_API + r"/gateway", path) and request.method == "GET":
            return Response.json(200, {"url": "wss://gateway.discord.gg"})
        match = _MESSAGE.fullmatch(path)
        if match:
            hook = self._hook(match.group(1), match.group(2))
            if isinstance(hook, Response):
                return hook
            return self._message_route(request, hook, match.group(3))
        match = _WEBHOOK.fullmatch(path)
        if match:
            hook = self._hook(match.group(1), match.group(2))
            if isinstance(hook, Response):
                return hook
            if request.method == "GET":
                return Response.json(200, self._webhook_entity(hook))
            if request.method == "POST":
                return self._execute(request, hook)
            return _error(405, "405: Method Not Allowed", 0)
        link = re.fullmatch(r"/channels/(\d+)/(\d+)/(\d+)", path)
        if link and request.method == "GET" and link.group(3) in self.messages:
            return Response.json(200, self.messages[link.group(3)])
        return _error(404, "404: Not Found", 0)

    def _hook(self, hook_id: str, token: str) -> _Hook | Response:
        hook = self.hooks.get(hook_id)
        if hook is None:
            return _error(404, "Unknown Webhook", 10015)
        if not secrets.compare_digest(hook.token, token):
            return _error(401, "Invalid Webhook Token", 50027)
        return hook

    def _next_id(self) -> str:
        self._ids += 1
        return str(1_200_000_000_000_000_000 + self._ids)

    def _webhook_entity(self, hook: _Hook) -> dict[str, Any]:
        return {
            "type": 1,
            "id": hook.id,
            "name": hook.name,
            "avatar": None,
            "channel_id": self.channel_id,
            "guild_id": self.guild_id,
            "application_id": None,
            "token": hook.token,
        }

    def _message_route(self, request: Request, hook: _Hook, message_id: str) -> Response:
        message = self.messages.get(message_id)
        if message is None or message["webhook_id"] != hook.id:
            return _error(404, "Unknown Message", 10008)
        if request.method == "GET":
            return Response.json(200, message)
        if request.method == "DELETE":
            del self.messages[message_id]
            return Response(204, b"")
        return _error(405, "405: Method Not Allowed", 0)

    # --- executing ------------------------------------------------------------------------

    def _limit(self, hook: _Hook, now: float) -> tuple[bool, list[tuple[str, str]]]:
        if self.rate_limit is None:
            return True, []
        limit, window = self.rate_limit
        bucket = self._buckets.setdefault(hook.id, _Bucket())
        if now >= bucket.started + window or now < bucket.started:
            bucket.started, bucket.used = now, 0
        bucket.used += 1
        reset = bucket.started + window
        headers = [
            ("X-RateLimit-Limit", str(limit)),
            ("X-RateLimit-Remaining", str(max(0, limit - bucket.used))),
            ("X-RateLimit-Reset", f"{reset:.3f}"),
            ("X-RateLimit-Reset-After", f"{max(0.0, reset - now):.3f}"),
            ("X-RateLimit-Bucket", hashlib.sha256(hook.id.encode()).hexdigest()[:32]),
        ]
        return bucket.used <= limit, headers

    def _execute(self, request: Request, hook: _Hook) -> Response:
        allowed, headers = self._limit(hook, request.now)
        if not allowed:
            wait = max(0.0, float(dict(headers)["X-RateLimit-Reset-After"]))
            response = Response.json(
                429,
                {"message": "You are being rate limited.", "retry_after": wait, "global": False},
            )
            response.headers += [
                *headers,
                ("Retry-After", str(max(1, math.ceil(wait)))),
                ("X-RateLimit-Scope", "user"),
            ]
            return response
        result = self._create(request, hook)
        result.headers += headers
        return result

    def _create(self, request: Request, hook: _Hook) -> Response:
        params = request.params()
        payload: Any = params
        if isinstance(params.get("payload_json"), str):
            payload = parse_body("application/json", params["payload_json"].encode())
        uploads = {
            int(key[6:-1]): value
            for key, value in params.items()
            if re.fullmatch(r"files\[\d+\]", key) and isinstance(value, UploadedFile)
        }
        content = payload.get("content") or ""
        embeds = payload.get("embeds") or []
        attachments = payload.get("attachments") or []
        if not isinstance(content, str) or not isinstance(embeds, list):
            return _error(400, "Invalid Form Body", 50035, {"content": _field_error("Bad type")})
        errors = _check(content, embeds, attachments, uploads)
        if errors:
            return _error(400, "Invalid Form Body", 50035, errors)
        if any(len(u.data) > self.max_file_bytes for u in uploads.values()):
            return _error(413, "Request entity too large", 40005)
        if not content.strip() and not embeds and not uploads:
            return _error(400, "Cannot send an empty message", 50006)
        message_id = self._next_id()
        base = request.base_url
        described = {
            int(a["id"]): a
            for a in attachments
            if isinstance(a, dict) and str(a.get("id")).isdigit()
        }
        stored = [
            self._attachment(message_id, number, upload, described.get(number, {}), base)
            for number, upload in sorted(uploads.items())
        ]
        flags = payload.get("flags")
        message = {
            "id": message_id,
            "type": 0,
            "content": content,
            "channel_id": self.channel_id,
            "author": {"bot": True, "id": hook.id, "username": hook.name, "avatar": None},
            "attachments": stored,
            "embeds": [
                {"type": "rich", **e} for e in embeds if not (isinstance(flags, int) and flags & 4)
            ],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": iso_timestamp(request.now).replace("Z", "+00:00"),
            "edited_timestamp": None,
            "flags": flags if isinstance(flags, int) else 0,
            "components": [],
            "webhook_id": hook.id,
            "allowed_mentions": payload.get("allowed_mentions"),
        }
        self.messages[message_id] = message
        if str(request.query.get("wait", "")).lower() != "true":
            return Response(204, b"")
        return Response.json(200, message)

    def _attachment(
        self, message_id: str, number: int, upload: UploadedFile, meta: dict[str, Any], base: str
    ) -> dict[str, Any]:
        attachment_id = self._next_id()
        filename = str(meta.get("filename") or upload.filename)
        entity: dict[str, Any] = {
            "id": attachment_id,
            "filename": filename,
            "size": len(upload.data),
            "url": f"{base}/attachments/{self.channel_id}/{attachment_id}/{filename}",
            "proxy_url": f"{base}/attachments/{self.channel_id}/{attachment_id}/{filename}",
            "content_type": upload.content_type,
        }
        if meta.get("description"):
            entity["description"] = str(meta["description"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                entity["width"], entity["height"] = Image.open(io.BytesIO(upload.data)).size
        except (UnidentifiedImageError, OSError, ValueError):
            pass
        self.files.append(
            {
                **entity,
                "message_id": message_id,
                "index": number,
                "sha256": hashlib.sha256(upload.data).hexdigest(),
            }
        )
        return entity


def _check(
    content: str, embeds: list[Any], attachments: Any, uploads: dict[int, UploadedFile]
) -> dict[str, Any]:
    """Field errors, shaped like Discord's ``errors`` object (empty when all is well)."""
    errors: dict[str, Any] = {}
    if len(content) > CONTENT_LIMIT:
        errors["content"] = _field_error(f"Must be {CONTENT_LIMIT} or fewer in length.")
    if len(embeds) > 10:
        errors["embeds"] = _field_error("Must be 10 or fewer in length.")
    total = 0
    for number, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            errors.setdefault("embeds", {})[str(number)] = _field_error("Bad type", "MODEL_TYPE")
            continue
        for key, limit in (("title", 256), ("description", 4096)):
            value = str(embed.get(key) or "")
            total += len(value)
            if len(value) > limit:
                errors.setdefault("embeds", {}).setdefault(str(number), {})[key] = _field_error(
                    f"Must be {limit} or fewer in length."
                )
    if total > 6000:
        errors["embeds"] = _field_error("Embed size exceeds maximum size of 6000")
    if len(uploads) > 10:
        errors["files"] = _field_error("Must be 10 or fewer in length.")
    if not isinstance(attachments, list):
        errors["attachments"] = _field_error("Bad type", "MODEL_TYPE")
        return errors
    for number, attachment in enumerate(attachments):
        if not isinstance(attachment, dict) or not str(attachment.get("id")).isdigit():
            errors.setdefault("attachments", {})[str(number)] = _field_error("Bad id", "MODEL_TYPE")
            continue
        if int(attachment["id"]) not in uploads:
            errors.setdefault("attachments", {})[str(number)] = {
                "id": _field_error("No file with this id", "ATTACHMENT_NOT_FOUND")
            }
        description = str(attachment.get("description") or "")
        if len(description) > 1024:
            errors.setdefault("attachments", {}).setdefault(str(number), {})["description"] = (
                _field_error("Must be 1024 or fewer in length.")
            )
    return errors
