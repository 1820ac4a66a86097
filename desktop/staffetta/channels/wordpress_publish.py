"""The steps of publishing one post to WordPress, each resumable from the delivery's checkpoint.

1. The slug (fixed by the delivery's idempotency key) is checkpointed before the first request.
2. Each image is uploaded to the media library (``POST /wp/v2/media``, the raw bytes with
   ``Content-Disposition: attachment; filename=…``), its id and ``source_url`` checkpointed as soon
   as WordPress answers; then its alt text is set (``POST /wp/v2/media/<id>`` ``alt_text``) and
   that too is checkpointed. A retry never uploads an image twice.
3. Tags (and the account's default category) are matched by name, or created.
4. The post is created with the slug, the rendered body with the images' URLs, the first image as
   ``featured_media``, ``status`` publish/draft (``future`` with ``date_gmt`` when it is due later).

Reconcile asks ``GET /wp/v2/posts?slug=…&status=any`` (authenticated: drafts and scheduled posts
count too).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from staffetta.channels import wordpress_api as api
from staffetta.channels.owned_common import body_html, delivery_slug
from staffetta.core.channel import DeliveryContext, PublishResult
from staffetta.core.errors import InputError, PermanentError, TransientError
from staffetta.core.media import prepare_image

MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
PUBLISH_STATUSES = ("publish", "draft")
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


@dataclass(frozen=True, slots=True)
class Target:
    """Where and as whom: the API root and the Basic credentials."""

    api_root: str
    user: str
    password: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)

    def url(self, route: str, params: dict[str, Any] | None = None) -> str:
        return api.route_url(self.api_root, route, params)


class Progress:
    """The delivery's checkpoint as this attempt grows it; every :meth:`save` is durable."""

    def __init__(self, ctx: DeliveryContext) -> None:
        self._ctx = ctx
        self.data: dict[str, Any] = dict(ctx.checkpoint)

    async def save(self, **changes: Any) -> None:
        self.data.update(changes)
        await self._ctx.save_checkpoint(dict(self.data))


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
) -> list[dict[str, Any]]:
    """Every image in the media library with its alt text: ``[{id, url, alt_set}]`` in order."""
    media: list[dict[str, Any]] = [
        dict(item) for item in progress.data.get("media", []) if isinstance(item, dict)
    ][: len(ctx.post.images)]
    for number, image in enumerate(ctx.post.images, start=1):
        if number > len(media):
            media.append(await _upload(ctx, target, slug, number))
            await progress.save(media=[dict(item) for item in media])
        item = media[number - 1]
        if image.alt.strip() and not item.get("alt_set"):
            response = await api.request(
                ctx.http,
                "POST",
                target.url(f"/wp/v2/media/{item['id']}"),
                now=ctx.clock.now(),
                auth=target.auth,
                json={"alt_text": image.alt.strip()},
            )
            stored = str(api.json_object(response, "an image").get("alt_text") or "")
            if not stored.strip():
                # WordPress strips tags from alt text, but an empty answer means it was lost.
                raise PermanentError(f"WordPress did not keep the alt text of image {number}.")
            item["alt_set"] = True
            await progress.save(media=[dict(item) for item in media])
    return media


async def _upload(ctx: DeliveryContext, target: Target, slug: str, number: int) -> dict[str, Any]:
    image = ctx.post.images[number - 1]
    try:
        prepared = prepare_image(
            Path(image.path), max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS
        )
    except InputError as exc:
        raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
    extension = _EXTENSIONS.get(prepared.mime, prepared.format.lower())
    response = await api.request(
        ctx.http,
        "POST",
        target.url("/wp/v2/media"),
        now=ctx.clock.now(),
        auth=target.auth,
        content=prepared.data,
        headers={
            "Content-Type": prepared.mime,
            "Content-Disposition": f'attachment; filename="{slug}-{number}.{extension}"',
        },
    )
    uploaded = api.json_object(response, f"image {number}")
    media_id, url = uploaded.get("id"), uploaded.get("source_url")
    if not isinstance(media_id, int) or not isinstance(url, str) or not url:
        raise TransientError(f"WordPress's reply to image {number} had no id or address.")
    return {"id": media_id, "url": url, "alt_set": False}


