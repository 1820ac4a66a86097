"""Blobs for a Bluesky post: its images and the link card's thumbnail, each uploaded once.

``com.atproto.repo.uploadBlob`` takes the raw bytes and returns a blob reference that a record
then points at. Every reference is checkpointed as soon as the server returns it, so a retry after
a crash or a failure reuses it instead of uploading again. A server drops blobs no record refers
to after a while: references older than :data:`BLOB_REUSE_WINDOW` are not reused, and a record
refused with ``BlobNotFound`` has its blobs uploaded afresh (see the channel).

Images are re-encoded by :func:`staffetta.core.media.prepare_image`: EXIF and other metadata
dropped, at most 2000 px a side (what Bluesky serves), and under the blob size limit with the
highest JPEG/WebP quality that fits.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from staffetta.channels import bluesky_api as api
from staffetta.channels.bluesky_session import Session
from staffetta.core.errors import InputError, PermanentError, TransientError, UnknownOutcome
from staffetta.core.media import PreparedImage, prepare_image
from staffetta.core.model import Image

BLOB_REUSE_WINDOW = 3600.0
FORMATS = ("JPEG", "PNG", "WEBP")
MAX_PIXELS = api.MAX_IMAGE_SIDE * api.MAX_IMAGE_SIDE

Checkpoint = dict[str, Any]
Save = Callable[[], Awaitable[None]]


async def upload_blob(session: Session, data: bytes, mime: str, what: str) -> dict[str, Any]:
    """Upload bytes; the blob reference the server returns."""
    try:
        response = await session.call(
            "POST",
            "com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": mime},
        )
    except UnknownOutcome as exc:
        # An upload whose answer was lost publishes nothing: at worst an unused blob remains.
        raise TransientError(str(exc)) from None
    blob = api.json_object(response, what).get("blob")
    if not isinstance(blob, dict) or not blob.get("ref"):
        raise TransientError(f"Bluesky's reply to {what} had no blob.")
    return blob


def prepare(image: Image, number: int, max_bytes: int) -> PreparedImage:
    try:
        return prepare_image(
            Path(image.path),
            max_bytes=max_bytes,
            max_pixels=MAX_PIXELS,
            max_side=api.MAX_IMAGE_SIDE,
            allowed=FORMATS,
        )
    except InputError as exc:
        raise PermanentError(f"Image {number} cannot be sent: {exc}") from None


def fresh_blobs(state: Checkpoint, now: float) -> bool:
    """Whether the blobs in ``state`` are recent enough to still be on the server."""
    return now - float(state.get("blobs_uploaded_at") or 0.0) <= BLOB_REUSE_WINDOW


def forget_blobs(state: Checkpoint) -> None:
    """Drop the blob references of ``state`` so they are uploaded again (a card with a picture
    is decided again as a whole)."""
    for key in ("images", "blobs_uploaded_at"):
        state.pop(key, None)
    card = state.get("card")
    if isinstance(card, dict) and "thumb" in card:
        del state["card"]


async def image_embed(
    session: Session,
    images: tuple[Image, ...],
    state: Checkpoint,
    save: Save,
    *,
    max_bytes: int,
) -> dict[str, Any] | None:
    """``app.bsky.embed.images`` for the post's images, uploading only those not yet uploaded."""
    if not images:
        return None
    if len(images) > api.MAX_IMAGES:
        raise PermanentError(
            f"This post has {len(images)} images; Bluesky takes at most {api.MAX_IMAGES}. "
            f"Remove some and queue it again."
        )
    if state.get("images") and not fresh_blobs(state, session.clock.now()):
        forget_blobs(state)
    done: list[dict[str, Any]] = [dict(i) for i in state.get("images", [])][: len(images)]
    for number, image in enumerate(images, start=1):
        if number <= len(done):
            continue
        prepared = prepare(image, number, max_bytes)
        blob = await upload_blob(session, prepared.data, prepared.mime, f"image {number}")
        if not done:
            state["blobs_uploaded_at"] = session.clock.now()
        done.append({"blob": blob, "width": prepared.width, "height": prepared.height})
        state["images"] = [dict(i) for i in done]
        await save()
    return {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "image": entry["blob"],
                "alt": image.alt,
                "aspectRatio": {"width": int(entry["width"]), "height": int(entry["height"])},
            }
            for entry, image in zip(done, images, strict=True)
        ],
    }


async def thumbnail_blob(session: Session, data: bytes) -> dict[str, Any] | None:
    """Re-encode a card image under the thumbnail limit and upload it; None if unusable."""
    with tempfile.TemporaryDirectory(prefix="staffetta-card-") as folder:
        path = Path(folder) / "card-image"
        path.write_bytes(data)
        try:
            prepared = prepare_image(
                path,
                max_bytes=api.THUMB_BYTES,
                max_pixels=MAX_PIXELS,
                max_side=api.MAX_IMAGE_SIDE,
                allowed=FORMATS,
            )
        except InputError:
            return None
    return await upload_blob(session, prepared.data, prepared.mime, "the link card's image")
