"""Telegram channel (Bot API): a bot posts to a channel where it is an administrator.

Text goes out plain with ``entities`` (see :mod:`staffetta.channels.telegram_text` for the
Markdown subset and how Telegram counts). A post with no image is one ``sendMessage`` (4096
characters, link preview on or off as the account says); one image is a ``sendPhoto``, two to ten
an album (``sendMediaGroup``), with the text as the caption of the first photo when it fits in
1024 characters — otherwise the photos go first and the text follows as a second message.

Bots have no idempotency key and cannot read a channel's history, so nothing is ever resent on a
guess: each message that Telegram confirmed is checkpointed before the next one leaves, and an
attempt that got no answer becomes *unconfirmed*, with what is known shown to the user, who looks
at the channel and decides.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import telegram_api as api
from staffetta.channels.telegram_text import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    TelegramText,
    format_text,
)
from staffetta.core.channel import (
    Channel,
    DeliveryContext,
    Field,
    Fix,
    Limits,
    Outcome,
    Preview,
    PreviewPart,
    Problem,
    PublishResult,
    Reconciled,
)
from staffetta.core.clock import Clock, SystemClock
from staffetta.core.errors import AuthError, InputError, PermanentError, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.media import ImageInfo, inspect_image, prepare_image
from staffetta.core.model import Account, ChannelGroup, Image, Post

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

MAX_PHOTOS = 10  # sendMediaGroup takes 2-10 items
PHOTO_BYTES = 10 * 1024 * 1024  # sendPhoto: at most 10 MB
PHOTO_SIDE = 2560  # Telegram scales photos to 2560 px: sending more only costs upload time
MAX_ASPECT = 20  # width/height ratio Telegram accepts for a photo
_FORMATS = ("JPEG", "PNG")
_OFF = ("off", "no", "false", "0", "disabled")


@dataclass(frozen=True, slots=True)
class _Step:
    """One message (or album) of a delivery."""

    kind: str  # "text" or "photos"
    text: TelegramText


class TelegramChannel(Channel):
    name: ClassVar[str] = "telegram"
    label: ClassVar[str] = "Telegram"
    group: ClassVar[ChannelGroup] = ChannelGroup.SOCIAL
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "channel",
            "Channel",
            "The channel's public name, like @mychannel, or for a private channel its numeric "
            "id, like -1001234567890.",
        ),
        Field(
            "bot_token",
            "Bot token",
            "Create a bot with @BotFather (/newbot) and paste the token it gives you. Then add "
            "the bot to your channel as an administrator allowed to post messages.",
            secret=True,
        ),
        Field(
            "link_preview",
            "Link previews",
            "on or off: show a preview card under posts that contain a link.",
            required=False,
            default="on",
        ),
        Field(
            "api_url",
            "Bot API server",
            "Leave empty. Only for a local Bot API server or the Staffetta sandbox.",
            required=False,
        ),
    )

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        api.hide_tokens_in_logs()

    # --- identity -----------------------------------------------------------------------------
    def api_url(self, account: Account) -> str:
        return api.normalise_api_url(str(account.settings.get("api_url") or ""))

    def chat(self, account: Account) -> str:
        return api.normalise_chat(str(account.settings.get("channel") or ""))

    def endpoint(self, account: Account) -> str:
        try:
            return self.api_url(account)
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        return str(account.settings.get("handle") or account.settings.get("channel") or "")

    def _link_base(self, account: Account) -> str:
        base = self.api_url(account)
        return api.OFFICIAL_LINKS if base == api.OFFICIAL_API else base

    def _previews_on(self, account: Account) -> bool:
        return str(account.settings.get("link_preview", "on")).strip().lower() not in _OFF

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=TEXT_LIMIT,
            max_images=MAX_PHOTOS,
            max_image_bytes=PHOTO_BYTES,
            max_image_pixels=PHOTO_SIDE * PHOTO_SIDE,
        )  # no alt text on Telegram: the default alt limit stays (the text is shared)

    def preview(self, post: Post, account: Account) -> Preview:
        text = format_text(post.text_for(account.id))
        count = text.length
        captioned = bool(post.images) and count <= CAPTION_LIMIT
        limit = CAPTION_LIMIT if captioned else TEXT_LIMIT
        problems: list[Problem] = []
        if count > TEXT_LIMIT:
            problems.append(
                Problem(
                    "too_long",
                    f"{count} / {TEXT_LIMIT} characters — {count - TEXT_LIMIT} over. Shorten the "
                    "text for this channel.",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        elif post.images and not captioned:
            problems.append(
                Problem(
                    "caption_separate",
                    f"Longer than a photo caption ({CAPTION_LIMIT} characters): the photos go "
                    "out first and the text follows as a second message.",
                    blocking=False,
                )
            )
        if not count and not post.images:
            problems.append(Problem("empty", "Write something or add an image.", blocking=True))
        if len(post.images) > MAX_PHOTOS:
            problems.append(
                Problem(
                    "too_many_images",
                    f"{len(post.images)} images — a Telegram album holds at most {MAX_PHOTOS}.",
                    blocking=True,
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            problems.extend(_image_problems(number, image))
        if any(image.alt.strip() for image in post.images):
            problems.append(
                Problem(
                    "alt_not_sent",
                    "Telegram has no image descriptions: the alt text is not sent there.",
                    blocking=False,
                )
            )
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=(PreviewPart(text.text, count, text.spans()),),
            limit=limit,
            unit="characters",
            images=post.images,
            problems=tuple(problems),
        )

    # --- health and credentials ---------------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        """The Bot API's root answers without a token (Telegram redirects it to its docs)."""
        base = self.api_url(account)
        try:
            response = await http.get(base + "/")
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach Telegram: {api.scrub(str(exc))}") from None
        if response.status_code >= 500:
            raise TransientError(f"Telegram answers HTTP {response.status_code}.")

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        """The token works (``getMe``), the channel exists and the bot may post in it."""
        token = api.check_token(secret)
        base, chat_id, now = self.api_url(account), self.chat(account), self._clock.now()
        me = await api.call(http, base, token, "getMe", now=now)
        bot = f"@{me.get('username')}" if isinstance(me, dict) else "the bot"
        try:
            chat = await api.call(http, base, token, "getChat", now=now, json={"chat_id": chat_id})
            member = await api.call(
                http,
                base,
                token,
                "getChatMember",
                now=now,
                json={"chat_id": chat_id, "user_id": me.get("id") if isinstance(me, dict) else 0},
            )
        except AuthError as exc:  # about the channel, not the token: say what to do
            raise InputError(
                f"{bot} cannot use {chat_id} (Telegram said: {api.telegram_said(exc)}). Check the "
                f"channel's name, add {bot} to it as an administrator allowed to post messages, "
                "then connect again."
            ) from None
        chat = chat if isinstance(chat, dict) else {}
        member = member if isinstance(member, dict) else {}
        status = member.get("status")
        can_post = status == "creator" or (
            status == "administrator"
            and (chat.get("type") != "channel" or member.get("can_post_messages") is not False)
        )
        if not can_post:
            raise InputError(
                f"{bot} is not an administrator of {chat_id} allowed to post messages (it is "
                f"“{status or 'unknown'}” there). In the channel: Administrators › Add Admin › "
                f"{bot}, with “Post messages” on; then connect again."
            )
        username = chat.get("username")
        return f"@{username}" if username else str(chat.get("title") or chat_id)

    # --- delivering ---------------------------------------------------------------------------
    def _steps(self, post: Post, account: Account) -> list[_Step]:
        text = format_text(post.text_for(account.id))
        if not post.images:
            return [_Step("text", text)]
        if text.length <= CAPTION_LIMIT:
            return [_Step("photos", text)]
        return [_Step("photos", TelegramText("")), _Step("text", text)]

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        token = api.check_token(ctx.secret)
        account, post = ctx.account, ctx.post
        base, chat_id = self.api_url(account), self.chat(account)
        steps = self._steps(post, account)
        if steps[0].kind == "text" and not steps[0].text.length:
            raise PermanentError("There is nothing to post: the text is empty and has no image.")
        if len(post.images) > MAX_PHOTOS:
            raise PermanentError(
                f"This post has {len(post.images)} images; a Telegram album holds {MAX_PHOTOS}. "
                "Remove some and queue it again."
            )
        sent: list[list[int]] = [list(ids) for ids in ctx.checkpoint.get("sent", [])]
        chat: dict[str, Any] = dict(ctx.checkpoint.get("chat") or {})
        for step in steps[len(sent) :]:
            if step.kind == "text":
                messages = [await self._send_text(ctx, base, token, chat_id, step.text)]
            else:
                messages = await self._send_photos(ctx, base, token, chat_id, step.text)
            ids = [int(m["message_id"]) for m in messages if _has_id(m)]
            found = next((m["chat"] for m in messages if isinstance(m.get("chat"), dict)), None)
            if found:
                chat = {"id": found.get("id"), "username": found.get("username") or ""}
            sent.append(ids)
            # Durable before the next message leaves: a retry never repeats this one.
            await ctx.save_checkpoint({"sent": sent, "chat": chat})
        first = next((ids[0] for ids in sent if ids), None)
        if first is None:
            return PublishResult("")
        return PublishResult(str(first), api.message_url(self._link_base(account), chat, first))

    async def _send_text(
        self, ctx: DeliveryContext, base: str, token: str, chat_id: str, text: TelegramText
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"chat_id": chat_id, "text": text.text}
        if text.entities:
            body["entities"] = text.api_entities()
        if not self._previews_on(ctx.account):
            body["link_preview_options"] = {"is_disabled": True}
        elif ctx.post.link:
            body["link_preview_options"] = {"url": ctx.post.link}
        result = await api.call(
            ctx.http, base, token, "sendMessage", now=ctx.clock.now(), publishes=True, json=body
        )
        return result if isinstance(result, dict) else {}

    async def _send_photos(
        self, ctx: DeliveryContext, base: str, token: str, chat_id: str, caption: TelegramText
    ) -> list[dict[str, Any]]:
        files = {f"photo{n}": _photo(n, image) for n, image in enumerate(ctx.post.images)}
        described: dict[str, Any] = {}
        if caption.text:
            described["caption"] = caption.text
            if caption.entities:
                described["caption_entities"] = caption.api_entities()
        now = ctx.clock.now()
        if len(files) == 1:
            form = {"chat_id": chat_id, **_form(described)}
            result = await api.call(
                ctx.http,
                base,
                token,
                "sendPhoto",
                now=now,
                publishes=True,
                data=form,
                files={"photo": files["photo0"]},
            )
            return [result] if isinstance(result, dict) else []
        media = [
            {"type": "photo", "media": f"attach://{name}", **(described if n == 0 else {})}
            for n, name in enumerate(files)
        ]
        result = await api.call(
            ctx.http,
            base,
            token,
            "sendMediaGroup",
            now=now,
            publishes=True,
            data={"chat_id": chat_id, "media": json.dumps(media, ensure_ascii=False)},
            files=files,
        )
        return [m for m in result if isinstance(m, dict)] if isinstance(result, list) else []

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        steps = self._steps(ctx.post, ctx.account)
        sent = [list(ids) for ids in ctx.checkpoint.get("sent", [])]
        chat = dict(ctx.checkpoint.get("chat") or {})
        if len(sent) >= len(steps):
            first = next((ids[0] for ids in sent if ids), None)
            return Reconciled(
                Outcome.SENT,
                remote_id=str(first or ""),
                url=api.message_url(self._link_base(ctx.account), chat, first) if first else "",
                evidence="Telegram had confirmed every message of this post.",
            )
        return Reconciled(Outcome.UNKNOWN, evidence=self._evidence(ctx, steps, sent))

    def _evidence(self, ctx: DeliveryContext, steps: list[_Step], sent: list[list[int]]) -> str:
        where = self.handle(ctx.account) or "the channel"
        doubtful = steps[len(sent)]
        what = "the photos" if doubtful.kind == "photos" else "the text"
        when = _when(ctx.delivery.last_attempt_at)
        lines = [
            f"Telegram lets bots neither look up what they posted nor repeat a request safely, so "
            f"Staffetta cannot tell whether {what} reached {where}: the request left{when} but "
            f"no answer came back.",
        ]
        if ctx.delivery.last_error:
            lines.append(f"What happened: {api.scrub(ctx.delivery.last_error)}")
        if sent:
            lines.append(
                f"The photos before it did go out (message {', '.join(map(str, sent[0]))}); "
                f"sending again sends only {what}."
            )
        elif len(steps) > 1:
            lines.append(
                "The text that follows the photos has not been sent yet: if the photos are in "
                "the channel, post the text there yourself before marking this as sent."
            )
        lines.append(
            f"Look at {where}: if it is there, mark this delivery as sent; if not, send it again."
        )
        return " ".join(lines)


