"""The steps of publishing one post to Ghost, each resumable from the delivery's checkpoint.

1. The slug (fixed by the delivery's idempotency key) is checkpointed before the first request.
2. Each image goes to ``POST /images/upload/`` (multipart ``file``, ``purpose=image``, ``ref``);
   its URL is checkpointed as soon as Ghost answers, so a retry never uploads it again.
3. The post is created with ``POST /posts/?source=html`` (Ghost turns the HTML into its Lexical
   document): title, slug, the rendered body with every image but the first as a ``<figure>``,
   the first image as ``feature_image`` with ``feature_image_alt``, tags by name. Before the
   request, ``create_sent`` is checkpointed; after it, the post's id.
4. With a newsletter chosen, the post is created as a *draft* and then published with
   ``PUT /posts/<id>/?newsletter=<slug>&email_segment=<filter>`` and its current ``updated_at``:
   Ghost takes the newsletter only when a post changes to published (``POST`` ignores it), and
   sends the email exactly then — once, since a published post never "becomes published" again.

So a second email is impossible by construction: a retry or a reconcile that finds our post (by
the id checkpointed, else by the slug) publishes *that* post if it is still a draft and does
nothing if it is published; only a delivery for which Ghost has no post at all creates one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from staffetta.channels import ghost_api as api
from staffetta.channels.owned_common import body_html, delivery_slug
from staffetta.core.channel import DeliveryContext, PublishResult
from staffetta.core.errors import InputError, PermanentError, TransientError
from staffetta.core.media import prepare_image

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_TITLE_CHARS = 255  # Ghost's schema: posts.title isLength max 255
MAX_FEATURE_ALT_CHARS = 191  # Ghost's schema: posts.feature_image_alt isLength max 191
MAX_TAG_CHARS = 191  # Ghost's schema: tags.name maxlength 191
PUBLISHED, DRAFT = "published", "draft"
PUBLISH_STATUSES = (PUBLISHED, DRAFT)
# Statuses in which Ghost has made the post public (and emailed it, with a newsletter).
OUT_STATUSES = frozenset({"published", "sent", "scheduled"})
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_INCLUDE = "tags,email,newsletter"


@dataclass(frozen=True, slots=True)
class Target:
    """Where and with which key."""

    site: str
    key: api.AdminKey

    def url(self, route: str, params: dict[str, Any] | None = None) -> str:
        return api.admin_url(self.site, route, params)


@dataclass(frozen=True, slots=True)
class Plan:
    """What the account's settings ask for: a status, and the email to send (if any)."""

    status: str
    newsletter: str = ""
    email_segment: str = "all"


class Progress:
    """The delivery's checkpoint as this attempt grows it; every :meth:`save` is durable."""

    def __init__(self, ctx: DeliveryContext) -> None:
        self._ctx = ctx
        self.data: dict[str, Any] = dict(ctx.checkpoint)

    async def save(self, **changes: Any) -> None:
        self.data.update(changes)
        await self._ctx.save_checkpoint(dict(self.data))


# --- checking before anything is sent -------------------------------------------------------------


def check_post(ctx: DeliveryContext) -> None:
    """Refuse what Ghost would refuse after the images were uploaded (its schema's limits)."""
    post = ctx.post
    if len(post.title.strip()) > MAX_TITLE_CHARS:
        raise PermanentError(
            f"The title has {len(post.title.strip())} characters; Ghost accepts at most "
            f"{MAX_TITLE_CHARS}. Shorten it and publish again."
        )
    if post.images and len(" ".join(post.images[0].alt.split())) > MAX_FEATURE_ALT_CHARS:
        raise PermanentError(
            f"The first image is the post's feature image, whose alt text Ghost keeps to "
            f"{MAX_FEATURE_ALT_CHARS} characters. Shorten it and publish again."
        )
    for tag in tags_of(ctx):
        if len(tag) > MAX_TAG_CHARS:
            raise PermanentError(
                f"The tag “{tag[:40]}…” is longer than the {MAX_TAG_CHARS} characters Ghost allows."
            )


def tags_of(ctx: DeliveryContext) -> list[str]:
    """The post's tags, trimmed, without empty ones or repeats (Ghost matches names loosely)."""
    seen: dict[str, str] = {}
    for tag in ctx.post.tags:
        name = " ".join(tag.split())
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())


# --- steps ----------------------------------------------------------------------------------------


async def slug_for(ctx: DeliveryContext, progress: Progress) -> str:
    """The delivery's slug, checkpointed (durably) before anything is sent."""
    saved = progress.data.get("slug")
    if isinstance(saved, str) and saved:
        return saved
    slug = delivery_slug(ctx.post, ctx.delivery.idempotency_key)
    await progress.save(slug=slug)
    return slug


async def upload_images(
    ctx: DeliveryContext, target: Target, slug: str, progress: Progress
) -> list[str]:
    """Every image uploaded, in order: their URLs on the site (each checkpointed at once)."""
    urls = [u for u in progress.data.get("images", []) if isinstance(u, str) and u]
    urls = urls[: len(ctx.post.images)]
    for number in range(len(urls) + 1, len(ctx.post.images) + 1):
        urls.append(await _upload(ctx, target, slug, number))
        await progress.save(images=list(urls))
    return urls


