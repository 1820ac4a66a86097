"""A Telegram Bot API for the sandbox: the methods a channel-posting bot uses, as core.telegram.org
describes them, with one channel the bots can be administrators of.

Routes: ``/bot<token>/<method>`` (GET or POST; query, form, JSON or multipart parameters) for
``getMe``, ``getChat``, ``getChatMember``, ``getChatAdministrators``, ``sendMessage``,
``sendPhoto`` (multipart upload) and ``sendMediaGroup`` (``attach://`` parts); ``GET /`` (the API
root: a redirect to the docs, as api.telegram.org answers, for health probes) and
``GET /<channel>/<message_id>`` (what a ``t.me`` link shows, as JSON).

Answers have Telegram's shape: ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code",
"description", "parameters"?}`` with the HTTP status equal to ``error_code``. A malformed token
gets 404 ``Not Found``, an unknown or revoked one 401 ``Unauthorized``.

Text is checked independently of the client: entity offsets and lengths are UTF-16 code units
and must lie inside the text and not split a surrogate pair (else 400 ``can't parse entities``);
``text_link`` needs an http(s) or tg URL; ``url``, ``mention`` and ``hashtag`` entities a bot
sends are ignored and http(s) links found again, as Telegram does. Spaces and newlines at both
ends are trimmed, then the text must hold 1–4096 characters (code points), a caption 0–1024.
Photos are decoded: at most 10 MB, width + height ≤ 10000, sides in a ratio of at most 20.
Not emulated: parse_mode, file ids and URLs as photos, Telegram's removal of control characters.

Options: ``channel`` (public name, default ``staffetta_sandbox``), ``title``, ``bot_is_admin``
(True: every bot administers the channel), ``can_post`` (True), ``flood_limit`` and
``flood_window`` (messages per seconds per chat before a 429 with ``parameters.retry_after``;
no limit by default), ``max_photo_bytes``.
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

from staffetta.sandbox.platform import Params, Platform, Request, Response, UploadedFile

CHANNEL_ID = -1001000000001
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PHOTO_BYTES = 10 * 1024 * 1024
DOCS_URL = "https://core.telegram.org/bots/api"
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_TOKEN_PATH = re.compile(r"/bot[^/]*")
_SETTABLE = frozenset(
    {"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link"}
)
_DETECTED = frozenset(
    {"url", "mention", "hashtag", "cashtag", "bot_command", "email", "phone_number"}
)
_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’”]")
_OPTIONS = frozenset(
    {"channel", "title", "bot_is_admin", "can_post", "flood_limit", "flood_window"}
    | {"max_photo_bytes"}
)


class _Refusal(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.response = error(status, description, parameters)


def error(status: int, description: str, parameters: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Response.json(status, body)


def ok(result: Any) -> Response:
    return Response.json(200, {"ok": True, "result": result})


@dataclass(slots=True)
class _Bot:
    id: int
    username: str
    token: str
    revoked: bool = False

    def user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.username.removesuffix("_bot").capitalize(),
            "username": self.username,
        }


class TelegramPlatform(Platform):
    """One Bot API server with one channel. See the module doc for routes and options."""

    type_name = "telegram"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self._bot_ids = 0  # keep increasing across resets, like Telegram's ids
        self.bots: dict[str, _Bot] = {}
        self.messages: list[dict[str, Any]] = []
        self.photos: list[dict[str, Any]] = []
        self._sends: list[float] = []
        self._methods: dict[str, Callable[[_Bot, Params, Request], Any]] = {
            "getme": lambda bot, p, r: bot.user(),
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_administrators,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "sendmediagroup": self._send_media_group,
        }
        self.reset()

    # --- Platform interface ---------------------------------------------------------------

    def reset(self) -> None:
        self.channel = "staffetta_sandbox"
        self.title = f"Staffetta sandbox ({self.name})"
        self.bot_is_admin = True
        self.can_post = True
        self.flood_limit: int | None = None
        self.flood_window = 60.0
        self.max_photo_bytes = PHOTO_BYTES
        self.bots.clear()
        self.messages.clear()
        self.photos.clear()
        self._sends.clear()

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"telegram has no options {sorted(unknown)}")
        if "channel" in options:
            self.channel = str(options["channel"]).removeprefix("@")
        if "title" in options:
            self.title = str(options["title"])
        if "bot_is_admin" in options:
            self.bot_is_admin = bool(options["bot_is_admin"])
        if "can_post" in options:
            self.can_post = bool(options["can_post"])
        if "flood_limit" in options:
            limit = options["flood_limit"]
            self.flood_limit = None if limit is None else max(1, int(limit))
        if "flood_window" in options:
            self.flood_window = max(0.001, float(options["flood_window"]))
        if "max_photo_bytes" in options:
            self.max_photo_bytes = max(1, int(options["max_photo_bytes"]))

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(message)) for message in self.messages]

    def uploads(self) -> list[dict[str, Any]]:
        return [dict(photo) for photo in self.photos]

    def issue_token(self, username: str = "demo") -> str:
        self._bot_ids += 1
        bot_id = 7_000_000_000 + self._bot_ids
        token = f"{bot_id}:AA{secrets.token_urlsafe(33)[:33]}"
        name = username if username.lower().endswith("bot") else f"{username}_bot"
        self.bots[token] = _Bot(bot_id, name, token)
        return token

    def revoke_tokens(self) -> None:
        for bot in self.bots.values():
            bot.revoked = True

    def loggable_path(self, path: str) -> str:
        return _TOKEN_PATH.sub("/bot<token>", path, count=1)

    # --- routing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path
        match = re.fullmatch(r"/bot([^/]*)/(\w+)", path)
        if match:
            try:
                return self._call(request, match.group(1), match.group(2))
            except _Refusal as refusal:
                return refusal.response
        if path == "/" and request.method == "GET":
            return Response(302, b"", "text/html; charset=utf-8", [("Location", DOCS_URL)])
        link = re.fullmatch(r"/(\w+)/(\d+)", path)
        if link and request.method == "GET" and link.group(1).lower() == self.channel.lower():
            found = [m for m in self.messages if m["message_id"] == int(link.group(2))]
            if found:
                return Response.json(200, found[0])
        return error(404, "Not Found")

    def _call(self, request: Request, token: str, method: str) -> Response:
        if not _TOKEN.fullmatch(token):
            return error(404, "Not Found")
        bot = self.bots.get(token)
        if bot is None or bot.revoked:
            return error(401, "Unauthorized")
        handler = self._methods.get(method.lower())
        if handler is None:
            return error(404, "Not Found")
        return ok(handler(bot, request.params(), request))

    # --- chats ----------------------------------------------------------------------------

    def _chat(self) -> dict[str, Any]:
        return {"id": CHANNEL_ID, "title": self.title, "username": self.channel, "type": "channel"}

    def _find_chat(self, params: Params) -> dict[str, Any]:
        wanted = str(params.get("chat_id", "")).strip()
        if wanted.lower() == "@" + self.channel.lower() or wanted == str(CHANNEL_ID):
            return self._chat()
        if not wanted:
            raise _Refusal(400, "Bad Request: chat_id is empty")
        raise _Refusal(400, "Bad Request: chat not found")

    def _member(self, bot: _Bot) -> dict[str, Any]:
        if not self.bot_is_admin:
            return {"status": "left", "user": bot.user()}
        return {
            "status": "administrator",
            "user": bot.user(),
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_post_messages": self.can_post,
            "can_edit_messages": self.can_post,
            "can_delete_messages": False,
        }

    def _get_chat(self, bot: _Bot, params: Params, request: Request) -> Any:
        return {**self._find_chat(params), "description": "Where Staffetta's tests post."}

    def _get_chat_member(self, bot: _Bot, params: Params, request: Request) -> Any:
        self._find_chat(params)
        if str(params.get("user_id", "")) != str(bot.id):
            raise _Refusal(400, "Bad Request: user not found")
        return self._member(bot)

    def _get_administrators(self, bot: _Bot, params: Params, request: Request) -> Any:
        self._find_chat(params)
        owner = {"id": 1000, "is_bot": False, "first_name": "Owner"}
        admins: list[dict[str, Any]] = [{"status": "creator", "user": owner}]
        return [*admins, self._member(bot)] if self.bot_is_admin else admins

    def _may_send(self, bot: _Bot, params: Params, now: float) -> dict[str, Any]:
        chat = self._find_chat(params)
        if not self.bot_is_admin:
            raise _Refusal(403, "Forbidden: bot is not a member of the channel chat")
        if not self.can_post:
            raise _Refusal(400, "Bad Request: need administrator rights in the channel chat")
        if self.flood_limit is not None:
            self._sends = [t for t in self._sends if now - t < self.flood_window]
            if len(self._sends) >= self.flood_limit:
                wait = max(1, math.ceil(self._sends[0] + self.flood_window - now))
                raise _Refusal(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        return chat

    # --- sending --------------------------------------------------------------------------

    def _message(self, chat: dict[str, Any], now: float) -> dict[str, Any]:
        chat_messages = [m for m in self.messages if m["chat"]["id"] == chat["id"]]
        message_id = (chat_messages[-1]["message_id"] + 1) if chat_messages else 1
        return {"message_id": message_id, "sender_chat": chat, "chat": chat, "date": int(now)}

    def _store(self, messages: list[dict[str, Any]], now: float) -> None:
        for message in messages:
            self.messages.append(message)
        self._sends.append(now)

    def _send_message(self, bot: _Bot, params: Params, request: Request) -> Any:
        chat = self._may_send(bot, params, request.now)
        _no_parse_mode(params)
        text, entities = formatted(
            str(params.get("text") or ""), _json(params, "entities"), TEXT_LIMIT, "message"
        )
        if not text:
            raise _Refusal(400, "Bad Request: message text is empty")
        message = self._message(chat, request.now)
        message["text"] = text
        if entities:
            message["entities"] = entities
        preview = _json(params, "link_preview_options")
        if isinstance(preview, dict) and preview:
            message["link_preview_options"] = preview
        self._store([message], request.now)
        return message

    def _send_photo(self, bot: _Bot, params: Params, request: Request) -> Any:
        chat = self._may_send(bot, params, request.now)
        _no_parse_mode(params)
        photo = params.get("photo")
        caption = self._caption(params)
        sizes = self._photo(photo)
        message = {**self._message(chat, request.now), "photo": sizes, **caption}
        self._keep_photo(photo, sizes, message)
        self._store([message], request.now)
        return message

    def _send_media_group(self, bot: _Bot, params: Params, request: Request) -> Any:
        chat = self._may_send(bot, params, request.now)
        media = _json(params, "media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _Refusal(400, "Bad Request: wrong number of media in the album (2-10)")
        items = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise _Refusal(400, "Bad Request: the sandbox albums take photos only")
            if item.get("parse_mode"):
                raise _Refusal(400, "Bad Request: the sandbox does not parse parse_mode")
            reference = str(item.get("media") or "")
            upload = params.get(reference.removeprefix("attach://"))
            if not reference.startswith("attach://") or not isinstance(upload, UploadedFile):
                raise _Refusal(400, "Bad Request: wrong file identifier/HTTP URL specified")
            items.append((upload, self._photo(upload), self._caption(item)))
        group = str(10_000_000_000_000_000 + len(self.messages))
        messages: list[dict[str, Any]] = []
        for upload, sizes, caption in items:
            message = self._message(chat, request.now)
            message["message_id"] += len(messages)
            message.update(media_group_id=group, photo=sizes, **caption)
            self._keep_photo(upload, sizes, message)
            messages.append(message)
        self._store(messages, request.now)
        return messages

    def _caption(self, params: Mapping[str, Any]) -> dict[str, Any]:
        raw = params.get("caption_entities")
        entities = json.loads(raw) if isinstance(raw, str) and raw else raw
        text, found = formatted(
            str(params.get("caption") or ""), entities, CAPTION_LIMIT, "caption"
        )
        caption: dict[str, Any] = {"caption": text} if text else {}
        if found:
            caption["caption_entities"] = found
        return caption

    def _photo(self, upload: Any) -> list[dict[str, Any]]:
        if not isinstance(upload, UploadedFile):
            raise _Refusal(400, "Bad Request: there is no photo in the request")
        if len(upload.data) > self.max_photo_bytes:
            raise _Refusal(400, "Bad Request: file is too big")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                width, height = Image.open(io.BytesIO(upload.data)).size
        except (UnidentifiedImageError, OSError, ValueError):
            raise _Refusal(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
        if width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise _Refusal(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        digest = hashlib.sha256(upload.data).hexdigest()
        file_id = f"AgAC{digest[:40]}"
        return [
            {
                "file_id": file_id,
                "file_unique_id": digest[:16],
                "width": width,
                "height": height,
                "file_size": len(upload.data),
            }
        ]

    def _keep_photo(
        self, upload: Any, sizes: list[dict[str, Any]], message: dict[str, Any]
    ) -> None:
        assert isinstance(upload, UploadedFile)
        self.photos.append(
            {
                "message_id": message["message_id"],
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(upload.data),
                "sha256": hashlib.sha256(upload.data).hexdigest(),
                "width": sizes[0]["width"],
                "height": sizes[0]["height"],
            }
        )


# --- text and entities --------------------------------------------------------------------------


def _no_parse_mode(params: Params) -> None:
    if params.get("parse_mode"):
        raise _Refusal(400, "Bad Request: the sandbox does not parse parse_mode; send entities")


def _json(params: Params, key: str) -> Any:
    value = params.get(key)
    if isinstance(value, str):
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise _Refusal(400, f"Bad Request: can't parse {key} JSON object") from None
    return value


def formatted(
    text: str, raw_entities: Any, limit: int, what: str
) -> tuple[str, list[dict[str, Any]]]:
    """Validate entities (UTF-16 units), trim, find links, check the length; as Telegram stores."""
    units = text.encode("utf-16-le", "surrogatepass")
    size = len(units) // 2
    entities = []
    for raw in raw_entities or []:
        entity = _entity(raw, units, size)
        if entity is not None:
            entities.append(entity)
    # Trim spaces and newlines at both ends (leading ones only before the first entity).
    head = min((e["offset"] for e in entities), default=size)
    start = 0
    while start < head and units[2 * start : 2 * start + 2] in (b" \x00", b"\n\x00"):
        start += 1
    end = size
    while end > start and units[2 * end - 2 : 2 * end] in (b" \x00", b"\n\x00"):
        end -= 1
    kept = []
    for entity in entities:
        stop = min(entity["offset"] + entity["length"], end)
        if stop > entity["offset"]:
            kept.append(
                {**entity, "offset": entity["offset"] - start, "length": stop - entity["offset"]}
            )
    result = units[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")
    if len(result) > limit:
        raise _Refusal(400, f"Bad Request: {what} is too long")
    kept += _found_links(result, kept)
    kept.sort(key=lambda e: (e["offset"], -e["length"]))
    return result, kept


def _entity(raw: Any, units: bytes, size: int) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        raise _Refusal(400, "Bad Request: can't parse entities: entity must be an object")
    kind, offset, length = raw.get("type"), raw.get("offset"), raw.get("length")
    if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 1:
        raise _Refusal(400, "Bad Request: can't parse entities: wrong offset or length")
    if offset + length > size:
        raise _Refusal(
            400,
            f"Bad Request: can't parse entities: entity at UTF-16 offset {offset} with length "
            f"{length} ends after the end of the text ({size} UTF-16 code units)",
        )
    for position, where in ((offset, "begins"), (offset + length, "ends")):
        if (
            position < size
            and 0xDC00 <= int.from_bytes(units[2 * position : 2 * position + 2], "little") <= 0xDFFF
        ):
            before = units[: 2 * max(position - 1, 0)].decode("utf-16-le", "surrogatepass")
            byte = len(before.encode("utf-8", "surrogatepass"))
            raise _Refusal(
                400,
                f"Bad Request: can't parse entities: Entity {where} in a middle of a UTF-16 "
                f"symbol at byte offset {byte}",
            )
    if kind in _DETECTED:
        return None  # Telegram finds these itself
    if kind not in _SETTABLE:
        raise _Refusal(400, f"Bad Request: can't parse entities: unsupported entity type {kind!r}")
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        url = str(raw.get("url") or "")
        if not url.lower().startswith(("http://", "https://", "tg://")):
            raise _Refusal(400, "Bad Request: can't parse entities: Wrong HTTP URL")
        entity["url"] = url
    return entity


def _found_links(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taken = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] == "text_link"]
    found = []
    for match in _URL.finditer(text):
        start = len(text[: match.start()].encode("utf-16-le", "surrogatepass")) // 2
        length = len(match.group().encode("utf-16-le", "surrogatepass")) // 2
        if not any(a < start + length and start < b for a, b in taken):
            found.append({"type": "url", "offset": start, "length": length})
    return found
