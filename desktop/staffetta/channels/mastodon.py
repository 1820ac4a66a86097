"""Mastodon (and servers speaking its API): the reference social channel.

Counting follows the server's ``StatusLengthValidator`` (graphemes of spoiler + text, a URL is
``characters_reserved_per_url``, ``@user@domain`` counts as ``@user``) against the instance's own
``max_characters``. Publishing uploads images (``POST /api/v2/media``, polling while the server
answers 202/206), checkpointing each media id so a retry never uploads twice, then creates the
status with an ``Idempotency-Key`` — which Mastodon honours for one hour, so within that hour an
unknown outcome is simply resent; after it, the account's own statuses are searched.

A text with ``---`` lines is a thread: each part is counted and previewed on its own and posted as
a reply to the one before (:mod:`staffetta.channels.mastodon_thread`).

Connecting (OAuth with PKCE on a loopback redirect, the out-of-band code variant, or a pasted
token) lives in :mod:`staffetta.channels.mastodon_connect` and is re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import mastodon_api as api
from staffetta.core.channel import (
    Authorization,
    Channel,
    DeliveryContext,
    Field,
    Fix,
    Limits,
    Preview,
    PreviewPart,
    Problem,
    PublishResult,
    Reconciled,
)
from staffetta.core.clock import Clock, SystemClock
from staffetta.core.errors import AuthError, InputError, TransientError
from staffetta.core.lazy import lazy_module, lazy_regex
from staffetta.core.model import Account, ChannelGroup, Post
from staffetta.core.text import entities, grapheme_count, mastodon_length
from staffetta.core.thread import join_parts, plan_thread, thread_parts

if TYPE_CHECKING:
    import httpx

    from staffetta.channels import mastodon_connect as connect
    from staffetta.channels import mastodon_thread as threads
    from staffetta.core import media
    from staffetta.core.media import ImageInfo
else:
    # Signing in and posting load with their first use: the window only asks for the account's
    # name, server and limits, and imports this module for every Mastodon account at start.
    httpx = lazy_module("httpx")
    connect = lazy_module("staffetta.channels.mastodon_connect")
    threads = lazy_module("staffetta.channels.mastodon_thread")
    media = lazy_module("staffetta.core.media")

__all__ = ["MastodonChannel"]

# Whitespace as mastodon_length sees it: a blank text counts as empty (Ruby's ``blank?``).
_BLANK = lazy_regex(r"\p{White_Space}*")


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

    def length(self, text: str, account: Account, spoiler: str = "") -> int:
        """:func:`mastodon_length` with this instance's URL weight.

        A text with no ``@`` and no ``://`` has nothing Mastodon rewrites, so it is just counted
        in graphemes: the thread splitter asks for many slices of a text, and most are plain.
        """
        if "@" not in text and "://" not in text:
            return grapheme_count(spoiler + ("" if _BLANK.fullmatch(text) else text))
        return mastodon_length(text, spoiler, self.url_weight(account))

    # --- threads ------------------------------------------------------------------------------
    supports_threads: ClassVar[bool] = True

    def fits(self, text: str, account: Account) -> bool:
        return self.length(text, account) <= self.limits(account).max_chars

    def thread_text(self, post: Post, account: Account) -> str:
        # Every part carries the content warning, which counts against each part's limit.
        limit = self.limits(account).max_chars
        parts = plan_thread(
            post.text_for(account.id),
            lambda text: self.length(text, account, post.content_warning) <= limit,
            numbering=post.thread_numbering,
        )
        return join_parts(parts)

    def parts(self, post: Post, account: Account) -> list[str]:
        """The statuses this account posts: one, or the parts of a thread (with "k/n")."""
        return thread_parts(
            post.text_for(account.id),
            lambda text: self.fits(text, account),
            numbering=post.thread_numbering,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        limits = self.limits(account)
        texts = self.parts(post, account)
        counts = [self.length(text, account, post.content_warning) for text in texts]
        problems = _length_problems(counts, limits.max_chars)
        if not any(text.strip() for text in texts) and not post.images:
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
            parts=tuple(
                PreviewPart(text, count, entities(text, require_scheme=True))
                for text, count in zip(texts, counts, strict=True)
            ),
            limit=limits.max_chars,
            unit=limits.unit,
            images=post.images,  # on the first part
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
            found: ImageInfo | InputError = media.inspect_image(Path(path))
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
        me = await connect.verify_credentials(http, base, secret, now=self._clock.now())
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
        connected = await connect.connect_with_oauth(
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
        parts = self.parts(ctx.post, ctx.account)
        return await threads.publish_parts(ctx, base, parts, self.limits(ctx.account))

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        base = self.instance_url(ctx.account)
        return await threads.reconcile_parts(ctx, base, self.parts(ctx.post, ctx.account))


def _length_problems(counts: list[int], limit: int) -> list[Problem]:
    if len(counts) == 1:
        if counts[0] <= limit:
            return []
        return [
            Problem(
                "too_long",
                f"{counts[0]} / {limit} characters — {counts[0] - limit} over",
                blocking=True,
                fix=Fix.SPLIT,
            ),
            Problem(
                "too_long_customise",
                "Or shorten the text for this account only.",
                blocking=False,
                fix=Fix.CUSTOMISE,
            ),
        ]
    return [
        Problem(
            "too_long",
            f"Part {number} of {len(counts)}: {count} / {limit} characters — {count - limit} over",
            blocking=True,
            fix=Fix.SPLIT,
        )
        for number, count in enumerate(counts, start=1)
        if count > limit
    ]


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
