"""Uploading a post's images to Mastodon, resumably.

``POST /api/v2/media`` answers 200 when the file is processed and 202 (``url`` null) while it is
still being processed; ``GET /api/v1/media/:id`` then answers 206 until it is done. A status that
refers to unprocessed media is refused, so we wait (with the injected clock) before posting.

Each media id is checkpointed as soon as the server returns it, so a retry after a crash or a
failure reuses it instead of uploading the image again. Unattached uploads are cleaned up by the
server after about a day: older checkpoints are discarded and the images uploaded afresh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from staffetta.channels import mastodon_api as api
from staffetta.core.channel import DeliveryContext, Limits
from staffetta.core.errors import InputError, PermanentError, TransientError
from staffetta.core.media import prepare_image
from staffetta.core.model import Account

MEDIA_REUSE_WINDOW = 20 * 3600.0
MEDIA_POLL_DELAYS = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 5.0, 8.0, 8.0, 10.0, 10.0)  # ≈ 54 s in all
_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/avif": "AVIF",
}
_DEFAULT_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")


async def upload_media(ctx: DeliveryContext, base: str, limits: Limits) -> list[str]:
    """The media ids of the post's images, in order, each uploaded and processed exactly once."""
    images = ctx.post.images
    if not images:
        return []
    if len(images) > limits.max_images:
        raise PermanentError(
            f"This post has {len(images)} images; the Mastodon server accepts "
            f"{limits.max_images}. Remove some and queue it again."
        )
    saved = ctx.checkpoint
    media_ids = [str(i) for i in saved.get("media_ids", [])][: len(images)]
    pending = [str(i) for i in saved.get("pending_media", []) if str(i) in media_ids]
    uploaded_at = float(saved.get("media_uploaded_at") or 0.0)
    if media_ids and ctx.clock.now() - uploaded_at > MEDIA_REUSE_WINDOW:
        media_ids, pending = [], []  # the server has likely cleaned them up: start over
    for media_id in list(pending):
        await wait_processed(ctx, base, media_id)
        pending.remove(media_id)
    allowed = allowed_formats(ctx.account)
    for number, image in enumerate(images, start=1):
        if number <= len(media_ids):
            continue
        try:
            prepared = prepare_image(
                Path(image.path),
                max_bytes=limits.max_image_bytes,
                max_pixels=limits.max_image_pixels,
                allowed=allowed,
            )
        except InputError as exc:
            raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
        extension = prepared.format.lower().replace("jpeg", "jpg")
        data = {"description": image.alt} if image.alt else {}
        response = await api.request(
            ctx.http,
            "POST",
            f"{base}/api/v2/media",
            now=ctx.clock.now(),
            token=ctx.secret,
            ok=(200, 202),
            data=data,
            files={"file": (f"image-{number}.{extension}", prepared.data, prepared.mime)},
        )
        attachment = api.json_object(response, f"image {number}")
        media_id = str(attachment.get("id") or "")
        if not media_id:
            raise TransientError(f"Mastodon's reply to image {number} had no id.")
        if not media_ids:
            uploaded_at = ctx.clock.now()
        media_ids.append(media_id)
        processing = response.status_code == 202 or not attachment.get("url")
        if processing:
            pending.append(media_id)
        await ctx.save_checkpoint(_checkpoint(media_ids, pending, uploaded_at))
        if processing:
            await wait_processed(ctx, base, media_id)
            pending.remove(media_id)
            await ctx.save_checkpoint(_checkpoint(media_ids, pending, uploaded_at))
    return media_ids


async def wait_processed(ctx: DeliveryContext, base: str, media_id: str) -> None:
    """Poll ``GET /api/v1/media/:id`` with growing pauses until it has a URL (bounded)."""
    for delay in MEDIA_POLL_DELAYS:
        await ctx.clock.sleep(delay)
        response = await api.request(
            ctx.http,
            "GET",
            f"{base}/api/v1/media/{media_id}",
            now=ctx.clock.now(),
            token=ctx.secret,
            ok=(200, 206),
        )
        if response.status_code == 200 and api.json_object(response, "an image").get("url"):
            return
    raise TransientError("Mastodon is still processing an image; the post will be retried.")


def allowed_formats(account: Account) -> tuple[str, ...]:
    """Pillow format names the server takes, from its ``supported_mime_types``."""
    mime_types = account.settings.get("supported_mime_types")
    if not isinstance(mime_types, list) or not mime_types:
        return _DEFAULT_FORMATS
    found = tuple(dict.fromkeys(_FORMATS[m] for m in mime_types if m in _FORMATS))
    return found or _DEFAULT_FORMATS


def _checkpoint(media_ids: list[str], pending: list[str], uploaded_at: float) -> dict[str, Any]:
    return {
        "media_ids": list(media_ids),
        "pending_media": list(pending),
        "media_uploaded_at": uploaded_at,
    }