async def _upload(ctx: DeliveryContext, target: Target, slug: str, number: int) -> str:
    image = ctx.post.images[number - 1]
    try:
        prepared = prepare_image(
            Path(image.path), max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS
        )
    except InputError as exc:
        raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
    name = f"{slug}-{number}.{_EXTENSIONS.get(prepared.mime, prepared.format.lower())}"
    response = await api.request(
        ctx.http,
        "POST",
        target.url("images/upload"),
        now=ctx.clock.now(),
        key=target.key,
        files={"file": (name, prepared.data, prepared.mime)},
        data={"purpose": "image", "ref": name},
    )
    url = api.first_of(response, "images", f"image {number}").get("url")
    if not isinstance(url, str) or not url:
        raise TransientError(f"Ghost's reply to image {number} had no address.")
    return url


def post_fields(ctx: DeliveryContext, slug: str, status: str, urls: list[str]) -> dict[str, Any]:
    """The post as Ghost's ``POST /posts/?source=html`` takes it."""
    post = ctx.post
    in_body = [(url, image.alt) for url, image in zip(urls[1:], post.images[1:], strict=False)]
    fields: dict[str, Any] = {
        "title": post.title.strip(),
        "slug": slug,
        "html": body_html(post.text_for(ctx.account.id), in_body),
        "status": status,
        "tags": [{"name": tag} for tag in tags_of(ctx)],
    }
    if urls:
        fields["feature_image"] = urls[0]
        fields["feature_image_alt"] = " ".join(post.images[0].alt.split()) or None
    return fields


async def read_post(ctx: DeliveryContext, target: Target, post_id: str) -> dict[str, Any] | None:
    """The post with this id, whatever its status, or None when Ghost has none."""
    response = await api.request(
        ctx.http,
        "GET",
        target.url(f"posts/{api.segment(post_id)}", {"include": _INCLUDE}),
        now=ctx.clock.now(),
        key=target.key,
        ok=(200, 404),
    )
    if response.status_code == 404:
        return None
    return api.first_of(response, "posts", "the post")


async def find_by_slug(ctx: DeliveryContext, target: Target, slug: str) -> dict[str, Any] | None:
    """Our post by its slug (drafts too: the Admin API reads every status), or None."""
    response = await api.request(
        ctx.http,
        "GET",
        target.url(f"posts/slug/{api.segment(slug)}", {"include": _INCLUDE}),
        now=ctx.clock.now(),
        key=target.key,
        ok=(200, 404),
    )
    if response.status_code == 404:
        return None
    found = api.first_of(response, "posts", "the post")
    return found if found.get("slug") == slug else None


async def publish(
    ctx: DeliveryContext, target: Target, plan: Plan, progress: Progress
) -> PublishResult:
    """Create the post (or find the one an earlier attempt created), then publish it with the
    email if the plan has one. Never creates a second post, never publishes one twice."""
    check_post(ctx)
    slug = await slug_for(ctx, progress)
    urls = await upload_images(ctx, target, slug, progress)
    post = await _ours(ctx, target, slug, progress)
    if post is None:
        # A draft first when an email goes with it: Ghost sends newsletters only on the change
        # from draft to published, through PUT.
        status = DRAFT if plan.newsletter else plan.status
        await progress.save(create_sent=True)
        response = await api.request(
            ctx.http,
            "POST",
            target.url("posts", {"source": "html"}),
            now=ctx.clock.now(),
            key=target.key,
            json={"posts": [post_fields(ctx, slug, status, urls)]},
        )
        post = api.first_of(response, "posts", "the post")
        if not isinstance(post.get("id"), str) or not post["id"]:
            raise TransientError("Ghost's reply to the post had no id.")
        await progress.save(post_id=post["id"])
    if plan.status == PUBLISHED and post.get("status") == DRAFT:
        post = await _publish_draft(ctx, target, plan, post)
    return PublishResult(remote_id=str(post["id"]), url=str(post.get("url") or ""))


async def _ours(
    ctx: DeliveryContext, target: Target, slug: str, progress: Progress
) -> dict[str, Any] | None:
    """The post an earlier attempt of this delivery created, if any."""
    post_id = progress.data.get("post_id")
    if isinstance(post_id, str) and post_id:
        post = await read_post(ctx, target, post_id)
        if post is None:
            raise PermanentError(
                f"Ghost no longer has the post Staffetta created for this (id {post_id}): it was "
                "deleted in Ghost. Nothing was sent again; publish the post anew if you want it."
            )
        return post
    if progress.data.get("create_sent"):
        # The create request left but its answer was lost: Ghost may have the post.
        post = await find_by_slug(ctx, target, slug)
        if post is not None:
            await progress.save(post_id=str(post["id"]))
        return post
    return None


async def _publish_draft(
    ctx: DeliveryContext, target: Target, plan: Plan, post: dict[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if plan.newsletter:
        params = {"newsletter": plan.newsletter, "email_segment": plan.email_segment or "all"}
    response = await api.request(
        ctx.http,
        "PUT",
        target.url(f"posts/{api.segment(str(post['id']))}", params),
        now=ctx.clock.now(),
        key=target.key,
        json={"posts": [{"status": PUBLISHED, "updated_at": post.get("updated_at")}]},
    )
    return api.first_of(response, "posts", "the post")


def email_evidence(post: dict[str, Any]) -> str:
    """What Ghost says about the post's email, in words (empty when it has none)."""
    email = post.get("email")
    if not isinstance(email, dict):
        return ""
    newsletter = post.get("newsletter")
    name = newsletter.get("name") if isinstance(newsletter, dict) else None
    status = str(email.get("status") or "unknown")
    count = email.get("email_count")
    to = f" to {count} members" if isinstance(count, int) else ""
    of = f" of the newsletter {name}" if name else ""
    return f" Its email{of}{to} is {status}."
