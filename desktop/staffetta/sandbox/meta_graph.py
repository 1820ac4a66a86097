"""What the sandbox Meta publishes: Page photos and posts, Instagram and Threads containers and
media, the publishing limits — with Meta's checks and error codes.

- Facebook Pages: ``POST /{page}/photos`` (multipart ``source`` or ``url``, ``published``,
  ``alt_text_custom``), ``POST /{page}/feed`` (``message``, ``link``, ``attached_media[i]``),
  refusing the same message again within a few minutes with error 506, ``GET /{page}/feed``.
- Instagram: ``POST /{ig-user}/media`` downloads ``image_url`` at once (a JPEG of 4:5 to 1.91:1,
  else errors 9004 / 36003), carousels of 2-10 children, ``status_code`` IN_PROGRESS for
  ``processing_polls`` reads then FINISHED, ``media_publish`` (9007 while not ready; error 9 /
  2207042 past the 24-hour quota), ``content_publishing_limit``, ``GET /{ig-user}/media``.
- Threads: ``POST /{user}/threads`` (TEXT, IMAGE, CAROUSEL; ``reply_to_id``;
  ``link_attachment``; 500 characters counted with emoji as their UTF-8 bytes; at most 5 links,
  else ``THREADS_API__LINK_LIMIT_EXCEEDED``), a download failure shows as status ERROR,
  ``threads_publish``, ``threads_publishing_limit``, ``GET /{user}/threads`` and ``/replies``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex
from PIL import Image as PILImage

from staffetta.sandbox.meta_auth import graph_error, param_error, text
from staffetta.sandbox.platform import Request, Response, UploadedFile

DUPLICATE_WINDOW = 300.0
QUOTA_WINDOW = 86400.0
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_LINK = re.compile(r"https?://[^\s]+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|dev)\b[^\s]*")


def meta_time(when: float) -> str:
    """Graph API time: ``2026-01-02T03:04:05+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(when))


def threads_count(value: str) -> int:
    """Threads' length: graphemes, an emoji by its UTF-8 bytes (written independently)."""
    total = 0
    for cluster in _GRAPHEME.findall(value):
        emoji = [
            c for c in _EMOJI.findall(cluster) if c not in "\u00a9\u00ae" or "\ufe0f" in cluster
        ]
        total += len(cluster.encode("utf-8", "surrogatepass")) if emoji else 1
    return total


