"""Instagram (professional accounts) through the Instagram API with Instagram Login.

A post is one picture or a carousel of 2-10, with a caption (2,200 characters, 30 hashtags, 20
mentions: :mod:`staffetta.channels.meta_text`) and alt text on every picture. Pictures are
JPEG, 4:5 to 1.91:1, padded or cropped as the account says, and downloaded by Instagram from a
public address (:mod:`staffetta.channels.meta_images`). Publishing is a container, then
``media_publish`` (:mod:`staffetta.channels.meta_containers`), after a look at the account's
24-hour publishing limit (50 posts). Links in a caption are not clickable on Instagram, so
``post.link`` is not added.

Setting up the app (the account's help says it in short): a Meta app of type Business with the
"Instagram" product, *API setup with Instagram login*; its Instagram app id and secret; the
permissions ``instagram_business_basic`` and ``instagram_business_content_publish``; the
redirect address registered under *Business login settings*; the Instagram account a
professional (Business or Creator) one, added as a tester while the app is in development.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import meta_api as api
from staffetta.channels import meta_containers as containers
from staffetta.channels import meta_images as images
from staffetta.channels import meta_text as counting
from staffetta.channels.meta_auth import INSTAGRAM, MetaSecret, sign_in
from staffetta.channels.meta_common import (
    API_URL_FIELD,
    CREATE_APP_URL,
    IMAGE_HOST_FIELDS,
    MetaChannel,
    Progress,
    app_fields,
)
from staffetta.core.channel import (
    Authorization,
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
from staffetta.core.errors import (
    AuthError,
    DeliveryError,
    InputError,
    PermanentError,
    TransientError,
)
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Account, Post
from staffetta.core.oauth import OAuthError
from staffetta.core.text import entities

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

RULES = images.ImageRules(
    platform="Instagram",
    formats=("JPEG",),
    max_bytes=8 * 1024 * 1024,
    max_images=10,
    max_alt=1000,
    max_side=1440,
    min_ratio=4 / 5,
    max_ratio=1.91,
)
_PROFESSIONAL = ("BUSINESS", "MEDIA_CREATOR", "CREATOR")


class InstagramChannel(MetaChannel):
    name: ClassVar[str] = "instagram"
    label: ClassVar[str] = "Instagram"
    description: ClassVar[str] = (
        "A professional Instagram account, through your own Meta app. Sign in with your browser."
    )
    product = INSTAGRAM
    graph_host = api.INSTAGRAM_GRAPH
    fields: ClassVar[tuple[Field, ...]] = (
        *app_fields(
            "Instagram posts through your own Meta app. At "
            f"{CREATE_APP_URL} create a Business app, add the Instagram product and open “API "
            "setup with Instagram login”: copy the Instagram app id and secret, add the "
            "permissions instagram_business_basic and instagram_business_content_publish, and "
            "register the sign-in address below under Business login settings. Your Instagram "
            "account must be a professional one (Business or Creator).",
            "Instagram app id",
        ),
        *IMAGE_HOST_FIELDS,
        Field(
            "image_fit",
            "Image fit",
            "pad or crop: how a picture taller than 4:5 or wider than 1.91:1 is made to fit "
            "Instagram — with white bars, or cropped around its centre.",
            required=False,
            default="pad",
        ),
        API_URL_FIELD,
    )

    # --- identity -----------------------------------------------------------------------------
    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or "")
        return handle if handle.startswith("@") else f"@{handle or account.name}"

    def _me_path(self) -> str:
        return f"/{api.GRAPH_VERSION}/me"

    def _platform(self, account: Account) -> containers.Platform:
        username = self.handle(account).lstrip("@")
        return containers.Platform(
            label="Instagram",
            base=self.graph(account, f"/{api.GRAPH_VERSION}"),
            create="media",
            publish="media_publish",
            status_fields="status_code,status",
            status_key="status_code",
            text_field="caption",
            lists=("media",),
            limit="content_publishing_limit",
            profile_url=f"https://www.instagram.com/{username}/",
            typed=False,
        )

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=counting.CAPTION_LIMIT,
            max_images=RULES.max_images,
            max_image_bytes=RULES.max_bytes,
            max_image_pixels=1440 * 1800,
            max_alt_chars=RULES.max_alt,
            requires_image=True,
        )

    def caption(self, post: Post, account: Account) -> str:
        return post.text_for(account.id).strip()

    def preview(self, post: Post, account: Account) -> Preview:
        caption = self.caption(post, account)
        count, limit = counting.caption_length(caption), counting.CAPTION_LIMIT
        problems: list[Problem] = []
        if count > limit:
            problems.append(
                Problem(
                    "too_long",
                    f"{count} / {limit} characters — {count - limit} over",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        tags, mentions = counting.hashtag_count(caption), counting.mention_count(caption)
        if tags > counting.MAX_HASHTAGS:
            problems.append(
                Problem(
                    "too_many_hashtags",
                    f"{tags} hashtags — Instagram takes at most {counting.MAX_HASHTAGS}.",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        if mentions > counting.MAX_MENTIONS:
            problems.append(
                Problem(
                    "too_many_mentions",
                    f"{mentions} mentions — Instagram takes at most {counting.MAX_MENTIONS}.",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        if not post.images:
            problems.append(
                Problem(
                    "needs_image",
                    "Instagram posts need at least one picture.",
                    blocking=True,
                    fix=Fix.ADD_IMAGE,
                )
            )
        problems.extend(images.image_problems(post, account, RULES, self.inspect))
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=(PreviewPart(caption, count, entities(caption)),),
            limit=counting.CAPTION_LIMIT,
            unit="characters",
            images=post.images,
            problems=tuple(problems),
        )

    # --- connecting ---------------------------------------------------------------------------
    async def authorize(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        open_browser: Callable[[str], Any] | None = None,
    ) -> Authorization:
        """Instagram Login in the browser, a 60-day token, and the professional account."""
        signed = await sign_in(
            http, INSTAGRAM, settings, clock=self._clock, open_browser=open_browser
        )
        try:
            me = await self._me(http, settings, signed.secret.user_token)
        except DeliveryError as exc:
            raise OAuthError(str(exc)) from None
        return Authorization(
            signed.secret.dump(),
            {
                "app_id": str(settings.get("app_id") or "").strip(),
                "redirect_uri": str(settings.get("redirect_uri") or "").strip(),
                "handle": f"@{me['username']}",
                "user_id": me["user_id"],
            },
        )

    async def _me(
        self, http: httpx.AsyncClient, settings: dict[str, Any], token: str
    ) -> dict[str, str]:
        base = api.url(self.api_url(settings), self.graph_host, f"/{api.GRAPH_VERSION}")
        me = await api.call_json(
            http,
            "GET",
            f"{base}/me",
            platform="Instagram",
            now=self._clock.now(),
            what="the account",
            token=token,
            params={"fields": "user_id,username,account_type"},
        )
        user_id, username = str(me.get("user_id") or me.get("id") or ""), me.get("username")
        if not user_id or not isinstance(username, str):
            raise TransientError("Instagram did not say which account signed in.")
        kind = str(me.get("account_type") or "").upper()
        if kind and kind not in _PROFESSIONAL:
            raise AuthError(
                f"@{username} is a personal Instagram account. Only professional accounts "
                "(Business or Creator, free to switch to in Instagram's settings) can post "
                "through the API."
            )
        return {"user_id": user_id, "username": username}

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        found = self.loaded(secret)
        me = await self._me(http, account.settings, found.user_token)
        return f"@{me['username']}"

    # --- delivering ---------------------------------------------------------------------------
    async def _session(self, ctx: DeliveryContext) -> containers.Session:
        secret: MetaSecret = await self.secret_for(ctx)
        user_id = str(ctx.account.settings.get("user_id") or "")
        if not user_id:
            user_id = (await self._me(ctx.http, ctx.account.settings, secret.user_token))["user_id"]
        return containers.Session(
            ctx.http, self._platform(ctx.account), user_id, secret.user_token, ctx.clock
        )

    def _part(self, ctx: DeliveryContext, urls: list[str]) -> containers.Part:
        return containers.Part(
            text=self.caption(ctx.post, ctx.account),
            image_urls=tuple(urls),
            alt_texts=tuple(image.alt for image in ctx.post.images),
        )

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        if not ctx.post.images:
            raise PermanentError("Instagram posts need at least one picture.")
        if len(ctx.post.images) > RULES.max_images:
            raise PermanentError(
                f"Instagram takes at most {RULES.max_images} pictures in one post; this one has "
                f"{len(ctx.post.images)}."
            )
        progress = Progress(ctx)
        done = progress.step("published")
        if done.get("id"):
            return PublishResult(str(done["id"]), str(done.get("url") or ""))
        session = await self._session(ctx)
        step = progress.step()
        if step.get("container"):
            urls = images.saved_urls(progress.data)  # already in a container Meta fetched
        else:
            await containers.check_limit(session)
            try:
                urls = await images.public_urls(ctx, progress, RULES, self.inspect)
            except InputError as exc:
                raise PermanentError(str(exc)) from None

        async def save(changed: dict[str, Any]) -> None:
            await progress.save(step=dict(changed))

        result = await containers.publish_part(session, self._part(ctx, urls), step, save)
        await progress.save(published=result)
        return PublishResult(result["id"], result["url"])

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        progress = Progress(ctx)
        done = progress.step("published")
        if done.get("id"):
            return Reconciled(Outcome.SENT, str(done["id"]), str(done.get("url") or ""))
        step = progress.step()
        if not step.get("container") or not step.get("publishing"):
            return Reconciled(
                Outcome.NOT_SENT, evidence="The post was not published: it was never sent."
            )
        session = await self._session(ctx)
        if await containers.settled_status(session, step) != "published":
            return Reconciled(
                Outcome.NOT_SENT,
                evidence="Instagram says the prepared post was not published; it is published "
                "now, from the same container.",
            )
        part = self._part(ctx, images.saved_urls(progress.data))
        found = await containers.find_published(session, part, step, str(step["container"]))
        await progress.save(published=found)
        return Reconciled(
            Outcome.SENT, found["id"], found["url"], "Instagram says the post was published."
        )
