"""LinkedIn (Posts API), as a member or as a page the member administers, with the user's own app.

The commentary is the account's text in LinkedIn's "little" format
(:mod:`staffetta.channels.linkedin_text`), so no character the user typed is taken for syntax.
Images go through the Images API (``initializeUpload`` → ``PUT`` the bytes → ``urn:li:image``),
one as ``content.media`` or several as ``content.multiImage``, each with its ``altText``; a post
without images but with a link gets an article card (``content.article`` with the page's title
and description). The post's URN comes back in ``x-restli-id``.

LinkedIn has no idempotency key. An attempt whose answer was lost is looked for among the
author's recent posts (same commentary, created since the attempt); when it cannot be found —
or LinkedIn will not list them, which needs a permission most apps lack — it becomes
*unconfirmed*, with what was checked, for the user to decide. A 422 "duplicate of urn:…" means
LinkedIn already has it: that post is the result.

Sign-ins last 60 days (:mod:`staffetta.channels.linkedin_connect`): a week before, the preview
and the account row remind the user to reconnect; after, the account pauses and its posts wait.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from staffetta.channels import linkedin_api as api
from staffetta.channels import linkedin_text as little
from staffetta.channels.discord_card import page_meta
from staffetta.channels.linkedin_connect import WARN_BEFORE, organization_urn, sign_in, userinfo
from staffetta.channels.x_oauth import DEFAULT_REDIRECT_URI, AppTokens
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
from staffetta.core.errors import AuthError, InputError, PermanentError, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.media import prepare_image
from staffetta.core.model import Account, ChannelGroup, Post
from staffetta.core.text import entities

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

MAX_IMAGES = 20  # content.multiImage takes 2 to 20
IMAGE_BYTES = 8 * 1024 * 1024
ALT_CHARS = 4086
IMAGE_REUSE_WINDOW = 20 * 3600.0
SLACK = 120.0
LOOKUP_COUNT = 20

APP_HELP = (
    "LinkedIn lets only registered apps post, so you use your own: on linkedin.com/developers "
    "create an app (it must be linked to a LinkedIn page; yours, or a placeholder), add the "
    "products “Share on LinkedIn” and “Sign In with LinkedIn using OpenID Connect”, and in the "
    f"Auth tab add {DEFAULT_REDIRECT_URI} (or the sign-in address below) as an Authorized "
    "redirect URL. Copy the Client ID here and the Client Secret below. Staffetta asks for "
    "openid, profile and w_member_social (w_organization_social to post as a page)."
)


class LinkedInChannel(Channel):
    name: ClassVar[str] = "linkedin"
    label: ClassVar[str] = "LinkedIn"
    group: ClassVar[ChannelGroup] = ChannelGroup.SOCIAL
    fields: ClassVar[tuple[Field, ...]] = (
        Field("client_id", "Client ID", APP_HELP),
        Field(
            "client_secret",
            "Client secret",
            "From your app's Auth tab. LinkedIn needs it to finish each sign-in; it is kept in "
            "the system keyring, never in Staffetta's files.",
            secret=True,
        ),
        Field(
            "organization",
            "Page",
            "Leave empty to post as yourself. To post as a page you administer, give its number "
            "(linkedin.com/company/NUMBER/admin); your app then needs the Community Management "
            "API product for w_organization_social.",
            required=False,
        ),
        Field(
            "redirect_uri",
            "Sign-in address",
            f"Leave empty to use {DEFAULT_REDIRECT_URI}. It must be exactly an Authorized "
            "redirect URL of your app; Staffetta listens there only while you sign in.",
            required=False,
        ),
        Field("handle", "Name", "Filled in when you connect.", required=False),
        Field(
            "api_url", "API server", "Leave empty. Only for the Staffetta sandbox.", required=False
        ),
    )
    browser_sign_in: ClassVar[bool] = True

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()

    # --- identity -----------------------------------------------------------------------------
    def endpoints(self, account: Account) -> api.Endpoints:
        return api.endpoints(str(account.settings.get("api_url") or ""))

    def endpoint(self, account: Account) -> str:
        try:
            return self.endpoints(account).api
        except InputError:
            return self.name

    def author(self, account: Account) -> str:
        try:
            organization = organization_urn(account.settings)
        except Exception:  # a bad page id: OAuthError
            organization = ""
        return organization or str(
            account.settings.get("author_urn") or account.settings.get("member_urn") or ""
        )

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=little.MAX_CHARS,
            max_images=MAX_IMAGES,
            max_image_bytes=IMAGE_BYTES,
            max_alt_chars=ALT_CHARS,
        )

    def account_warning(self, account: Account, now: float) -> str:
        expires = _number(account.settings.get("token_expires_at"))
        if not expires or expires - now > WARN_BEFORE:
            return ""
        day = time.strftime("%d %b %Y", time.localtime(expires))
        if expires <= now:
            return (
                f"LinkedIn's sign-in lapsed on {day} (it lasts 60 days): reconnect the account; "
                "its posts wait until then."
            )
        return f"LinkedIn's sign-in lapses on {day} (it lasts 60 days): reconnect before then."

    def preview(self, post: Post, account: Account) -> Preview:
        text = post.text_for(account.id)
        count = little.length(text)
        problems: list[Problem] = []
        if count > little.MAX_CHARS:
            problems.append(
                Problem(
                    "too_long",
                    f"{count} / {little.MAX_CHARS} characters — {count - little.MAX_CHARS} over",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        if not text.strip() and not post.images:
            problems.append(Problem("empty", "Write something or add an image.", blocking=True))
        if len(post.images) > MAX_IMAGES:
            problems.append(
                Problem(
                    "too_many_images",
                    f"{len(post.images)} images — LinkedIn takes at most {MAX_IMAGES}.",
                    blocking=True,
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            if not image.alt.strip():
                problems.append(
                    Problem(
                        "missing_alt",
                        f"Image {number} ({os.path.basename(image.path)}) has no description "
                        "(alt text) for people who cannot see it.",
                        blocking=False,
                        fix=Fix.ADD_ALT,
                    )
                )
        warning = self.account_warning(account, self._clock.now())
        if warning:
            problems.append(Problem("sign_in_lapses", warning, blocking=False))
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=str(account.settings.get("handle") or account.name),
            parts=(PreviewPart(text, count, entities(text)),),
            limit=little.MAX_CHARS,
            unit="characters",
            images=post.images,
            problems=tuple(problems),
        )

    # --- health and credentials ---------------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        """Any answer that is not a server error (401 without a token) means LinkedIn is up."""
        try:
            response = await http.get(f"{self.endpoints(account).api}/v2/userinfo")
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach LinkedIn: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise TransientError(f"LinkedIn is having trouble (HTTP {response.status_code}).")

    def _token(self, secret: str | None, now: float) -> str:
        tokens = AppTokens.load(secret)
        if not tokens.access_token:
            raise AuthError(
                "This LinkedIn account is not signed in: use “Sign in with your browser” (the "
                "client secret alone does not sign in)."
            )
        if tokens.expires_at and tokens.expires_at <= now:
            day = time.strftime("%d %b %Y", time.localtime(tokens.expires_at))
            raise AuthError(
                f"LinkedIn's sign-in lapsed on {day} (it lasts 60 days) — reconnect the account; "
                "its posts wait until then."
            )
        return tokens.access_token

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        now = self._clock.now()
        me = await userinfo(http, self.endpoints(account).api, self._token(secret, now), now=now)
        return str(me.get("name") or me["sub"])

    async def authorize(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        open_browser: Callable[[str], Any] | None = None,
    ) -> Authorization:
        """OAuth 2.0 in the browser with the user's app (client secret, PKCE, state)."""
        return await sign_in(http, settings, open_browser=open_browser, now=self._clock.now())

    # --- delivering ---------------------------------------------------------------------------
    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        token = self._token(ctx.secret, ctx.clock.now())
        author = self.author(ctx.account)
        if not author:
            raise AuthError("This LinkedIn account has no author — reconnect it.")
        ends = self.endpoints(ctx.account)
        body: dict[str, Any] = {
            "author": author,
            "commentary": little.commentary(ctx.post.text_for(ctx.account.id)),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        images = await self._upload_images(ctx, token, author)
        if len(images) == 1:
            body["content"] = {"media": images[0]}
        elif images:
            body["content"] = {"multiImage": {"images": images}}
        elif ctx.post.link.strip():
            body["content"] = {"article": await self._article(ctx)}
        try:
            response = await api.request(
                ctx.http, "POST", f"{ends.api}/rest/posts", token=token,
                now=ctx.clock.now(), ok=(201,), json=body,
            )  # fmt: skip
        except api.DuplicatePost as duplicate:
            return PublishResult(duplicate.urn, api.post_url(ends.web, duplicate.urn))
        urn = response.headers.get("x-restli-id", "").strip()
        if not urn:
            raise TransientError("LinkedIn accepted the post but did not say its id.")
        return PublishResult(urn, api.post_url(ends.web, urn))

    async def _upload_images(
        self, ctx: DeliveryContext, token: str, author: str
    ) -> list[dict[str, str]]:
        images = ctx.post.images
        if not images:
            return []
        if len(images) > MAX_IMAGES:
            raise PermanentError(f"LinkedIn takes at most {MAX_IMAGES} images in a post.")
        base = self.endpoints(ctx.account).api
        saved = ctx.checkpoint
        urns = [str(u) for u in saved.get("image_urns", [])][: len(images)]
        if urns and ctx.clock.now() - _number(saved.get("images_uploaded_at")) > IMAGE_REUSE_WINDOW:
            urns = []
        uploaded_at = _number(saved.get("images_uploaded_at")) or ctx.clock.now()
        for number, image in enumerate(images, start=1):
            if number <= len(urns):
                continue
            try:
                prepared = prepare_image(
                    Path(image.path), max_bytes=IMAGE_BYTES, max_pixels=36_152_320,
                    allowed=("JPEG", "PNG", "GIF"),
                )  # fmt: skip
            except InputError as exc:
                raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
            response = await api.request(
                ctx.http,
                "POST",
                f"{base}/rest/images",
                token=token,
                now=ctx.clock.now(),
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": author}},
            )
            value = api.json_object(response, "the image upload").get("value")
            if not isinstance(value, dict) or not value.get("uploadUrl") or not value.get("image"):
                raise TransientError("LinkedIn's answer to the image upload had no address.")
            await api.request(
                ctx.http, "PUT", str(value["uploadUrl"]), token=token, now=ctx.clock.now(),
                ok=(200, 201), rest=False, content=prepared.data,
                headers={"Content-Type": prepared.mime},
            )  # fmt: skip
            urns.append(str(value["image"]))
            if number == 1:
                uploaded_at = ctx.clock.now()
            await ctx.save_checkpoint(
                {**ctx.checkpoint, "image_urns": list(urns), "images_uploaded_at": uploaded_at}
            )
        return [
            {"id": urn, "altText": image.alt[:ALT_CHARS]} if image.alt.strip() else {"id": urn}
            for urn, image in zip(urns, images, strict=True)
        ]

    async def _article(self, ctx: DeliveryContext) -> dict[str, str]:
        """The link card, decided once per delivery (kept in the checkpoint)."""
        saved = ctx.checkpoint.get("article")
        if isinstance(saved, dict) and saved.get("source"):
            return {str(k): str(v) for k, v in saved.items()}
        link = ctx.post.link.strip()
        meta = await page_meta(ctx.http, link)
        article = {
            "source": link,
            "title": (meta.get("og:title") or meta.get("title") or ctx.post.title or "").strip()
            or (urlsplit(link).hostname or link),
        }
        description = meta.get("og:description") or meta.get("description")
        if description:
            article["description"] = description.strip()[:256]
        await ctx.save_checkpoint({**ctx.checkpoint, "article": article})
        return article

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        token = self._token(ctx.secret, ctx.clock.now())
        author = self.author(ctx.account)
        ends = self.endpoints(ctx.account)
        wanted = little.commentary(ctx.post.text_for(ctx.account.id))
        since = (ctx.delivery.first_attempt_at or ctx.clock.now()) - SLACK
        try:
            response = await api.request(
                ctx.http, "GET", f"{ends.api}/rest/posts", token=token, now=ctx.clock.now(),
                params={"author": author, "q": "author", "count": LOOKUP_COUNT,
                        "sortBy": "CREATED"},
                headers={"X-RestLi-Method": "FINDER"},
            )  # fmt: skip
        except (AuthError, PermanentError) as exc:
            return Reconciled(
                Outcome.UNKNOWN,
                evidence="LinkedIn has no way to make a post only once, the answer to the last "
                f"attempt was lost, and LinkedIn would not list the author's posts ({exc}). "
                "Look at the profile, then say whether it went out.",
            )
        for element in api.json_object(response, "the author's posts").get("elements") or []:
            if not isinstance(element, dict):
                continue
            created = _number(element.get("createdAt")) / 1000
            if element.get("commentary") == wanted and created >= since and element.get("id"):
                urn = str(element["id"])
                return Reconciled(
                    Outcome.SENT, urn, api.post_url(ends.web, urn), "Found among the posts."
                )
        return Reconciled(
            Outcome.UNKNOWN,
            evidence=f"The answer to the last attempt was lost and LinkedIn cannot make a post "
            f"only once. It is not among the author's {LOOKUP_COUNT} most recent posts; look at "
            "the profile, then say whether it went out.",
        )


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    try:
        return float(value) if value not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0