@dataclass(slots=True)
class Container:
    id: str
    product: str
    user: str
    media_type: str
    text: str
    created_at: float
    image_url: str = ""
    alt_text: str = ""
    children: list[str] = field(default_factory=list)
    carousel_item: bool = False
    reply_to: str = ""
    link: str = ""
    polls_left: int = 0
    status: str = "IN_PROGRESS"
    error: str = ""
    media_id: str = ""
    image: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Content:
    """Everything published on one sandbox Meta."""

    files_dir: Path | None = None
    processing_polls: int = 1
    ig_quota: int = 50
    threads_quota: int = 250
    container_lifetime: float = 86400.0
    publish_then_error: int = 0  # the next N publishes go out, then answer a transient error
    photos: dict[str, dict[str, Any]] = field(default_factory=dict)
    fb_posts: list[dict[str, Any]] = field(default_factory=list)
    containers: dict[str, Container] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    fetched: list[dict[str, Any]] = field(default_factory=list)
    serial: int = 0

    def reset(self) -> None:
        self.photos.clear()
        self.fb_posts.clear()
        self.containers.clear()
        self.media.clear()
        self.fetched.clear()
        self.publish_then_error = 0

    def next_id(self, prefix: int) -> str:
        self.serial += 1
        return str(prefix + self.serial)

    # --- fetching images like Meta's crawler ----------------------------------------------------

    def fetch(self, url: str, request: Request) -> bytes | str:
        """The bytes at ``url``, or why they could not be downloaded."""
        own = f"{request.base_url}/files/"
        if url.startswith(own):
            # Served by this very sandbox: read the folder (the lock is held by this request).
            name = url[len(own) :]
            if self.files_dir is None or "/" in name or name.startswith("."):
                return "HTTP 404"
            path = self.files_dir / name
            return path.read_bytes() if path.is_file() else "HTTP 404"
        if not url.startswith(("http://", "https://")):
            return "not a web address"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - http(s) only
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            return type(exc).__name__

    def download(self, url: str, alt: str, product: str, request: Request) -> dict[str, Any] | str:
        data = self.fetch(url, request)
        if isinstance(data, str):
            return data
        try:
            with PILImage.open(io.BytesIO(data)) as picture:
                width, height = picture.size
                fmt = picture.format or ""
        except Exception:  # whatever Pillow says, it is not an image
            return "not an image"
        record = {
            "product": product,
            "url": url,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "format": fmt,
            "width": width,
            "height": height,
            "alt_text": alt,
        }
        self.fetched.append(record)
        return record

    # --- Facebook Pages ---------------------------------------------------------------------------

    def page_photo(self, request: Request, page_id: str) -> Response:
        params = request.params()
        source = params.get("source")
        if isinstance(source, UploadedFile):
            data = source.data
        elif text(params, "url"):
            fetched = self.fetch(text(params, "url"), request)
            if isinstance(fetched, str):
                return param_error(f"Missing or invalid image file ({fetched})", 1366046)
            data = fetched
        else:
            return param_error("(#324) Requires upload file", 1366046)
        try:
            with PILImage.open(io.BytesIO(data)) as picture:
                width, height = picture.size
                fmt = picture.format or ""
        except Exception:
            return param_error("(#324) Missing or invalid image file")
        photo_id = self.next_id(30_000_000_000_000)
        published = text(params, "published").lower() not in ("false", "0")
        self.photos[photo_id] = {
            "id": photo_id,
            "page_id": page_id,
            "published": published,
            "attached_to": "",
            "alt_text": text(params, "alt_text_custom"),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "format": fmt,
            "width": width,
            "height": height,
            "created_at": request.now,
        }
        return Response.json(200, {"id": photo_id})

    def page_feed_post(self, request: Request, page_id: str, page_name: str) -> Response:
        params = request.params()
        message = text(params, "message")
        link = text(params, "link")
        attached: list[str] = []
        for key in sorted(k for k in params if k.startswith("attached_media[")):
            try:
                media = json.loads(text(params, key))
                attached.append(str(media["media_fbid"]))
            except (ValueError, KeyError, TypeError):
                return param_error(f"(#100) Invalid attached_media: {key}")
        for photo_id in attached:
            photo = self.photos.get(photo_id)
            if photo is None or photo["page_id"] != page_id or photo["attached_to"]:
                return param_error(f"(#100) Photo {photo_id} cannot be attached to this post")
        if not message and not link and not attached:
            return param_error("(#100) The post is empty: give a message, a link or media.")
        for earlier in self.fb_posts:
            same = earlier["message"] == message and earlier["from"]["id"] == page_id
            if same and message and request.now - earlier["created_at"] < DUPLICATE_WINDOW:
                return graph_error(
                    400, "Duplicate status message", 506, kind="FacebookApiException"
                )
        number = self.next_id(40_000_000_000_000)
        post_id = f"{page_id}_{number}"
        for photo_id in attached:
            self.photos[photo_id]["attached_to"] = post_id
        self.fb_posts.append(
            {
                "product": "facebook",
                "id": post_id,
                "message": message,
                "link": link,
                "attached_media": attached,
                "alt_texts": [self.photos[p]["alt_text"] for p in attached],
                "created_at": request.now,
                "created_time": meta_time(request.now),
                "permalink_url": f"https://www.facebook.com/{page_id}/posts/{number}",
                "from": {"id": page_id, "name": page_name},
            }
        )
        return Response.json(200, {"id": post_id})

    def page_feed(self, request: Request, page_id: str) -> Response:
        limit = _limit(request)
        posts = [p for p in reversed(self.fb_posts) if p["from"]["id"] == page_id][:limit]
        fields = ("id", "message", "created_time", "permalink_url", "from")
        return Response.json(200, {"data": [{k: p[k] for k in fields} for p in posts]})

    def fb_object(self, object_id: str) -> dict[str, Any] | None:
        post = next((p for p in self.fb_posts if p["id"] == object_id), None)
        if post is not None:
            return {"id": post["id"], "permalink_url": post["permalink_url"]}
        photo = self.photos.get(object_id)
        return {"id": photo["id"]} if photo is not None else None

    # --- Instagram and Threads containers -------------------------------------------------------

    def create_container(self, request: Request, product: str, user: str) -> Response:
        params = request.params()
        media_type = text(params, "media_type").upper()
        carousel_item = text(params, "is_carousel_item").lower() == "true"
        caption = text(params, "caption" if product == "instagram" else "text")
        children = [c for c in text(params, "children").split(",") if c]
        if not media_type:
            media_type = "CAROUSEL" if children else ("IMAGE" if text(params, "image_url") else "")
        if product == "threads" and not media_type:
            return param_error("The parameter media_type is required.")
        refusal = self._check_text(product, caption, media_type)
        if refusal is not None:
            return refusal
        container = Container(
            id=self.next_id(18_000_000_000_000_000),
            product=product,
            user=user,
            media_type=media_type or "IMAGE",
            text=caption,
            created_at=request.now,
            image_url=text(params, "image_url"),
            alt_text=text(params, "alt_text"),
            children=children,
            carousel_item=carousel_item,
            reply_to=text(params, "reply_to_id"),
            link=text(params, "link_attachment"),
            polls_left=0 if carousel_item else self.processing_polls,
        )
        if len(container.alt_text) > 1000:
            return param_error("The parameter alt_text must be at most 1000 characters long.")
        if container.reply_to and not any(m["id"] == container.reply_to for m in self.media):
            return param_error("Invalid reply_to_id: the post to reply to does not exist.")
        if container.media_type == "CAROUSEL":
            refusal = self._check_children(container)
        elif container.media_type == "IMAGE":
            refusal = self._take_image(container, request)
        elif container.media_type != "TEXT" or product != "threads":
            refusal = param_error(f"The media type {container.media_type} is not supported here.")
        if refusal is not None:
            return refusal
        if container.status != "ERROR" and not container.polls_left:
            container.status = "FINISHED"
        self.containers[container.id] = container
        return Response.json(200, {"id": container.id})

    def _check_text(self, product: str, caption: str, media_type: str) -> Response | None:
        if product == "instagram":
            if len(caption) > 2200:
                return param_error(
                    "The caption is too long.", 2207010, "Captions are 2,200 at most."
                )
            if len(re.findall(r"(?<![\w&])#\w", caption)) > 30:
                return param_error("Too many hashtags.", 2207010, "Use at most 30 hashtags.")
            return None
        if threads_count(caption) > 500:
            return param_error("The parameter text must be at most 500 characters long.")
        if len({link.rstrip("/").lower() for link in _LINK.findall(caption)}) > 5:
            return graph_error(
                400, "THREADS_API__LINK_LIMIT_EXCEEDED: a post may contain at most 5 links.", 100
            )
        if media_type == "TEXT" and not caption.strip():
            return param_error("The parameter text is required for text posts.")
        return None

    def _check_children(self, container: Container) -> Response | None:
        limit = 10 if container.product == "instagram" else 20
        if not 2 <= len(container.children) <= limit:
            return param_error(f"A carousel has 2 to {limit} items, not {len(container.children)}.")
        for child_id in container.children:
            child = self.containers.get(child_id)
            if child is None or child.user != container.user or not child.carousel_item:
                return param_error(f"The carousel item {child_id} is not valid.")
            if child.status != "FINISHED":
                return param_error(f"The carousel item {child_id} is not ready.", 2207027)
        return None

    def _take_image(self, container: Container, request: Request) -> Response | None:
        if not container.image_url:
            return param_error("The parameter image_url is required.")
        found = self.download(container.image_url, container.alt_text, container.product, request)
        if container.product == "threads":
            if isinstance(found, str) or found["format"] not in ("JPEG", "PNG"):
                container.status = "ERROR"
                why = found if isinstance(found, str) else f"unsupported format {found['format']}"
                container.error = f"FAILED_DOWNLOADING_IMAGE: {why}"
            else:
                container.image = found
            return None
        if isinstance(found, str):
            return graph_error(
                400,
                f"The media could not be fetched from this URI: {container.image_url} ({found})",
                9004,
                subcode=2207052,
                user_message="Media download has failed. The media URI doesn't meet our "
                "requirements.",
            )
        if found["format"] != "JPEG":
            return graph_error(
                400, "Only JPEG images are supported.", 9004, subcode=2207026,
                user_message=f"Unsupported format: {found['format']}. Use JPEG.",
            )  # fmt: skip
        ratio = found["width"] / found["height"]
        if not 0.8 - 1e-6 <= ratio <= 1.91 + 1e-6:
            return graph_error(
                400,
                f"The submitted image with aspect ratio ('{found['width']}/{found['height']}') "
                "cannot be published. Please submit an image with a valid aspect ratio.",
                36003,
                subcode=2207009,
            )
        container.image = found
        return None

    def status(self, container: Container, now: float) -> dict[str, Any]:
        if container.status == "IN_PROGRESS":
            if container.polls_left > 0:
                container.polls_left -= 1
            else:
                container.status = "FINISHED"
        if container.status in ("IN_PROGRESS", "FINISHED") and now - container.created_at > (
            self.container_lifetime
        ):
            container.status = "EXPIRED"
        if container.product == "instagram":
            words = {"ERROR": "Error: " + (container.error or "unknown")}.get(
                container.status, f"{container.status.capitalize()}: ok"
            )
            return {"id": container.id, "status_code": container.status, "status": words}
        body: dict[str, Any] = {"id": container.id, "status": container.status}
        if container.error:
            body["error_message"] = container.error
        return body

    def publish(
        self, request: Request, product: str, user: str, handle: str, on_publish: Callable[[], bool]
    ) -> Response:
        creation_id = text(request.params(), "creation_id")
        container = self.containers.get(creation_id)
        if container is None or container.user != user or container.product != product:
            return param_error(
                f"Unsupported post request. Object with ID '{creation_id}' does not exist"
            )
        if container.carousel_item:
            return param_error("A carousel item cannot be published on its own.")
        if container.status == "PUBLISHED":
            return param_error("The media has already been published.", 2207008)
        if container.status == "IN_PROGRESS" or container.polls_left > 0:
            return graph_error(
                400, "Media ID is not available", 9007, subcode=2207027,
                user_message="The media is not ready for publishing, please wait for a moment",
            )  # fmt: skip
        if container.status in ("ERROR", "EXPIRED"):
            return param_error(f"The media cannot be published: {container.status}.")
        reply = bool(container.reply_to)
        if self.quota_used(product, user, request.now, reply=reply) >= self.quota(product, reply):
            return graph_error(
                400, "Application request limit reached", 9, subcode=2207042,
                user_message="You reached maximum number of posts that is allowed to be "
                "published by Content Publishing API.",
            )  # fmt: skip
        media_id = self.next_id(17_900_000_000_000_000)
        container.status, container.media_id = "PUBLISHED", media_id
        children = [self.containers[c] for c in container.children]
        images = [c.image for c in children] if children else [container.image]
        shortcode = secrets.token_urlsafe(8).replace("-", "x").replace("_", "y")
        self.media.append(
            {
                "product": product,
                "id": media_id,
                "user": user,
                "container": container.id,
                "media_type": container.media_type,
                "text": container.text,
                "timestamp": meta_time(request.now),
                "published_at": request.now,
                "permalink": f"https://www.instagram.com/p/{shortcode}/"
                if product == "instagram"
                else f"https://www.threads.com/@{handle}/post/{shortcode}",
                "reply_to_id": container.reply_to,
                "link_attachment": container.link,
                "images": [i for i in images if i],
                "alt_texts": [c.alt_text for c in children] if children else [container.alt_text],
            }
        )
        if on_publish():
            return graph_error(
                500, "An unexpected error has occurred. Please retry your request later.", 2,
                kind="OAuthException", transient=True,
            )  # fmt: skip
        return Response.json(200, {"id": media_id})

    def quota(self, product: str, reply: bool = False) -> int:
        if product == "instagram":
            return self.ig_quota
        return 1000 if reply else self.threads_quota

    def quota_used(self, product: str, user: str, now: float, *, reply: bool = False) -> int:
        return sum(
            1
            for m in self.media
            if m["product"] == product
            and m["user"] == user
            and bool(m["reply_to_id"]) == reply
            and now - m["published_at"] < QUOTA_WINDOW
        )

    def limit_answer(self, product: str, user: str, now: float) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "quota_usage": self.quota_used(product, user, now),
            "config": {"quota_total": self.quota(product), "quota_duration": int(QUOTA_WINDOW)},
        }
        if product == "threads":
            entry["reply_quota_usage"] = self.quota_used(product, user, now, reply=True)
            entry["reply_config"] = {
                "quota_total": self.quota(product, True),
                "quota_duration": int(QUOTA_WINDOW),
            }
        return {"data": [entry]}

    def listing(self, request: Request, product: str, user: str, replies: bool) -> Response:
        text_field = "caption" if product == "instagram" else "text"
        items = [
            {
                "id": m["id"],
                text_field: m["text"],
                "timestamp": m["timestamp"],
                "permalink": m["permalink"],
                "media_type": m["media_type"],
            }
            for m in reversed(self.media)
            if m["product"] == product and m["user"] == user and bool(m["reply_to_id"]) == replies
        ][: _limit(request)]
        return Response.json(200, {"data": items, "paging": {}})

    def media_object(self, object_id: str, product: str) -> dict[str, Any] | None:
        found = next(
            (m for m in self.media if m["id"] == object_id and m["product"] == product), None
        )
        if found is None:
            return None
        text_field = "caption" if product == "instagram" else "text"
        return {"id": found["id"], "permalink": found["permalink"], text_field: found["text"]}


def _limit(request: Request) -> int:
    try:
        return max(1, min(100, int(text(request.query, "limit") or 25)))
    except ValueError:
        return 25