def _has_id(message: dict[str, Any]) -> bool:
    value = message.get("message_id")
    return isinstance(value, int) and not isinstance(value, bool)


def _form(values: dict[str, Any]) -> dict[str, str]:
    """Multipart fields: JSON-typed parameters are sent as JSON text, as the Bot API expects."""
    return {
        key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in values.items()
    }


def _photo(number: int, image: Image) -> tuple[str, bytes, str]:
    try:
        prepared = prepare_image(
            Path(image.path),
            max_bytes=PHOTO_BYTES,
            max_pixels=PHOTO_SIDE * PHOTO_SIDE,
            max_side=PHOTO_SIDE,
            allowed=_FORMATS,
        )
    except InputError as exc:
        raise PermanentError(f"Image {number + 1} cannot be sent: {exc}") from None
    extension = prepared.format.lower().replace("jpeg", "jpg")
    return (f"photo-{number + 1}.{extension}", prepared.data, prepared.mime)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return " at " + datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _image_problems(number: int, image: Image) -> list[Problem]:
    label = f"Image {number} ({os.path.basename(image.path)})"
    info = _inspect(image.path)
    if isinstance(info, InputError):
        return [
            Problem("image_unreadable", f"{label}: {info}", blocking=True, fix=Fix.REMOVE_IMAGES)
        ]
    long_side, short_side = max(info.width, info.height), min(info.width, info.height)
    if long_side > MAX_ASPECT * max(short_side, 1):
        return [
            Problem(
                "image_shape",
                f"{label} is more than {MAX_ASPECT} times longer than it is wide; Telegram "
                "refuses photos of that shape.",
                blocking=True,
                fix=Fix.REMOVE_IMAGES,
            )
        ]
    return []


def _inspect(path: str) -> ImageInfo | InputError:
    try:
        stat = os.stat(path)
    except OSError:
        return _inspect_version(path, 0, -1)
    return _inspect_version(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _inspect_version(path: str, mtime_ns: int, size: int) -> ImageInfo | InputError:
    """``inspect_image`` remembered per file version: previews run on every keystroke."""
    try:
        return inspect_image(Path(path))
    except InputError as exc:
        return exc
