"""X (formerly Twitter), through the API v2 with the user's own developer app.

Counting is X's weighted count (twitter-text v3: NFC, weights by code point range, an emoji
sequence 2, every link 23) against 280. A text with ``---`` lines is a thread, posted as a chain
of replies (:mod:`staffetta.channels.x_posts`); images (up to 4, on the first part) go through
the v2 media upload (:mod:`staffetta.channels.x_media`). The ``x-rate-limit-*`` headers are
remembered, so a post that X would refuse with 429 waits for the window instead; a 429 itself
waits until ``x-rate-limit-reset``.

Connecting (:mod:`staffetta.channels.x_connect`): OAuth 2.0 with PKCE in the system browser,
answered on the loopback address registered in the app; refresh tokens (``offline.access``) keep
the account signed in, renewed before the two-hour access token runs out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import x_api as api
from staffetta.channels.x_connect import XSession, me_of, sign_in
from staffetta.channels.x_oauth import DEFAULT_REDIRECT_URI, AppTokens
from staffetta.channels.x_posts import publish_parts, reconcile_parts
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
from staffetta.core.errors import InputError, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Account, ChannelGroup, Post
from staffetta.core.text import entities, weighted_length
from staffetta.core.thread import thread_parts

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

APP_HELP = (
    "X lets only registered apps post, so you use your own (free) one: on developer.x.com "
    "create a Project and an App; under User authentication settings turn on OAuth 2.0, choose "
    "“Native App” as the type and “Read and write” as the permissions, and add the callback "
    f"URL {DEFAULT_REDIRECT_URI} (or the sign-in address below). Then copy the OAuth 2.0 "
    "Client ID from Keys and tokens. Staffetta asks for tweet.read, tweet.write, users.read, "
    "media.write and offline.access (which keeps you signed in)."
)


class XChannel(Channel):
    name: ClassVar[str] = "x"
    label: ClassVar[str] = "X"
    group: ClassVar[ChannelGroup] = ChannelGroup.SOCIAL
    fields: ClassVar[tuple[Field, ...]] = (
        Field("client_id", "Client ID", APP_HELP),
        Field(
            "client_secret",
            "Client secret",
            "Leave empty for a “Native App”. Only apps of the types “Web App, Automated App or "
            "Bot” have one (Keys and tokens → OAuth 2.0 Client Secret); it is kept in the "
            "system keyring.",
            secret=True,
            required=False,
        ),
        Field(
            "redirect_uri",
            "Sign-in address",
            f"Leave empty to use {DEFAULT_REDIRECT_URI}. It must be exactly the callback URL "
            "registered in your app; Staffetta listens there only while you sign in.",
            required=False,
        ),
        Field("handle", "Handle", "Filled in when you connect, like @you.", required=False),
        Field(
            "api_url",
            "API server",
            "Leave empty. Only for the Staffetta sandbox.",
            required=False,
        ),
    )
    supports_threads: ClassVar[bool] = True
    browser_sign_in: ClassVar[bool] = True

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._limits = api.RateLimits()

    # --- identity -----------------------------------------------------------------------------
    def endpoints(self, account: Account) -> api.Endpoints:
        return api.endpoints(str(account.settings.get("api_url") or ""))

    def endpoint(self, account: Account) -> str:
        try:
            return self.endpoints(account).api
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or "")
        return handle if handle.startswith("@") else f"@{handle or account.name}"

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=api.MAX_WEIGHT,
            unit="characters (X's count)",
            max_images=api.MAX_MEDIA,
            max_image_bytes=api.IMAGE_BYTES,
            max_image_pixels=8192 * 8192,
            max_alt_chars=api.ALT_CHARS,
        )

    def fits(self, text: str, account: Account) -> bool:
        return weighted_length(text) <= api.MAX_WEIGHT

    def parts(self, post: Post, account: Account) -> list[str]:
        return thread_parts(
            post.text_for(account.id),
            lambda text: self.fits(text, account),
            numbering=post.thread_numbering,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        limits = self.limits(account)
        texts = self.parts(post, account)
        counts = [weighted_length(text) for text in texts]
        problems = _length_problems(counts, limits.max_chars)
        if not any(text.strip() for text in texts) and not post.images:
            problems.append(Problem("empty", "Write something or add an image.", blocking=True))
        if len(post.images) > limits.max_images:
            problems.append(
                Problem(
                    "too_many_images",
                    f"{len(post.images)} images — X takes at most {limits.max_images}.",
                    blocking=True,
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            label = f"Image {number} ({os.path.basename(image.path)})"
            if not image.alt.strip():
                problems.append(
                    Problem(
                        "missing_alt",
                        f"{label} has no description (alt text) for people who cannot see it.",
                        blocking=False,
                        fix=Fix.ADD_ALT,
                    )
                )
            elif len(image.alt) > limits.max_alt_chars:
                problems.append(
                    Problem(
                        "alt_too_long",
                        f"{label}: the description is {len(image.alt)} characters; X keeps "
                        f"{limits.max_alt_chars}.",
                        blocking=True,
                        fix=Fix.ADD_ALT,
                    )
                )
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=tuple(
                PreviewPart(text, count, entities(text))
                for text, count in zip(texts, counts, strict=True)
            ),
            limit=limits.max_chars,
            unit=limits.unit,
            images=post.images,
            problems=tuple(problems),
        )

    # --- health and credentials ---------------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        """X has no health endpoint: any answer from the API that is not a server error (the
        public OpenAPI document) means it is up."""
        base = self.endpoints(account).api
        try:
            response = await http.get(f"{base}/2/openapi.json")
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach X: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise TransientError(f"X is having trouble (HTTP {response.status_code}).")

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        tokens = AppTokens.load(secret)
        now = self._clock.now()
        if tokens.access_token and tokens.expires_at and tokens.expires_at <= now:
            # Checking would spend the single-use refresh token with nowhere to keep the new
            # one; the next post renews it. What was last seen stands.
            return self.handle(account)
        session = XSession(http, account.settings, secret, now=self._clock.now, save=None)
        me = await me_of(http, session.ends.api, await session.token(), now=now)
        return f"@{me['username']}"

    async def authorize(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        open_browser: Callable[[str], Any] | None = None,
    ) -> Authorization:
        """OAuth 2.0 with PKCE in the browser, with the user's own app."""
        return await sign_in(http, settings, open_browser=open_browser, now=self._clock.now())

    # --- delivering ---------------------------------------------------------------------------
    def _session(self, ctx: DeliveryContext) -> XSession:
        return XSession(
            ctx.http, ctx.account.settings, ctx.secret, now=ctx.clock.now, save=ctx.update_secret
        )

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        session = self._session(ctx)
        return await publish_parts(ctx, session, self.parts(ctx.post, ctx.account), self._limits)

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        session = self._session(ctx)
        return await reconcile_parts(ctx, session, self.parts(ctx.post, ctx.account))


def _length_problems(counts: list[int], limit: int) -> list[Problem]:
    if len(counts) == 1:
        if counts[0] <= limit:
            return []
        return [
            Problem(
                "too_long",
                f"{counts[0]} / {limit} characters (X's count) — {counts[0] - limit} over",
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
            f"Part {number} of {len(counts)}: {count} / {limit} characters (X's count) — "
            f"{count - limit} over",
            blocking=True,
            fix=Fix.SPLIT,
        )
        for number, count in enumerate(counts, start=1)
        if count > limit
    ]
