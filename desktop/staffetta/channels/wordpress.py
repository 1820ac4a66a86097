"""WordPress (any self-hosted or hosted site with the REST API): an owned blog channel.

Connect with the site's address, the user name and an application password (Users → Profile →
Application Passwords), or approve Staffetta in the browser where the site offers it
(:mod:`staffetta.channels.wordpress_connect`). The password lives in the keyring; settings hold
the site, the user name, where the REST API lives, and the account's choices: ``publish_status``
(publish or draft) and an optional ``default_category``.

A post becomes a WordPress post: title, the Markdown body rendered as readers will see it, every
image in the media library with its alt text and shown after the body, the first as the featured
image, tags (and the default category) matched by name or created
(:mod:`staffetta.channels.wordpress_publish`). Idempotency: a slug fixed at enqueue, looked up with
``GET /wp/v2/posts?slug=…&status=any`` when an attempt's outcome is unknown. Health:
``GET /wp-json/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import wordpress_api as api
from staffetta.channels import wordpress_publish as steps
from staffetta.channels.owned_common import OwnedPreviewer, normalise_site_url
from staffetta.channels.wordpress_connect import connect_in_browser, fetch_index, who_am_i
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
from staffetta.core.model import Account, ChannelGroup, Post

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

MAX_IMAGES = 50


class WordPressChannel(Channel):
    name: ClassVar[str] = "wordpress"
    label: ClassVar[str] = "WordPress"
    group: ClassVar[ChannelGroup] = ChannelGroup.OWNED
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "site_url",
            "Site address",
            "Your WordPress site, for example https://example.org (https is needed for "
            "application passwords).",
        ),
        Field(
            "username",
            "User name",
            "The name you log in to WordPress with. Filled in when you sign in with the browser.",
            required=False,
        ),
        Field(
            "application_password",
            "Application password",
            "Optional. Leave empty to approve Staffetta in your browser; or create one in "
            "WordPress under Users → Profile → Application Passwords and paste it here.",
            secret=True,
            required=False,
        ),
        Field(
            "publish_status",
            "Publish as",
            "publish (visible at once) or draft (waits in WordPress for you to publish it).",
            required=False,
            default="publish",
        ),
        Field(
            "default_category",
            "Category",
            "Optional. A category every post goes into (created if the site has none by that "
            "name); otherwise WordPress uses its own default.",
            required=False,
        ),
    )
    browser_sign_in: ClassVar[bool] = True

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._previewer = OwnedPreviewer()

    # --- identity -----------------------------------------------------------------------------
    def site_url(self, account: Account) -> str:
        return normalise_site_url(str(account.settings.get("site_url") or ""), "WordPress site")

    def api_root(self, account: Account) -> str:
        saved = str(account.settings.get("api_root") or "")
        return saved or f"{self.site_url(account)}/wp-json"

    def endpoint(self, account: Account) -> str:
        try:
            return f"{self.name}:{api.origin_of(self.site_url(account))}"
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or "")
        if handle:
            return handle
        user = str(account.settings.get("username") or account.name)
        try:
            return f"{user}@{api.host_of(self.site_url(account))}"
        except InputError:
            return user

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=0,
            max_images=MAX_IMAGES,
            max_image_bytes=steps.MAX_IMAGE_BYTES,
            max_image_pixels=steps.MAX_IMAGE_PIXELS,
            uses_title=True,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        problems: list[Problem] = []
        try:
            self.site_url(account)
            _publish_status(account)
        except InputError as exc:
            problems.append(Problem("settings", str(exc)))
        if not post.title.strip():
            problems.append(
                Problem(
                    "no_title",
                    "The post has no title: WordPress will list it as “(no title)”.",
                    blocking=False,
                )
            )
        return self._previewer.preview(
            self.name,
            post,
            account,
            self.handle(account),
            max_images=MAX_IMAGES,
            problems=problems,
        )

    # --- health, credentials, settings --------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        url = api.route_url(self.api_root(account), "/")
        try:
            response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise TransientError(
                f"Could not reach WordPress at {api.host_of(url)}: {exc}"
            ) from None
        if response.status_code != 200:
            raise TransientError(
                f"WordPress at {api.host_of(url)} is not answering normally "
                f"(HTTP {response.status_code})."
            )

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        site = self.site_url(account)
        _publish_status(account)
        user = str(account.settings.get("username") or "").strip()
        if not secret:
            raise AuthError(
                "This WordPress account has no application password — sign in with the browser "
                "or paste one."
            )
        if not user:
            raise InputError("Enter your WordPress user name (the one you log in with).")
        now = self._clock.now()
        root = str(account.settings.get("api_root") or "") or await api.discover_api_root(
            http, site, now=now
        )
        me = await who_am_i(http, root, user, secret, now=now)
        capabilities = me.get("capabilities")
        if isinstance(capabilities, dict) and capabilities and not capabilities.get("edit_posts"):
            raise AuthError(
                f"The WordPress user {user} may not write posts on {api.host_of(site)}. Use an "
                "author's, editor's or administrator's account."
            )
        return f"{me.get('username') or user}@{api.host_of(site)}"

    async def refresh_settings(self, http: httpx.AsyncClient, account: Account) -> dict[str, Any]:
        now = self._clock.now()
        site = self.site_url(account)
        root = await api.discover_api_root(http, site, now=now)
        index = await fetch_index(http, root, now=now)
        found: dict[str, Any] = {"site_url": site, "api_root": root}
        if isinstance(index.get("name"), str):
            found["site_name"] = index["name"]
        return found

    async def authorize(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        open_browser: Callable[[str], Any] | None = None,
    ) -> Authorization:
        """The site's own approval page (``authorize-application.php``) in the browser."""
        return await connect_in_browser(
            http, settings, open_browser=open_browser, now=self._clock.now()
        )

    # --- delivering ---------------------------------------------------------------------------
    def _target(self, ctx: DeliveryContext) -> steps.Target:
        user = str(ctx.account.settings.get("username") or "").strip()
        if not ctx.secret or not user:
            raise AuthError(
                "This WordPress account has no user name or application password — reconnect it."
            )
        try:
            root = self.api_root(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        return steps.Target(root, user, ctx.secret)

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        target = self._target(ctx)
        try:
            status = _publish_status(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        if len(ctx.post.images) > MAX_IMAGES:
            raise PermanentError(f"A post can carry at most {MAX_IMAGES} images here.")
        progress = steps.Progress(ctx)
        slug = await steps.slug_for(ctx, progress)
        media = await steps.upload_images(ctx, target, slug, progress)
        tags = await steps.term_ids(ctx, target, "tags", list(ctx.post.tags))
        category = str(ctx.account.settings.get("default_category") or "").strip()
        categories = await steps.term_ids(ctx, target, "categories", [category] if category else [])
        return await steps.create_post(
            ctx, target, slug=slug, status=status, media=media, tags=tags, categories=categories
        )

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        slug = ctx.checkpoint.get("slug")
        if not isinstance(slug, str) or not slug:
            # The slug is checkpointed before the first request: nothing was sent.
            return Reconciled(Outcome.NOT_SENT, evidence="Nothing was sent to WordPress yet.")
        target = self._target(ctx)
        found = await steps.find_by_slug(ctx, target, slug)
        if found is None:
            return Reconciled(
                Outcome.NOT_SENT, evidence=f"WordPress has no post with the slug {slug}."
            )
        return Reconciled(
            Outcome.SENT,
            remote_id=str(found["id"]),
            url=str(found.get("link") or ""),
            evidence=f"WordPress has the post {found['id']} with the slug {slug}.",
        )


def _publish_status(account: Account) -> str:
    value = str(account.settings.get("publish_status") or "publish").strip().lower()
    if value not in steps.PUBLISH_STATUSES:
        raise InputError(
            f"“{value}” is not a way to publish on WordPress: choose publish or draft in the "
            "account settings."
        )
    return value
