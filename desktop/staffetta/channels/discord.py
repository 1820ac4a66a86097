"""Discord channel (webhook): a message in one channel, through the webhook the user created there.

Connecting takes the webhook URL, which is a password (it goes to the keyring, never to settings,
logs or messages). A post is one ``POST /webhooks/<id>/<token>?wait=true`` so Discord answers
with the message and its id is kept: the content (2000 characters, counted in code points as
Discord's Python API counts them; Markdown is Discord's own, so it goes as written), the post's
link as an embed card (title, description and image from the page) and up to ten images with
their alt text (``attachments[].description``) in a multipart ``payload_json`` request. Nobody is
pinged: ``allowed_mentions`` is empty.

Rate limits: ``X-RateLimit-Remaining: 0`` makes the next post for that webhook wait out
``X-RateLimit-Reset-After`` instead of hitting a 429; a 429's ``retry_after`` is honoured.
Webhooks have no idempotency and cannot list a channel's messages: an attempt with no answer is
*unconfirmed* unless Discord's message id was stored, in which case the message is looked up.
"""

from __future__ import annotations

import functools
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import regex

from staffetta.channels import discord_api as api
from staffetta.channels.discord_card import link_card
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
from staffetta.core.errors import AuthError, InputError, PermanentError, RateLimited, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.media import ImageInfo, inspect_image, prepare_image
from staffetta.core.model import Account, ChannelGroup, Image, Post
from staffetta.core.text import find_links

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

CONTENT_LIMIT = 2000
MAX_FILES = 10
FILE_BYTES = 10 * 1024 * 1024  # a server without boosts takes 10 MiB per file
MAX_PIXELS = 40_000_000
ALT_LIMIT = 1024  # attachments[].description
SUPPRESS_EMBEDS = 1 << 2
_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
_OFF = ("off", "no", "false", "0", "disabled")
_SURROGATE = regex.compile(r"[\ud800-\udfff]")


def content_of(text: str) -> str:
    """The ``content`` Discord gets: trimmed, lone surrogates (unsendable) replaced."""
    return str(_SURROGATE.sub("\ufffd", text)).strip()


def discord_length(text: str) -> int:
    """Discord's count against 2000: code points of the trimmed content."""
    return len(content_of(text))


