"""A Facebook Page, through the Pages API and the user's own Meta app.

A post is text, a link (Facebook builds the card) or text with one or several photos. Photos are
uploaded as bytes first, unpublished (``POST /{page}/photos`` with ``published=false`` and their
alt text), each id checkpointed, then one feed post attaches them all (``POST /{page}/feed`` with
``attached_media``) — so a retry never uploads a photo twice, and one post carries every photo.

The Page token comes from the signed-in user's long-lived token (``GET /me/accounts``); Page
tokens made from a long-lived user token do not expire, and the keyring keeps both.

Facebook has no idempotency key. Before the feed request the time is checkpointed; an answer lost
after it is settled by looking through the Page's recent posts for the same text, and a resend
that Facebook refuses as a duplicate (error 506) is settled the same way.

Setting up the app: a Meta app of type Business with the "Facebook Login for Business" product
(or the use case "Manage everything on your Page"); its app id and secret; the permissions
``pages_show_list``, ``pages_read_engagement`` and ``pages_manage_posts``; the redirect address
registered under Valid OAuth Redirect URIs (``localhost`` is allowed while the app is in
development mode).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import meta_api as api
from staffetta.channels.meta_auth import FACEBOOK, MetaSecret, sign_in
from staffetta.channels.meta_common import (
    API_URL_FIELD,
    CREATE_APP_URL,
    MetaChannel,
    Progress,
    app_fields,
)
from staffetta.channels.meta_containers import FIND_SLACK
from staffetta.channels.meta_text import FACEBOOK_LIMIT
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
from staffetta.core.clock import Clock
from staffetta.core.errors import (
    AuthError,
    DeliveryError,
    InputError,
    PermanentError,
    StaffettaError,
    TransientError,
)
from staffetta.core.lazy import lazy_module
from staffetta.core.media import prepare_image
from staffetta.core.model import Account, Post
from staffetta.core.oauth import OAuthError
from staffetta.core.text import entities

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

MAX_PHOTOS = 10
PHOTO_BYTES = 10 * 1024 * 1024  # widely quoted; Meta's reference gives no number
PHOTO_PIXELS = 4096 * 4096
MAX_ALT = 1000
_GRAPH = f"/{api.GRAPH_VERSION}"


class FacebookPageChannel(MetaChannel):
    name: ClassVar[str] = "facebook"
    label: ClassVar[str] = "Facebook Page"
    description: ClassVar[str] = "A Facebook Page you manage, through your own Meta app."
    product = FACEBOOK
    graph_host = api.FACEBOOK_GRAPH
    fields: ClassVar[tuple[Field, ...]] = (
        *app_fields(
            f"Facebook Pages post through your own Meta app. At {CREATE_APP_URL} create a "
            "Business app with Facebook Login for Business; copy its app id and secret (App "
            "settings › Basic), add the permissions pages_show_list, pages_read_engagement and "
            "pages_manage_posts, and register the sign-in address below as a valid OAuth "
            "redirect URI."
        ),
        Field(
            "page",
            "Page",
            "The name or id of the Page to post to. Leave empty if you manage only one Page.",
            required=False,
        ),
        API_URL_FIELD,
    )

    # --- identity -----------------------------------------------------------------------------
    def handle(self, account: Account) -> str:
        return str(account.settings.get("handle") or account.name)

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=FACEBOOK_LIMIT,
            max_images=MAX_PHOTOS,
            max_image_bytes=PHOTO_BYTES,
            max_image_pixels=PHOTO_PIXELS,
            max_alt_chars=MAX_ALT,
        )

    def message(self, post: Post, account: Account) -> str:
        """The post's text; with photos, a link Facebook cannot show as a card goes in it."""
        text = post.text_for(account.id).strip()
        if post.images and post.link and post.link not in text:
            text = f"{text}\n\n{post.link}" if text else post.link
        return text

    def preview(self, post: Post, account: Account) -> Preview:
        text = self.message(post, account)
        count = len(text)
        problems: list[Problem] = []
        if count > FACEBOOK_LIMIT:
            problems.append(
                Problem(
                    "too_long",
                    f"{count} / {FACEBOOK_LIMIT} characters — {count - FACEBOOK_LIMIT} over",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        if not text and not post.images and not post.link:
            problems.append(Problem("empty", "Write something or add an image.", blocking=True))
        if len(post.images) > MAX_PHOTOS:
            problems.append(
                Problem(
                    "too_many_images",
                    f"{len(post.images)} images — Staffetta attaches at most {MAX_PHOTOS} to one "
                    "Facebook post.",
                    blocking=True,
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            label = f"Image {number} ({Path(image.path).name})"
            info = self.inspect(image.path)
            if isinstance(info, InputError):
                problems.append(
                    Problem(
                        "image_unreadable", f"{label}: {info}", blocking=True, fix=Fix.REMOVE_IMAGES
                    )
                )
            elif not image.alt.strip():
                problems.append(
                    Problem(
                        "missing_alt",
                        f"{label} has no description (alt text) for people who cannot see it.",
                        blocking=False,
                        fix=Fix.ADD_ALT,
                    )
                )
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=(PreviewPart(text, count, entities(text)),),
            limit=FACEBOOK_LIMIT,
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
        """Facebook Login in the browser (PKCE), a 60-day user token, and the Page's token."""
        signed = await sign_in(
            http, FACEBOOK, settings, clock=self._clock, open_browser=open_browser
        )
        try:
            page = await choose_page(
                http,
                self.graph(Account("", self.name, "", settings), _GRAPH),
                signed.secret.user_token,
                str(settings.get("page") or ""),
                self._clock,
            )
        except AuthError as exc:
            raise OAuthError(str(exc)) from None
        secret = MetaSecret(
            app_secret=signed.secret.app_secret,
            user_token=signed.secret.user_token,
            issued_at=signed.secret.issued_at,
            expires_at=0.0,  # the Page token posts, and it does not expire
            page_token=page["access_token"],
            page_id=page["id"],
        )
        return Authorization(
            secret.dump(),
            {
                "app_id": str(settings.get("app_id") or "").strip(),
                "redirect_uri": str(settings.get("redirect_uri") or "").strip(),
                "page_id": page["id"],
                "handle": page["name"],
            },
        )

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        found = self.loaded(secret)
        page_id = self.page_id(account, found)
        token = found.page_token or found.user_token
        if not page_id:
            page = await choose_page(
                http,
                self.graph(account, _GRAPH),
                found.user_token,
                str(account.settings.get("page") or ""),
                self._clock,
            )
            return page["name"]
        payload = await api.call_json(
            http,
            "GET",
            self.graph(account, f"{_GRAPH}/{page_id}"),
            platform="Facebook",
            now=self._clock.now(),
            what="the Page",
            token=token,
            params={"fields": "id,name"},
        )
        return str(payload.get("name") or page_id)

    def page_id(self, account: Account, secret: MetaSecret) -> str:
        return str(account.settings.get("page_id") or secret.page_id or "")

    # --- delivering ---------------------------------------------------------------------------
    async def _page_token(self, ctx: DeliveryContext) -> tuple[str, str]:
        """The Page id and token; made from the user token (and saved) when not stored yet."""
        secret = MetaSecret.load(ctx.secret)
        page_id = self.page_id(ctx.account, secret)
        if secret.page_token and page_id:
            return page_id, secret.page_token
        fresh = await self.secret_for(ctx)
        page = await choose_page(
            ctx.http,
            self.graph(ctx.account, _GRAPH),
            fresh.user_token,
            page_id or str(ctx.account.settings.get("page") or ""),
            ctx.clock,
        )
        renewed = MetaSecret(
            app_secret=fresh.app_secret,
            user_token=fresh.user_token,
            issued_at=fresh.issued_at,
            expires_at=fresh.expires_at,
            page_token=page["access_token"],
            page_id=page["id"],
        )
        with contextlib.suppress(StaffettaError):  # made again next time: the post goes on
            ctx.update_secret(renewed.dump())
        return page["id"], page["access_token"]

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        progress = Progress(ctx)
        done = progress.step("published")
        if done.get("id"):
            return PublishResult(str(done["id"]), str(done.get("url") or ""))
        page_id, token = await self._page_token(ctx)
        feed = _Feed(ctx.http, self.graph(ctx.account, _GRAPH), page_id, token, ctx.clock)
        photos = await self._upload_photos(ctx, feed, progress)
        message = self.message(ctx.post, ctx.account)
        data: dict[str, Any] = {"message": message} if message else {}
        for index, photo in enumerate(photos):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo})
        if not photos and ctx.post.link:
            data["link"] = ctx.post.link
        if not data:
            raise PermanentError("There is nothing to post: write something or add an image.")
        await progress.save(feed_started_at=ctx.clock.now())  # durable before the request
        try:
            created = await feed.post(f"/{page_id}/feed", "the post", data=data)
        except api.DuplicatePost:
            found = await feed.find(message, float(progress.data["feed_started_at"]))
            if found is None:
                raise
            await progress.save(published=found)
            return PublishResult(found["id"], found["url"])
        post_id = str(created.get("id") or "")
        if not post_id:
            raise TransientError("Facebook published the post without saying its id.")
        result = {"id": post_id, "url": await feed.permalink(post_id)}
        await progress.save(published=result)
        return PublishResult(result["id"], result["url"])

    async def _upload_photos(
        self, ctx: DeliveryContext, feed: _Feed, progress: Progress
    ) -> list[str]:
        images = ctx.post.images
        if len(images) > MAX_PHOTOS:
            raise PermanentError(
                f"This post has {len(images)} images; Staffetta attaches at most {MAX_PHOTOS} "
                "to one Facebook post."
            )
        raw = progress.data.get("photos")
        photos = [str(p) for p in raw if p][: len(images)] if isinstance(raw, list) else []
        for number, image in enumerate(images, start=1):
            if number <= len(photos):
                continue
            try:
                prepared = prepare_image(
                    Path(image.path),
                    max_bytes=PHOTO_BYTES,
                    max_pixels=PHOTO_PIXELS,
                    allowed=("JPEG", "PNG"),
                )
            except InputError as exc:
                raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
            extension = "png" if prepared.format == "PNG" else "jpg"
            data = {"published": "false"}
            if image.alt.strip():
                data["alt_text_custom"] = image.alt.strip()[:MAX_ALT]
            uploaded = await feed.post(
                f"/{feed.page_id}/photos",
                f"image {number}",
                data=data,
                files={"source": (f"image-{number}.{extension}", prepared.data, prepared.mime)},
            )
            photo = str(uploaded.get("id") or "")
            if not photo:
                raise TransientError(f"Facebook's reply to image {number} had no id.")
            photos.append(photo)
            await progress.save(photos=list(photos))
        return photos

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        progress = Progress(ctx)
        done = progress.step("published")
        if done.get("id"):
            return Reconciled(Outcome.SENT, str(done["id"]), str(done.get("url") or ""))
        started = progress.data.get("feed_started_at")
        if not isinstance(started, int | float):
            return Reconciled(Outcome.NOT_SENT, evidence="The post itself was never sent.")
        page_id, token = await self._page_token(ctx)
        feed = _Feed(ctx.http, self.graph(ctx.account, _GRAPH), page_id, token, ctx.clock)
        found = await feed.find(self.message(ctx.post, ctx.account), float(started))
        if found is None:
            return Reconciled(
                Outcome.NOT_SENT,
                evidence="The Page has no post with this text since the attempt; it is sent "
                "again (Facebook refuses an immediate duplicate, error 506).",
            )
        await progress.save(published=found)
        return Reconciled(
            Outcome.SENT, found["id"], found["url"], "Found among the Page's recent posts."
        )


class _Feed:
    """Calls on one Page with its token."""

    def __init__(
        self, http: httpx.AsyncClient, base: str, page_id: str, token: str, clock: Clock
    ) -> None:
        self.http, self.base, self.page_id, self.token, self.clock = (
            http,
            base,
            page_id,
            token,
            clock,
        )

    async def post(self, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        return await api.call_json(
            self.http,
            "POST",
            f"{self.base}{path}",
            platform="Facebook",
            now=self.clock.now(),
            what=what,
            token=self.token,
            **kwargs,
        )

    async def get(self, path: str, what: str, **params: str) -> dict[str, Any]:
        return await api.call_json(
            self.http,
            "GET",
            f"{self.base}{path}",
            platform="Facebook",
            now=self.clock.now(),
            what=what,
            token=self.token,
            params=params,
        )

    async def permalink(self, post_id: str) -> str:
        try:
            payload = await self.get(f"/{post_id}", "the post's link", fields="permalink_url")
        except DeliveryError:
            return f"https://www.facebook.com/{post_id}"
        link = payload.get("permalink_url")
        return link if isinstance(link, str) and link else f"https://www.facebook.com/{post_id}"

    async def find(self, message: str, since: float) -> dict[str, str] | None:
        """The Page's own post with ``message`` created since ``since`` (a minute's slack)."""
        payload = await self.get(
            f"/{self.page_id}/feed",
            "the Page's recent posts",
            fields="id,message,created_time,permalink_url,from",
            limit="25",
        )
        data = payload.get("data")
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict):
                continue
            author = item.get("from")
            if isinstance(author, dict) and str(author.get("id") or "") != self.page_id:
                continue  # a visitor's post on the Page
            created = api.timestamp(item.get("created_time"))
            if created is not None and created < since - FIND_SLACK:
                continue
            if str(item.get("message") or "").strip() == message.strip():
                post_id = str(item.get("id") or "")
                link = item.get("permalink_url")
                url = (
                    link
                    if isinstance(link, str) and link
                    else f"https://www.facebook.com/{post_id}"
                )
                return {"id": post_id, "url": url}
        return None


async def choose_page(
    http: httpx.AsyncClient, base: str, user_token: str, wanted: str, clock: Clock
) -> dict[str, str]:
    """The Page (id, name, access_token) the user manages, by name or id, or the only one."""
    payload = await api.call_json(
        http,
        "GET",
        f"{base}/me/accounts",
        platform="Facebook",
        now=clock.now(),
        what="your Pages",
        token=user_token,
        params={"fields": "id,name,access_token"},
    )
    data = payload.get("data")
    pages = [
        {
            "id": str(p["id"]),
            "name": str(p.get("name") or p["id"]),
            "access_token": p["access_token"],
        }
        for p in (data if isinstance(data, list) else [])
        if isinstance(p, dict) and p.get("id") and isinstance(p.get("access_token"), str)
    ]
    if not pages:
        raise AuthError(
            "Facebook shows no Page this sign-in may post to. Sign in again and choose the Page "
            "when Facebook asks which ones Staffetta may use."
        )
    wanted = wanted.strip()
    if wanted:
        for page in pages:
            if wanted in (page["id"], page["name"]) or wanted.casefold() == page["name"].casefold():
                return page
        names = ", ".join(p["name"] for p in pages)
        raise AuthError(f"You manage no Page called “{wanted}” with this sign-in ({names}).")
    if len(pages) > 1:
        names = ", ".join(p["name"] for p in pages)
        raise AuthError(f"You manage several Pages ({names}): enter the one to post to as Page.")
    return pages[0]
