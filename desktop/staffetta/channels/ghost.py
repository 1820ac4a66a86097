"""Ghost (ghost.org, self-hosted or Ghost(Pro)): an owned blog, and optionally its newsletter.

Connect with the site's address and the Admin API key of a custom integration (Ghost Admin →
Settings → Integrations → Add custom integration). The key lives in the keyring; settings hold
the site and the account's choices: ``publish_status`` (published or draft) and the email, which
is opt-in twice over because an email cannot be unsent — ``newsletter`` (the slug of one of the
site's newsletters; empty = never email) and ``email_segment`` (who gets it: ``all``,
``status:free``, ``status:-free`` or any Ghost member filter).

A post becomes a Ghost post: title, the Markdown body rendered as readers will see it (sent as
HTML with ``?source=html``, which Ghost converts into its editor's Lexical document), the first
image as the feature image with its alt text, the others after the body with theirs, tags by name
(:mod:`staffetta.channels.ghost_publish`). Each request carries a fresh 5-minute token signed with
the key (:mod:`staffetta.channels.ghost_api`). Idempotency: a slug fixed at enqueue, looked up
with ``GET /posts/slug/<slug>/`` when an attempt's outcome is unknown; with a newsletter, a draft
found there is published (never a second post created), so the email goes out once. Health:
``GET /ghost/api/admin/site/`` (public).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import ghost_api as api
from staffetta.channels import ghost_publish as steps
from staffetta.channels.owned_common import OwnedPreviewer, normalise_site_url
from staffetta.core.channel import (
    Channel,
    DeliveryContext,
    Field,
    Fix,
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


class GhostChannel(Channel):
    name: ClassVar[str] = "ghost"
    label: ClassVar[str] = "Ghost"
    group: ClassVar[ChannelGroup] = ChannelGroup.OWNED
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "site_url",
            "Site address",
            "Your Ghost site, for example https://example.org (the API URL Ghost shows next to "
            "the key).",
        ),
        Field(
            "admin_api_key",
            "Admin API key",
            "In Ghost Admin: Settings → Integrations → Add custom integration, then copy its "
            "Admin API key (two parts joined by a colon).",
            secret=True,
        ),
        Field(
            "publish_status",
            "Publish as",
            "published (visible at once) or draft (waits in Ghost for you to publish it).",
            required=False,
            default=steps.PUBLISHED,
        ),
        Field(
            "newsletter",
            "Email to newsletter",
            "Optional, and only if you mean it: an email cannot be unsent. The slug of one of "
            "your Ghost newsletters (Settings → Newsletters, e.g. default-newsletter); each post "
            "is then emailed to its subscribers as it is published. Empty = never email.",
            required=False,
        ),
        Field(
            "email_segment",
            "Email recipients",
            "Who gets the email when a newsletter is set: all, status:free (free members), "
            "status:-free (paying members) or another Ghost member filter.",
            required=False,
            default="all",
        ),
    )

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._previewer = OwnedPreviewer()

    # --- identity -----------------------------------------------------------------------------
    def site_url(self, account: Account) -> str:
        site = normalise_site_url(str(account.settings.get("site_url") or ""), "Ghost site")
        # The admin's address (…/ghost) is what people often copy from the browser.
        return site[: -len("/ghost")] if site.endswith("/ghost") else site

    def endpoint(self, account: Account) -> str:
        try:
            return f"{self.name}:{self.site_url(account)}"
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or "")
        if handle:
            return handle
        try:
            return api.host_of(self.site_url(account))
        except InputError:
            return account.name

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
            plan = plan_of(account)
        except InputError as exc:
            problems.append(Problem("settings", str(exc)))
        else:
            if plan.newsletter:
                problems.append(
                    Problem(
                        "newsletter",
                        f"Publishing also emails this post to the newsletter “{plan.newsletter}” "
                        f"({_segment_words(plan.email_segment)}). An email cannot be unsent.",
                        blocking=False,
                    )
                )
        title = post.title.strip()
        if not title:
            problems.append(
                Problem(
                    "no_title",
                    "The post has no title: Ghost will show it as “(Untitled)”.",
                    blocking=False,
                )
            )
        elif len(title) > steps.MAX_TITLE_CHARS:
            problems.append(
                Problem(
                    "title_too_long",
                    f"The title has {len(title)} characters; Ghost accepts at most "
                    f"{steps.MAX_TITLE_CHARS}.",
                )
            )
        # Measured as sent: runs of spaces and line breaks become one space.
        feature_alt = len(" ".join(post.images[0].alt.split())) if post.images else 0
        if feature_alt > steps.MAX_FEATURE_ALT_CHARS:
            problems.append(
                Problem(
                    "alt_too_long",
                    f"Image 1 becomes the feature image, whose alt text Ghost keeps to "
                    f"{steps.MAX_FEATURE_ALT_CHARS} characters; this one has {feature_alt}.",
                    fix=Fix.ADD_ALT,
                )
            )
        long_tags = [t for t in post.tags if len(" ".join(t.split())) > steps.MAX_TAG_CHARS]
        if long_tags:
            problems.append(
                Problem(
                    "tag_too_long",
                    f"Ghost allows tags of at most {steps.MAX_TAG_CHARS} characters.",
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
        try:
            url = api.admin_url(self.site_url(account), "site")
        except InputError as exc:
            raise TransientError(str(exc)) from None
        await _site(http, url, now=self._clock.now())

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        site = self.site_url(account)
        plan = plan_of(account)
        key = api.AdminKey.parse(secret)
        now = self._clock.now()
        await _site(http, api.admin_url(site, "site"), now=now, checking=True)
        # The site's own record is public; reading its posts proves the key.
        await api.request(
            http,
            "GET",
            api.admin_url(site, "posts", {"limit": 1, "fields": "id"}),
            now=now,
            key=key,
        )
        if plan.newsletter:
            await _check_newsletter(http, site, key, plan.newsletter, now=now)
        return api.host_of(site)

    async def refresh_settings(self, http: httpx.AsyncClient, account: Account) -> dict[str, Any]:
        site = self.site_url(account)
        found: dict[str, Any] = {"site_url": site}
        info = await _site(http, api.admin_url(site, "site"), now=self._clock.now())
        for key in ("title", "version"):
            if isinstance(info.get(key), str):
                found["site_name" if key == "title" else "ghost_version"] = info[key]
        return found

    # --- delivering ---------------------------------------------------------------------------
    def _target(self, ctx: DeliveryContext) -> steps.Target:
        try:
            key = api.AdminKey.parse(ctx.secret)
        except InputError as exc:
            raise AuthError(f"This Ghost account's Admin API key cannot be used: {exc}") from None
        try:
            return steps.Target(self.site_url(ctx.account), key)
        except InputError as exc:
            raise PermanentError(str(exc)) from None

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        target = self._target(ctx)
        try:
            plan = plan_of(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        if len(ctx.post.images) > MAX_IMAGES:
            raise PermanentError(f"A post can carry at most {MAX_IMAGES} images here.")
        return await steps.publish(ctx, target, plan, steps.Progress(ctx))

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        slug = ctx.checkpoint.get("slug")
        if not isinstance(slug, str) or not slug:
            # The slug is checkpointed before the first request: nothing was sent.
            return Reconciled(Outcome.NOT_SENT, evidence="Nothing was sent to Ghost yet.")
        target = self._target(ctx)
        try:
            plan = plan_of(ctx.account)
        except InputError:
            plan = steps.Plan(steps.PUBLISHED)
        found = await steps.find_by_slug(ctx, target, slug)
        created = ctx.checkpoint.get("post_id")
        if found is None:
            if isinstance(created, str) and created:
                return Reconciled(
                    Outcome.UNKNOWN,
                    evidence=f"Ghost created the post {created} for this, but has no post with "
                    f"the slug {slug} any more (deleted or renamed in Ghost?). Check the site "
                    "before sending it again.",
                )
            return Reconciled(Outcome.NOT_SENT, evidence=f"Ghost has no post with the slug {slug}.")
        status = str(found.get("status") or "")
        said = f"Ghost has the post {found['id']} with the slug {slug}, {status or 'no status'}."
        if status in steps.OUT_STATUSES or (status == steps.DRAFT and plan.status == steps.DRAFT):
            return Reconciled(
                Outcome.SENT,
                remote_id=str(found["id"]),
                url=str(found.get("url") or ""),
                evidence=said + steps.email_evidence(found),
            )
        # A draft we meant to publish (the newsletter's two steps): publish that very post.
        await ctx.save_checkpoint(
            {**ctx.checkpoint, "create_sent": True, "post_id": str(found["id"])}
        )
        return Reconciled(
            Outcome.NOT_SENT,
            evidence=said + " Staffetta publishes that draft instead of creating another post.",
        )


def plan_of(account: Account) -> steps.Plan:
    """The account's publish and email choices, checked."""
    status = str(account.settings.get("publish_status") or steps.PUBLISHED).strip().lower()
    status = {"publish": steps.PUBLISHED}.get(status, status)
    if status not in steps.PUBLISH_STATUSES:
        raise InputError(
            f"“{status}” is not a way to publish on Ghost: choose published or draft in the "
            "account settings."
        )
    newsletter = str(account.settings.get("newsletter") or "").strip()
    email_segment = str(account.settings.get("email_segment") or "").strip() or "all"
    if newsletter and status == steps.DRAFT:
        raise InputError(
            "A newsletter is chosen, but posts are saved as drafts: Ghost emails a post only "
            "when it is published. Choose published, or leave the newsletter empty."
        )
    return steps.Plan(status, newsletter, email_segment)