class DiscordChannel(Channel):
    name: ClassVar[str] = "discord"
    label: ClassVar[str] = "Discord"
    group: ClassVar[ChannelGroup] = ChannelGroup.SOCIAL
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "webhook_url",
            "Webhook URL",
            "In Discord: the channel's settings › Integrations › Webhooks › New Webhook › Copy "
            "Webhook URL. Keep it private: anyone with it can post in the channel.",
            secret=True,
        ),
        Field(
            "link_card",
            "Link card",
            "on or off: show the post's link as a card (title, description, picture).",
            required=False,
            default="on",
        ),
        Field(
            "server",
            "Server",
            "Leave empty. Only for the Staffetta sandbox on this computer.",
            required=False,
        ),
    )

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._buckets = api.Buckets()
        self._hooks: dict[str, dict[str, str]] = {}  # webhook id -> guild, channel, name
        api.hide_tokens_in_logs()

    # --- identity -----------------------------------------------------------------------------
    def server(self, account: Account) -> str:
        return api.normalise_server(str(account.settings.get("server") or ""))

    def endpoint(self, account: Account) -> str:
        try:
            return self.server(account)
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        return str(account.settings.get("handle") or "webhook")

    def _cards_on(self, account: Account) -> bool:
        return str(account.settings.get("link_card", "on")).strip().lower() not in _OFF

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=CONTENT_LIMIT,
            max_images=MAX_FILES,
            max_image_bytes=FILE_BYTES,
            max_image_pixels=MAX_PIXELS,
            max_alt_chars=ALT_LIMIT,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        content = content_of(post.text_for(account.id))
        count = len(content)
        problems: list[Problem] = []
        if count > CONTENT_LIMIT:
            problems.append(
                Problem(
                    "too_long",
                    f"{count} / {CONTENT_LIMIT} characters — {count - CONTENT_LIMIT} over. "
                    "Shorten the text for this channel.",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        card = bool(post.link) and self._cards_on(account)
        if not content and not post.images and not card:
            problems.append(Problem("empty", "Write something or add an image.", blocking=True))
        if len(post.images) > MAX_FILES:
            problems.append(
                Problem(
                    "too_many_images",
                    f"{len(post.images)} images — a Discord message holds at most {MAX_FILES}.",
                    blocking=True,
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            problems.extend(_image_problems(number, image))
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=(PreviewPart(content, count, find_links(content)),),
            limit=CONTENT_LIMIT,
            unit="characters",
            images=post.images,
            problems=tuple(problems),
        )

    # --- health and credentials ---------------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        """``GET /gateway``: Discord's cheapest call that needs no credentials."""
        url = f"{self.server(account)}/api/{api.API_VERSION}/gateway"
        try:
            response = await http.get(url)
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach Discord: {api.scrub(str(exc))}") from None
        if response.status_code >= 500:
            raise TransientError(f"Discord answers HTTP {response.status_code}.")

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        """The webhook exists (``GET`` it); returns its channel as ``#<channel id>``."""
        if not secret:
            raise AuthError("This Discord account has no webhook URL — reconnect it.")
        webhook = api.parse_webhook_url(secret)
        server = self.server(account)
        if webhook.origin != server:
            where = "Discord" if webhook.on_discord else webhook.origin
            raise InputError(
                f"The webhook is on {where} but the account's server is {server}: "
                + ("leave the server empty." if webhook.on_discord else f"set it to {where}.")
            )
        self._hooks.pop(webhook.id, None)
        info = await self._info(http, webhook, self._clock.now())
        return f"#{info['channel_id']}"

    async def _info(
        self, http: httpx.AsyncClient, webhook: api.Webhook, now: float
    ) -> dict[str, str]:
        """The webhook's guild, channel and name (``GET`` the webhook once per process)."""
        known = self._hooks.get(webhook.id)
        if known is not None:
            return known
        response = await api.request(http, "GET", webhook.url, webhook.token, now=now)
        found = api.payload_of(response)
        info = {key: str(found.get(key) or "") for key in ("guild_id", "channel_id", "name")}
        self._hooks[webhook.id] = info
        return info

    def _webhook(self, secret: str | None) -> api.Webhook:
        try:
            return api.parse_webhook_url(secret)
        except InputError as exc:
            raise AuthError(f"The stored webhook URL cannot be used ({exc}) — reconnect.") from None

    # --- delivering ---------------------------------------------------------------------------
    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        webhook = self._webhook(ctx.secret)
        post, account = ctx.post, ctx.account
        if len(post.images) > MAX_FILES:
            raise PermanentError(
                f"This post has {len(post.images)} images; a Discord message holds {MAX_FILES}. "
                "Remove some and queue it again."
            )
        wait = self._buckets.wait(webhook.id, ctx.clock.now())
        if wait > 0:  # Discord said the window is used up: nothing leaves until it resets
            raise RateLimited(
                f"Discord's rate limit for this webhook resets in {wait:.1f} s.", wait
            )
        info = await self._info(ctx.http, webhook, ctx.clock.now())
        checkpoint = dict(ctx.checkpoint)
        if post.link and self._cards_on(account) and "card" not in checkpoint:
            checkpoint["card"] = await link_card(ctx.http, post.link, post.title)
            await ctx.save_checkpoint(checkpoint)  # the same card on every attempt
        payload, files = self._message(post, account, checkpoint.get("card"))
        if not payload.get("content") and not files and not payload.get("embeds"):
            raise PermanentError("There is nothing to post: the text is empty and has no image.")
        url = (
            webhook.url
            + "?wait=true"
            + (f"&thread_id={webhook.thread_id}" if webhook.thread_id else "")
        )
        kwargs: dict[str, Any] = (
            {"data": {"payload_json": json.dumps(payload, ensure_ascii=False)}, "files": files}
            if files
            else {"json": payload}
        )
        response = await api.request(
            ctx.http, "POST", url, webhook.token, now=ctx.clock.now(), publishes=True, **kwargs
        )
        self._buckets.update(webhook.id, response, ctx.clock.now())
        message = api.payload_of(response)
        message_id = str(message.get("id") or "")
        channel_id = str(message.get("channel_id") or info["channel_id"])
        checkpoint.update(message_id=message_id, channel_id=channel_id)
        await ctx.save_checkpoint(checkpoint)
        link = api.channel_url(webhook.origin, info["guild_id"], channel_id, message_id)
        return PublishResult(message_id, link if message_id else "")

    def _message(
        self, post: Post, account: Account, card: Any
    ) -> tuple[dict[str, Any], list[tuple[str, tuple[str, bytes, str]]]]:
        payload: dict[str, Any] = {
            "content": content_of(post.text_for(account.id)),
            "allowed_mentions": {"parse": []},
        }
        if not self._cards_on(account):
            payload["flags"] = SUPPRESS_EMBEDS
        elif isinstance(card, dict):
            payload["embeds"] = [card]
        files: list[tuple[str, tuple[str, bytes, str]]] = []
        attachments = []
        for number, image in enumerate(post.images):
            name, data, mime = _file(number, image)
            files.append((f"files[{number}]", (name, data, mime)))
            attachment: dict[str, Any] = {"id": number, "filename": name}
            if image.alt.strip():
                attachment["description"] = image.alt.strip()[:ALT_LIMIT]
            attachments.append(attachment)
        if attachments:
            payload["attachments"] = attachments
        return payload, files

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        webhook = self._webhook(ctx.secret)
        now = ctx.clock.now()
        info = await self._info(ctx.http, webhook, now)
        message_id = str(ctx.checkpoint.get("message_id") or "")
        channel_id = str(ctx.checkpoint.get("channel_id") or info["channel_id"])
        where = api.channel_url(webhook.origin, info["guild_id"], channel_id)
        if message_id:
            response = await api.request(
                ctx.http,
                "GET",
                f"{webhook.url}/messages/{message_id}",
                webhook.token,
                now=now,
                ok=(200, 404),
            )
            if response.status_code == 200:
                link = api.channel_url(webhook.origin, info["guild_id"], channel_id, message_id)
                return Reconciled(
                    Outcome.SENT, message_id, link, evidence="Discord has the message."
                )
            if api.error_code(response) != api.UNKNOWN_MESSAGE:
                raise api.classify(response, now)
            return Reconciled(
                Outcome.UNKNOWN,
                evidence=f"Discord created message {message_id} for this post, but it is no "
                f"longer in the channel ({where}) — perhaps someone deleted it. Mark it as sent "
                "to leave it so, or send it again.",
            )
        when = _when(ctx.delivery.last_attempt_at)
        lines = [
            "Discord webhooks can neither list a channel's messages nor repeat a request safely, "
            f"so Staffetta cannot tell whether this post went out: the request left{when} but no "
            "answer came back.",
        ]
        if ctx.delivery.last_error:
            lines.append(f"What happened: {api.scrub(ctx.delivery.last_error, webhook.token)}")
        lines.append(
            f"Look at the channel ({where}): if the post is there, mark this delivery as sent; "
            "if not, send it again."
        )
        return Reconciled(Outcome.UNKNOWN, evidence=" ".join(lines))


def _file(number: int, image: Image) -> tuple[str, bytes, str]:
    try:
        prepared = prepare_image(
            Path(image.path), max_bytes=FILE_BYTES, max_pixels=MAX_PIXELS, allowed=_FORMATS
        )
    except InputError as exc:
        raise PermanentError(f"Image {number + 1} cannot be sent: {exc}") from None
    extension = prepared.format.lower().replace("jpeg", "jpg")
    return (f"image-{number + 1}.{extension}", prepared.data, prepared.mime)


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
    problems = []
    alt = image.alt.strip()
    if not alt:
        problems.append(
            Problem(
                "missing_alt",
                f"{label} has no description (alt text) for people who cannot see it.",
                blocking=False,
                fix=Fix.ADD_ALT,
            )
        )
    elif len(alt) > ALT_LIMIT:
        problems.append(
            Problem(
                "alt_too_long",
                f"{label}: the description is {len(alt)} characters; Discord takes {ALT_LIMIT}.",
                blocking=True,
                fix=Fix.ADD_ALT,
            )
        )
    if info.size_bytes > FILE_BYTES or info.width * info.height > MAX_PIXELS:
        problems.append(
            Problem(
                "image_too_large",
                f"{label} is larger than Discord takes ({FILE_BYTES // (1024 * 1024)} MB); it "
                "will be resized when sent.",
                blocking=False,
                fix=Fix.RESIZE,
            )
        )
    return problems


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
