"""Micropub (W3C), for IndieWeb sites and Micro.blog: an owned channel.

Connect with your site's address: Staffetta finds its endpoints (:mod:`micropub_discovery`) and
signs in with IndieAuth in the browser (PKCE, loopback redirect); or paste a token. The token is
the account's secret; settings hold the site and its endpoints.

A post becomes an ``h-entry`` in Micropub's JSON syntax: ``name`` (the title), ``content``
(``{"html": …}``, the Markdown body rendered as readers will see it), ``category`` (the tags),
``photo`` (``[{"value": url, "alt": …}]``, each image uploaded first to the media endpoint named by
``q=config``) and ``mp-slug``. Without a media endpoint the post goes as ``multipart/form-data``
with the image files and their alt text as ``mp-photo-alt[]`` (Micro.blog's field), and the body
as its Markdown text. The ``Location`` of the answer is the post's URL.

Micropub has no idempotency: the ``mp-slug`` is fixed at enqueue (and checkpointed with the
date), and an unknown outcome is looked up with ``q=source`` — at the post's expected URL when the
account has a ``post_url`` pattern, and in the server's list of recent posts — or, when the
server offers no ``q=source``, the delivery becomes *unconfirmed* for the user to decide.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import micropub_api as api
from staffetta.channels.micropub_discovery import discover, sign_in
from staffetta.channels.owned_common import (
    OwnedPreviewer,
    body_html,
    delivery_slug,
    normalise_site_url,
)
from staffetta.core.channel import (
    Authorization,
    Channel,
    DeliveryContext,
    Field,
    Limits,
    Outcome,
    Preview,
    Problem,
    PublishResult,
    Reconciled,
)
from staffetta.core.clock import Clock, SystemClock
from staffetta.core.errors import AuthError, InputError, PermanentError, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.media import prepare_image
from staffetta.core.model import Account, ChannelGroup, Post

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

MAX_IMAGES = 20
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
_LISTING = "20"
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


class MicropubChannel(Channel):
    name: ClassVar[str] = "micropub"
    label: ClassVar[str] = "Micropub site"
    group: ClassVar[ChannelGroup] = ChannelGroup.OWNED
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "site_url",
            "Your site",
            "The address of your site, for example https://example.org or "
            "https://you.micro.blog. Staffetta finds its Micropub endpoint there.",
        ),
        Field(
            "token",
            "Token",
            "Optional. Leave empty to sign in through your browser (IndieAuth); or paste an app "
            "token from your site (Micro.blog: Account → Edit Apps).",
            secret=True,
            required=False,
        ),
        Field(
            "post_url",
            "Address of a post",
            "Optional, for finding a post after a lost connection: how your site names posts, "
            "with {slug}, {year}, {month}, {day}, e.g. https://example.org/{year}/{month}/{slug}.",
            required=False,
        ),
    )
    browser_sign_in: ClassVar[bool] = True

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._previewer = OwnedPreviewer()

    # --- identity -----------------------------------------------------------------------------
    def site_url(self, account: Account) -> str:
        return normalise_site_url(str(account.settings.get("site_url") or ""), "site")

    def endpoint(self, account: Account) -> str:
        url = str(account.settings.get("micropub_endpoint") or account.settings.get("site_url"))
        return f"{self.name}:{api.host_of(url) or account.id}"

    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or "")
        if handle:
            return handle
        me = str(account.settings.get("me") or account.settings.get("site_url") or "")
        return api.host_of(me if "://" in me else f"https://{me}") or account.name

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=0,
            max_images=MAX_IMAGES,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_image_pixels=MAX_IMAGE_PIXELS,
            uses_title=True,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        problems: list[Problem] = []
        try:
            self.site_url(account)
        except InputError as exc:
            problems.append(Problem("settings", str(exc)))
        return self._previewer.preview(
            self.name, post, account, self.handle(account), max_images=MAX_IMAGES,
            problems=problems,
        )  # fmt: skip

    # --- health, credentials, settings --------------------------------------------------------
    async def _endpoint(self, http: httpx.AsyncClient, account: Account) -> str:
        saved = str(account.settings.get("micropub_endpoint") or "")
        if saved:
            return saved
        return (await discover(http, self.site_url(account), now=self._clock.now())).micropub

    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        """``q=config`` without a token: any answer below 500 means the server is up."""
        endpoint = await self._endpoint(http, account)
        url = str(httpx.URL(endpoint).copy_merge_params({"q": "config"}))
        try:
            response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach {api.host_of(url)}: {exc}") from None
        if response.status_code >= 500:
            raise TransientError(
                f"The Micropub endpoint at {api.host_of(url)} is not answering normally "
                f"(HTTP {response.status_code})."
            )

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        if not secret:
            raise AuthError("This Micropub site has no token — sign in again or paste a token.")
        endpoint = await self._endpoint(http, account)
        url = str(httpx.URL(endpoint).copy_merge_params({"q": "config"}))
        # Unlike api.config, a 400 here is not "no configuration": the token must be accepted.
        await api.request(http, "GET", url, now=self._clock.now(), token=secret, ok=(200, 400))
        return self.handle(account)

    async def refresh_settings(self, http: httpx.AsyncClient, account: Account) -> dict[str, Any]:
        found = await discover(http, self.site_url(account), now=self._clock.now())
        return found.settings()

    async def authorize(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        open_browser: Callable[[str], Any] | None = None,
    ) -> Authorization:
        """IndieAuth in the browser (PKCE, loopback redirect); the token goes to the keyring."""
        return await sign_in(http, settings, open_browser=open_browser, now=self._clock.now())

    # --- delivering ---------------------------------------------------------------------------
    def _token(self, ctx: DeliveryContext) -> str:
        if not ctx.secret:
            raise AuthError("This Micropub site has no token — reconnect it.")
        return ctx.secret

    async def _slug_and_date(self, ctx: DeliveryContext) -> tuple[str, str, dict[str, Any]]:
        progress = dict(ctx.checkpoint)
        slug, date = progress.get("slug"), progress.get("date")
        if isinstance(slug, str) and slug and isinstance(date, str) and date:
            return slug, date, progress
        slug = delivery_slug(ctx.post, ctx.delivery.idempotency_key)
        when = ctx.post.scheduled_at if ctx.post.scheduled_at is not None else ctx.clock.now()
        date = datetime.fromtimestamp(when, tz=UTC).isoformat(timespec="seconds")
        progress.update(slug=slug, date=date)
        await ctx.save_checkpoint(dict(progress))  # before the first request
        return slug, date, progress

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        token = self._token(ctx)
        if len(ctx.post.images) > MAX_IMAGES:
            raise PermanentError(f"A post can carry at most {MAX_IMAGES} images here.")
        slug, date, progress = await self._slug_and_date(ctx)
        endpoint = await self._endpoint(ctx.http, ctx.account)
        now = ctx.clock.now()
        found = await api.config(ctx.http, endpoint, token, now=now) if ctx.post.images else {}
        media = api.media_endpoint(found, endpoint)
        if ctx.post.images and not media:
            response = await self._create_multipart(ctx, endpoint, token, slug)
        else:
            photos = await self._upload_photos(ctx, media, token, progress)
            entry = self._entry(ctx, slug, date, photos)
            response = await api.request(
                ctx.http, "POST", endpoint, now=ctx.clock.now(), token=token, json=entry
            )
        url = api.location(response)
        if not url:
            raise PermanentError(
                "The site accepted the post but did not say where it is (no Location header)."
            )
        return PublishResult(remote_id=url, url=url)

    def _entry(
        self, ctx: DeliveryContext, slug: str, date: str, photos: list[dict[str, str]]
    ) -> dict[str, Any]:
        post = ctx.post
        properties: dict[str, Any] = {"mp-slug": [slug]}
        if post.title.strip():
            properties["name"] = [post.title.strip()]
        text = post.text_for(ctx.account.id)
        if text.strip():
            properties["content"] = [{"html": body_html(text).strip()}]
        if post.tags:
            properties["category"] = [t.strip() for t in post.tags if t.strip()]
        if photos:
            properties["photo"] = photos
        if post.scheduled_at is not None:
            properties["published"] = [date]
        return {"type": ["h-entry"], "properties": properties}

    async def _upload_photos(
        self, ctx: DeliveryContext, media: str, token: str, progress: dict[str, Any]
    ) -> list[dict[str, str]]:
        urls = [str(u) for u in progress.get("photos", []) if isinstance(u, str)]
        urls = urls[: len(ctx.post.images)]
        for number, image in enumerate(ctx.post.images, start=1):
            if number <= len(urls):
                continue
            name, data, mime = _prepared(image.path, number)
            response = await api.request(
                ctx.http,
                "POST",
                media,
                now=ctx.clock.now(),
                token=token,
                ok=(201, 202),
                files={"file": (name, data, mime)},
            )
            url = api.location(response)
            if not url:
                raise TransientError(f"The media endpoint's reply to image {number} had no URL.")
            urls.append(url)
            progress["photos"] = list(urls)
            await ctx.save_checkpoint(dict(progress))
        photos = []
        for url, image in zip(urls, ctx.post.images, strict=True):
            photos.append({"value": url, "alt": image.alt.strip()} if image.alt.strip() else
                          {"value": url})  # fmt: skip
        return photos

    async def _create_multipart(
        self, ctx: DeliveryContext, endpoint: str, token: str, slug: str
    ) -> httpx.Response:
        post = ctx.post
        data: dict[str, Any] = {"h": "entry", "mp-slug": slug}
        if post.title.strip():
            data["name"] = post.title.strip()
        text = post.text_for(ctx.account.id).strip()
        if text:
            data["content"] = text
        if post.tags:
            data["category[]"] = [t.strip() for t in post.tags if t.strip()]
        data["mp-photo-alt[]"] = [image.alt.strip() for image in post.images]
        files = [
            ("photo[]", _prepared(image.path, number))
            for number, image in enumerate(post.images, start=1)
        ]
        return await api.request(
            ctx.http, "POST", endpoint, now=ctx.clock.now(), token=token, data=data, files=files
        )

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        slug, date = ctx.checkpoint.get("slug"), ctx.checkpoint.get("date")
        if not isinstance(slug, str) or not isinstance(date, str):
            return Reconciled(Outcome.NOT_SENT, evidence="Nothing was sent to the site yet.")
        token = self._token(ctx)
        endpoint = await self._endpoint(ctx.http, ctx.account)
        now = ctx.clock.now()
        host = api.host_of(endpoint)
        if not api.supports_source(await api.config(ctx.http, endpoint, token, now=now)):
            return Reconciled(
                Outcome.UNKNOWN,
                evidence=(
                    f"The connection to {host} was lost while the post was being sent, and its "
                    "Micropub server offers no way to look posts up (no q=source), so Staffetta "
                    f"cannot tell whether it went out. Look for “{ctx.post.title or slug}” on "
                    "your site: if it is there, mark it as sent; if not, send it again."
                ),
            )
        expected = _expected_url(ctx.account, slug, date)
        if expected:
            found = await api.source(ctx.http, endpoint, token, now=now, url=expected)
            if found is not None:
                return Reconciled(
                    Outcome.SENT, expected, expected, f"{host} has a post at {expected}."
                )
        listing = await api.source(ctx.http, endpoint, token, now=now, limit=_LISTING)
        items = listing.get("items") if listing is not None else None
        if isinstance(items, list):
            url = _match(items, slug)
            if url:
                return Reconciled(Outcome.SENT, url, url, f"{host} lists the post {url}.")
            return Reconciled(
                Outcome.NOT_SENT, evidence=f"{host}'s recent posts hold none with the slug {slug}."
            )
        if expected:
            return Reconciled(Outcome.NOT_SENT, evidence=f"{host} has no post at {expected}.")
        return Reconciled(
            Outcome.UNKNOWN,
            evidence=(
                f"{host} can only look a post up by its address, and this account does not say "
                "how the site names posts (the “Address of a post” setting), so Staffetta cannot "
                "tell whether the post went out. Check your site, then mark it as sent or send "
                "it again."
            ),
        )


def _prepared(path: str, number: int) -> tuple[str, bytes, str]:
    try:
        prepared = prepare_image(Path(path), max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS)
    except InputError as exc:
        raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
    extension = _EXTENSIONS.get(prepared.mime, prepared.format.lower())
    return f"image-{number}.{extension}", prepared.data, prepared.mime


def _expected_url(account: Account, slug: str, date: str) -> str:
    template = str(account.settings.get("post_url") or "").strip()
    if "{slug}" not in template:
        return ""
    when = datetime.fromisoformat(date)
    values = {"slug": slug, "year": f"{when:%Y}", "month": f"{when:%m}", "day": f"{when:%d}"}
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def _match(items: list[Any], slug: str) -> str:
    """The URL of the listed post carrying ``slug`` (as ``mp-slug`` or in its URL), or ``""``."""
    for item in items:
        properties = item.get("properties") if isinstance(item, dict) else None
        if not isinstance(properties, dict):
            continue
        urls = [u for u in _listed(properties.get("url")) if isinstance(u, str)]
        slugs = _listed(properties.get("mp-slug")) + _listed(properties.get("slug"))
        if slug in slugs or any(slug in u.rstrip("/").rsplit("/", 1)[-1] for u in urls):
            return urls[0] if urls else slug
    return ""


def _listed(value: Any) -> list[Any]:
    """A microformats property as a list, whatever shape a server sends it in."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