def _segment_words(email_segment: str) -> str:
    return {
        "all": "every subscriber",
        "status:free": "free members",
        "status:-free": "paying members",
    }.get(email_segment, f"members matching {email_segment}")


async def _site(
    http: httpx.AsyncClient, url: str, *, now: float, checking: bool = False
) -> dict[str, Any]:
    """Ghost's public site record; :class:`TransientError` while it does not answer normally.

    ``checking`` (connecting an account): an address where no Ghost answers is the user's
    mistake, an :class:`InputError`, not something to wait for.
    """
    host = api.host_of(url)
    try:
        response = await api.request(http, "GET", url, now=now, key=None, ok=tuple(range(100, 600)))
    except TransientError as exc:
        raise TransientError(f"Could not reach Ghost at {host}: {exc}") from None
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise TransientError(
            f"Ghost at {host} is not answering normally (HTTP {response.status_code})."
        )
    site = None
    if response.status_code == 200:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        site = payload.get("site") if isinstance(payload, dict) else None
    if not isinstance(site, dict):
        moved = response.headers.get("location") if response.is_redirect else None
        message = (
            f"No Ghost site answers at {host} (HTTP {response.status_code} from "
            f"{api.ADMIN_PATH}/site/). Check the site's address."
        )
        if moved:
            message = (
                f"{host} sends Ghost's API to {moved}: enter the address Ghost shows next to "
                "the Admin API key (Settings → Integrations) as the site's address."
            )
        raise InputError(message) if checking else TransientError(message)
    return site


async def _check_newsletter(
    http: httpx.AsyncClient, site: str, key: api.AdminKey, slug: str, *, now: float
) -> None:
    response = await api.request(
        http, "GET", api.admin_url(site, "newsletters", {"limit": "all"}), now=now, key=key
    )
    items = api.json_object(response, "the newsletters").get("newsletters")
    newsletters = [n for n in items if isinstance(n, dict)] if isinstance(items, list) else []
    active = [str(n.get("slug")) for n in newsletters if n.get("status") == "active"]
    if slug in active:
        return
    archived = any(n.get("slug") == slug for n in newsletters)
    known = ", ".join(active) or "none"
    reason = "is archived" if archived else "does not exist"
    raise InputError(
        f"The newsletter “{slug}” {reason} on this Ghost site. Its active newsletters: {known}."
    )
