"""Uploading a post's images to X through the v2 media endpoints, resumably.

The chunked flow of docs.x.com: ``POST /2/media/upload/initialize`` {media_type, total_bytes,
media_category} → ``POST /2/media/upload/{id}/append`` (multipart ``media`` + ``segment_index``,
once per chunk) → ``POST /2/media/upload/{id}/finalize``; when the answer has a
``processing_info``, ``GET /2/media/upload?command=STATUS&media_id=…`` until it succeeds. The
description goes to ``POST /2/media/metadata`` {id, metadata: {alt_text: {text}}}.

Each media id is checkpointed once it is finalised (with its alt text), so a retry never uploads an
image twice; ids expire (``expires_after_secs``, a day for images), so older checkpoints are
dropped and the images uploaded again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from staffetta.channels import x_api as api
from staffetta.channels.x_connect import XSession
from staffetta.core.channel import DeliveryContext
from staffetta.core.errors import InputError, PermanentError, TransientError
from staffetta.core.media import prepare_image

CHUNK = 1024 * 1024
MEDIA_REUSE_WINDOW = 20 * 3600.0
MAX_POLLS = 12
_FORMATS = ("JPEG", "PNG", "WEBP")  # GIFs are their own category; still images only here


async def upload_images(ctx: DeliveryContext, session: XSession) -> list[str]:
    """The media ids of the post's images, in order, each uploaded exactly once."""
    images = ctx.post.images
    if not images:
        return []
    if len(images) > api.MAX_MEDIA:
        raise PermanentError(
            f"This post has {len(images)} images; X takes {api.MAX_MEDIA}. Remove some and queue "
            "it again."
        )
    saved = ctx.checkpoint
    media_ids = [str(i) for i in saved.get("media_ids", [])][: len(images)]
    uploaded_at = float(saved.get("media_uploaded_at") or 0.0)
    if media_ids and ctx.clock.now() - uploaded_at > MEDIA_REUSE_WINDOW:
        media_ids = []
    for number, image in enumerate(images, start=1):
        if number <= len(media_ids):
            continue
        try:
            prepared = prepare_image(
                Path(image.path),
                max_bytes=api.IMAGE_BYTES,
                max_pixels=8192 * 8192,
                allowed=_FORMATS,
            )
        except InputError as exc:
            raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
        media_id = await _upload(ctx, session, prepared.data, prepared.mime)
        if image.alt.strip():
            alt = {"alt_text": {"text": image.alt[: api.ALT_CHARS]}}
            await session.call("POST", "/2/media/metadata", json={"id": media_id, "metadata": alt})
        if not media_ids:
            uploaded_at = ctx.clock.now()
        media_ids.append(media_id)
        await ctx.save_checkpoint(
            {**ctx.checkpoint, "media_ids": list(media_ids), "media_uploaded_at": uploaded_at}
        )
    return media_ids


async def _upload(ctx: DeliveryContext, session: XSession, data: bytes, mime: str) -> str:
    response = await session.call(
        "POST",
        "/2/media/upload/initialize",
        json={"media_type": mime, "total_bytes": len(data), "media_category": "tweet_image"},
    )
    media_id = str(api.data_of(response, "the image upload").get("id") or "")
    if not media_id:
        raise TransientError("X's answer to the image upload had no media id.")
    for index, start in enumerate(range(0, len(data), CHUNK)):
        await session.call(
            "POST",
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": str(index)},
            files={"media": ("chunk", data[start : start + CHUNK], "application/octet-stream")},
            ok=(200, 201, 202, 204),
        )
    response = await session.call("POST", f"/2/media/upload/{media_id}/finalize")
    info = api.data_of(response, "the finished upload").get("processing_info")
    for _ in range(MAX_POLLS):
        if not isinstance(info, dict) or info.get("state") == "succeeded":
            return media_id
        if info.get("state") == "failed":
            raise PermanentError(f"X could not process an image: {_processing_error(info)}")
        await ctx.clock.sleep(_wait(info))
        response = await session.call(
            "GET", "/2/media/upload", params={"command": "STATUS", "media_id": media_id}
        )
        info = api.data_of(response, "the image's processing").get("processing_info")
    raise TransientError("X is still processing an image; the post will be retried.")


def _wait(info: dict[str, Any]) -> float:
    value = info.get("check_after_secs")
    return float(value) if isinstance(value, int | float) and 0 < value <= 60 else 2.0


def _processing_error(info: dict[str, Any]) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("name") or "no reason given")
    return "no reason given"
