"""Mastodon (and servers speaking its API): the reference social channel.

Counting follows the server's ``StatusLengthValidator`` (graphemes of spoiler + text, a URL is
``characters_reserved_per_url``, ``@user@domain`` counts as ``@user``) against the instance's own
``max_characters``. Publishing uploads images (``POST /api/v2/media``, polling while the server
answers 202/206), checkpointing each media id so a retry never uploads twice, then creates the
status with an ``Idempotency-Key`` — which Mastodon honours for one hour, so within that hour an
unknown outcome is simply resent; after it, the account's own statuses are searched.

Connecting (OAuth with PKCE on a loopback redirect, the out-of-band code variant, or a pasted
token) lives in :mod:`staffetta.channels.mastodon_connect` and is re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx

from staffetta.channels import mastodon_api as api
from staffetta.channels.mastodon_connect import (
    AppRegistration,
    ConnectedAccount,
    OobAuthorization,
    authorize_url,
    begin_oob_connect,
    connect_with_oauth,
    connect_with_oob_code,
    connect_with_token,
    exchange_code,
    register_app,
    verify_credentials,
)
from staffetta.channels.mastodon_media import upload_media
from staffetta.core.channel import (
    Authorization,
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
from staffetta.core.errors import AuthError, InputError, TransientError
from staffetta.core.media import ImageInfo, inspect_image
from staffetta.core.model import Account, ChannelGroup, Post
from staffetta.core.text import entities, mastodon_length

__all__ = [
    "AppRegistration",
    "ConnectedAccount",
    "MastodonChannel",
    "OobAuthorization",
    "authorize_url",
    "begin_oob_connect",
    "connect_with_oauth",
    "connect_with_oob_code",
    "connect_with_token",
    "exchange_code",
    "register_app",
    "verify_credentials",
]

IDEMPOTENCY_WINDOW = 55 * 60.0  # Mastodon keeps Idempotency-Key for 1 h; keep a safety margin
RECONCILE_SLACK = 60.0
RECONCILE_MAX_PAGES = 10


class MastodonChannel(Channel):
    name: ClassVar[str] = "mastodon"
    label: ClassVar[str] = "Mastodon"
    group: ClassVar[ChannelGroup] = ChannelGroup.SOCIAL
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "instance_url",
            "Server",
            "Your Mastodon server's address, the part after the second @ of your handle "
            "(for example mastodon.social).",
        ),
        Field(
            "handle",
            "Handle",
            "Filled in when you connect, like @you@mastodon.social.",
            required=False,
        ),
        Field(
            "access_token",
            "Access token",
            "Optional. Leave empty to sign in through your browser; or paste a token from "
            "Preferences → Development on your server (scopes: read, write).",
            secret=True,
            required=False,
        ),
    )

    def __init__(self, clock: Clock | None = None) -> None:
        # For calls that get no DeliveryContext (settings, verify): reading rate-limit resets.
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._image_cache: dict[tuple[str, int, int], ImageInfo | InputError] = {}

    # --- identity -----------------------------------------------------------------------------
    def instance_url(self, account: Account) -> str:
        return api.normalise_instance_url(str(account.settings.get("instance_url", "")))

    def endpoint(self, account: Account) -> str:
        try:
            return api.origin_of(self.instance_url(account))
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or "")
        if handle.count("@") >= 2:
            return handle
        user = handle.lstrip("@") or account.name
        domain = str(account.settings.get("domain") or "")
        if not domain:
            try:
                domain = api.host_of(self.instance_url(account))
            except InputError:
                return f"@{user}"
        return f"@{user}@{domain}"

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        s = account.settings
        return Limits(
            max_chars=_setting(s, "max_characters", api.DEFAULT_MAX_CHARACTERS),
            max_images=_setting(s, "max_media_attachments", api.DEFAULT_MAX_MEDIA),
            max_image_bytes=_setting(s, "image_size_limit", api.DEFAULT_IMAGE_BYTES),
            max_image_pixels=_setting(s, "image_matrix_limit", api.DEFAULT_IMAGE_PIXELS),
            max_alt_chars=_setting(s, "description_limit", api.DEFAULT_DESCRIPTION_LIMIT),
        )

    def url_weight(self, account: Account) -> int:
        return _setting(account.settings, "characters_reserved_per_url", api.DEFAULT_URL_WEIGHT)

    def preview(self, post: Post, account: Account) -> Preview:
        limits = self.limits(account)
        text = post.text_for(account.id)
        count = mastodon_length(text, post.content_warning, self.url_weight(account))
        problems: list[Problem] = []
        if count > limits.max_chars:
            over = count - limits.max_chars
            problems.append(
                Problem(
                    "too_long",
                    f"{count} / {limits.max_chars} characters — {over} over",
                    blocking=True,
                    fix=Fix.SPLIT,
                )
            )
            problems.append(
                Problem(
                    "too_long_customise",
                    "Or shorten the text for this account only.",
                    blocking=False,
                    fix=Fix.CUSTOMISE,
                )
            )
        if not text.strip() and not post.images:
            problems.append(Problem("empty", "Write something or add an image.", blocking=True))
        if len(post.images) > limits.max_images:
            problems.append(
                Problem(
                    "too_many_images",
                    f"{len(post.images)} images — this server accepts at most {limits.max_images}.",
                    blocking=True,
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            info = self._inspect(image.path)
            problems.extend(_image_problems(number, image.path, image.alt, limits, info))
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=(PreviewPart(text, count, entities(text, require_scheme=True)),),
            limit=limits.max_chars,
            unit=limits.unit,
            images=post.images,
            problems=tuple(problems),
        )

    def _inspect(self, path: str) -> ImageInfo | InputError:
        """``inspect_image``, remembered per file version: previews run on every keystroke."""
        try:
            stat = os.stat(path)
            key: tuple[str, int, int] | None = (path, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None
        if key is not None and key in self._image_cache:
            return self._image_cache[key]
        try:
            found: ImageInfo | InputError = inspect_image(Path(path))
        except InputError as exc:
            found = exc
        if key is not None:
            if len(self._image_cache) >= 64:
                self._image_cache.pop(next(iter(self._image_cache)))
            self._image_cache[key] = found
        return found

    # --- settings, health, credentials --------------------------------------------------------
    async def refresh_settings(self, http: httpx.AsyncClient, account: Account) -> dict[str, Any]:
        return await api.fetch_instance_settings(
            http, self.instance_url(account), now=self._clock.now()
        )

    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        url = self.instance_url(account) + "/health"
        try:
            response = await http.get(url)
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach Mastodon at {api.host_of(url)}: {exc}") from None
        if response.status_code != 200:
            raise TransientError(
                f"Mastodon at {api.host_of(url)} reports it is unhealthy "
                f"(HTTP {response.status_code})."
            )

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        if not secret:
            raise AuthError("This Mastodon account has no access token — reconnect it.")
        base = self.instance_url(account)
        me = await verify_credentials(http, base, secret, now=self._clock.now())
        domain = str(account.settings.get("domain") or api.host_of(base))
        return f"@{me['username']}@{domain}"

    # --- connecting ---------------------------------------------------------------------------
    browser_sign_in: ClassVar[bool] = True

    async def authorize(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        open_browser: Callable[[str], Any] | None = None,
    ) -> Authorization:
        """OAuth in the browser (PKCE, loopback redirect); the token goes to the keyring."""
        connected = await connect_with_oauth(
            http,
            str(settings.get("instance_url", "")),
            open_browser=open_browser,
            clock=self._clock,
        )
        return Authorization(connected.token, connected.settings)

    # --- delivering ---------------------------------------------------------------------------
    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        if not ctx.secret:
            raise AuthError("This Mastodon account has no access token — reconnect it.")
        base = self.instance_url(ctx.account)
        media_ids = await upload_media(ctx, base, self.limits(ctx.account))
        body: dict[str, Any] = {
            "status": ctx.post.text_for(ctx.account.id),
            "visibility": str(ctx.account.settings.get("visibility") or "public"),
        }
        if media_ids:
            body["media_ids"] = media_ids
        if ctx.post.content_warning:
            body["spoiler_text"] = ctx.post.content_warning
        language = ctx.account.settings.get("language")
        if language:
            body["language"] = str(language)
        response = await api.request(
            ctx.http,
            "POST",
            f"{base}/api/v1/statuses",
            now=ctx.clock.now(),
            token=ctx.secret,
            json=body,
            headers={"Idempotency-Key": ctx.delivery.idempotency_key},
        )
        status = api.json_object(response, "the new post")
        if not status.get("id"):
            raise TransientError("Mastodon accepted the post but its reply had no id.")
        return PublishResult(str(status["id"]), str(status.get("url") or status.get("uri") or ""))

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        now = ctx.clock.now()
        first = ctx.delivery.first_attempt_at
        if first is None or now - first < IDEMPOTENCY_WINDOW:
            return Reconciled(
                Outcome.RETRY_SAFE,
                evidence="Mastodon remembers the Idempotency-Key for an hour: resending returns "
                "the post if it was already created.",
            )
        if not ctx.secret:
            raise AuthError("This Mastodon account has no access token — reconnect it.")
        base = self.instance_url(ctx.account)
        account_id = str(ctx.account.settings.get("account_id") or "")
        if not account_id:
            me = await verify_credentials(ctx.http, base, ctx.secret, now=now)
            account_id = str(me["id"])
        wanted_text = api.comparable_text(ctx.post.text_for(ctx.account.id))
        wanted_cw = api.comparable_text(ctx.post.content_warning)
        since = first - RECONCILE_SLACK
        params: dict[str, str | int] = {"limit": 40, "exclude_reblogs": "true"}
        for _ in range(RECONCILE_MAX_PAGES):
            response = await api.request(
                ctx.http,
                "GET",
                f"{base}/api/v1/accounts/{account_id}/statuses",
                now=now,
                token=ctx.secret,
                params=params,
            )
            page = response.json()
            if not isinstance(page, list) or not page:
                break
            reached_older = False
            for status in page:
                if not isinstance(status, dict):
                    continue
                created = _timestamp(status.get("created_at"))
                if created is not None and created < since:
                    reached_older = True
                    continue
                if _same_post(status, wanted_text, wanted_cw):
                    return Reconciled(
                        Outcome.SENT,
                        remote_id=str(status.get("id", "")),
                        url=str(status.get("url") or status.get("uri") or ""),
                        evidence="Found on the account's timeline.",
                    )
            if reached_older:
                break
            params = {**params, "max_id": str(page[-1].get("id", ""))}
        else:
            return Reconciled(
                Outcome.UNKNOWN,
                evidence=f"Looked through {RECONCILE_MAX_PAGES * 40} recent posts without "
                "reaching the time of the attempt; check the account's profile.",
            )
        return Reconciled(
            Outcome.NOT_SENT, evidence="No matching post on the account since the first attempt."
        )


def _setting(settings: dict[str, Any], key: str, default: int) -> int:
    value = settings.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return default


def _image_problems(
    number: int, path: str, alt: str, limits: Limits, info: ImageInfo | InputError
) -> list[Problem]:
    label = f"Image {number} ({os.path.basename(path)})"
    if isinstance(info, InputError):
        return [
            Problem("image_unreadable", f"{label}: {info}", blocking=True, fix=Fix.REMOVE_IMAGES)
        ]
    problems: list[Problem] = []
    if not alt.strip():
        problems.append(
            Problem(
                "missing_alt",
                f"{label} has no description (alt text) for people who cannot see it.",
                blocking=False,
                fix=Fix.ADD_ALT,
            )
        )
    elif len(alt) > limits.max_alt_chars:
        problems.append(
            Problem(
                "alt_too_long",
                f"{label}: the description is {len(alt)} characters; this server accepts "
                f"{limits.max_alt_chars}.",
                blocking=True,
                fix=Fix.ADD_ALT,
            )
        )
    if (
        info.size_bytes > limits.max_image_bytes
        or info.width * info.height > limits.max_image_pixels
    ):
        problems.append(
            Problem(
                "image_too_large",
                f"{label} is larger than this server accepts; it will be resized when sent.",
                blocking=False,
                fix=Fix.RESIZE,
            )
        )
    return problems


def _same_post(status: dict[str, Any], wanted_text: str, wanted_cw: str) -> bool:
    if api.comparable_text(str(status.get("spoiler_text") or "")) != wanted_cw:
        return False
    source = status.get("text")
    if isinstance(source, str) and api.comparable_text(source) == wanted_text:
        return True
    content = status.get("content")
    return (
        isinstance(content, str) and api.comparable_text(api.html_to_text(content)) == wanted_text
    )


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