async def term_ids(
    ctx: DeliveryContext, target: Target, taxonomy: str, names: list[str]
) -> list[int]:
    """The ids of ``names`` in ``tags`` or ``categories``: matched by name, else created."""
    ids: list[int] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        term = await _find_term(ctx, target, taxonomy, name)
        if term is None:
            term = await _create_term(ctx, target, taxonomy, name)
        if term not in ids:
            ids.append(term)
    return ids


async def _find_term(ctx: DeliveryContext, target: Target, taxonomy: str, name: str) -> int | None:
    url = target.url(f"/wp/v2/{taxonomy}", {"search": name, "per_page": 100})
    response = await api.request(ctx.http, "GET", url, now=ctx.clock.now(), auth=target.auth)
    found = api.json_of(response, taxonomy)
    wanted = name.casefold()
    for term in found if isinstance(found, list) else []:
        if not isinstance(term, dict) or not isinstance(term.get("id"), int):
            continue
        # WordPress returns names HTML-escaped ("Caff&egrave;" / "R&amp;D").
        if html.unescape(str(term.get("name", ""))).casefold() == wanted:
            return int(term["id"])
        if str(term.get("slug", "")) == name.casefold():
            return int(term["id"])
    return None


async def _create_term(ctx: DeliveryContext, target: Target, taxonomy: str, name: str) -> int:
    response = await api.request(
        ctx.http,
        "POST",
        target.url(f"/wp/v2/{taxonomy}"),
        now=ctx.clock.now(),
        auth=target.auth,
        ok=(200, 201, 400, 409, 500),
        json={"name": name},
    )
    payload = api.json_object(response, taxonomy)
    if response.status_code in (200, 201) and isinstance(payload.get("id"), int):
        return int(payload["id"])
    # Created meanwhile (or matched differently): WordPress names the existing term.
    data = payload.get("data")
    existing = data.get("term_id") if isinstance(data, dict) else None
    if payload.get("code") == "term_exists" and isinstance(existing, int):
        return existing
    raise api.classify_response(response, ctx.clock.now())


async def create_post(
    ctx: DeliveryContext,
    target: Target,
    *,
    slug: str,
    status: str,
    media: list[dict[str, Any]],
    tags: list[int],
    categories: list[int],
) -> PublishResult:
    post = ctx.post
    images = [
        (str(item["url"]), image.alt) for item, image in zip(media, post.images, strict=False)
    ]
    fields: dict[str, Any] = {
        "title": post.title.strip(),
        "content": body_html(post.text_for(ctx.account.id), images),
        "status": status,
        "slug": slug,
    }
    if media:
        fields["featured_media"] = media[0]["id"]
    if tags:
        fields["tags"] = tags
    if categories:
        fields["categories"] = categories
    if post.scheduled_at is not None and post.scheduled_at > ctx.clock.now() + 60:
        when = datetime.fromtimestamp(post.scheduled_at, tz=UTC)
        fields["date_gmt"] = when.strftime("%Y-%m-%dT%H:%M:%S")
        if status == "publish":
            fields["status"] = "future"
    response = await api.request(
        ctx.http,
        "POST",
        target.url("/wp/v2/posts"),
        now=ctx.clock.now(),
        auth=target.auth,
        json=fields,
    )
    created = api.json_object(response, "the post")
    if not isinstance(created.get("id"), int):
        raise TransientError("WordPress's reply to the post had no id.")
    return PublishResult(remote_id=str(created["id"]), url=str(created.get("link") or ""))


async def find_by_slug(ctx: DeliveryContext, target: Target, slug: str) -> dict[str, Any] | None:
    """Our post, whatever its status (drafts and scheduled ones too), or None."""
    url = target.url(
        "/wp/v2/posts", {"slug": slug, "status": "any", "context": "edit", "per_page": 10}
    )
    response = await api.request(ctx.http, "GET", url, now=ctx.clock.now(), auth=target.auth)
    found = api.json_of(response, "the post list")
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and item.get("slug") == slug and isinstance(item.get("id"), int):
            return item
    return None
