"""Media attachments of the sandbox Mastodon: ``POST /api/v2/media``, ``GET|PUT /api/v1/media/:id``.

As methods/media.md describes: an upload answers 200 when processed or 202 with ``url: null``
while processing; ``GET /api/v1/media/:id`` answers 206 until processed, then 200. Here an upload
stays "processing" for ``processing_polls`` GETs. Bytes are not kept, only their size and hash.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from staffetta.sandbox.mastodon_auth import Account, api_error, invalid, not_found, text_param
from staffetta.sandbox.platform import Params, Response, UploadedFile

MAX_MEDIA = 4
DESCRIPTION_LIMIT = 1500
IMAGE_SIZE_LIMIT = 16_777_216
IMAGE_MATRIX_LIMIT = 33_177_600
VIDEO_SIZE_LIMIT = 103_809_024
MIME_TYPES = (
    "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp",
    "image/avif", "video/webm", "video/mp4", "video/quicktime", "video/ogg", "audio/wave",
    "audio/wav", "audio/x-wav", "audio/ogg", "audio/mpeg", "audio/mp3", "audio/webm",
    "audio/flac", "audio/aac", "audio/mp4",
)  # fmt: skip
_SNIFF = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
)
NOT_PROCESSED = "Cannot attach files that have not finished processing. Try again in a moment!"


@dataclass(slots=True)
class Media:
    id: str
    account_id: str
    type: str
    content_type: str
    filename: str
    size: int
    sha256: str
    description: str | None
    focus: tuple[float, float]
    polls_left: int
    status_id: str | None = None

    @property
    def processed(self) -> bool:
        return self.polls_left <= 0

    def entity(self, base: str) -> dict[str, Any]:
        url = f"{base}/system/media_attachments/files/{self.id}/original/{self.filename}"
        return {
            "id": self.id,
            "type": self.type,
            "url": url if self.processed else None,
            "preview_url": url.replace("/original/", "/small/"),
            "remote_url": None,
            "meta": {"focus": {"x": self.focus[0], "y": self.focus[1]}},
            "description": self.description,
            "blurhash": None,
        }

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "content_type": self.content_type,
            "filename": self.filename,
            "size": self.size,
            "sha256": self.sha256,
            "description": self.description,
            "focus": list(self.focus),
            "status_id": self.status_id,
        }


class MediaStore:
    def __init__(self) -> None:
        self.items: dict[str, Media] = {}

    def upload(
        self, params: Params, account: Account, media_id: str, polls: int, base: str
    ) -> Response:
        upload = params.get("file")
        if not isinstance(upload, UploadedFile):
            return invalid("File can't be blank")
        content_type = upload.content_type.lower()
        if content_type in {"", "application/octet-stream"}:
            content_type = next((t for magic, t in _SNIFF if upload.data.startswith(magic)), "")
        if content_type not in MIME_TYPES:
            return invalid("File content type is invalid, File file type is invalid")
        kind = content_type.split("/", 1)[0]
        limit = IMAGE_SIZE_LIMIT if kind == "image" else VIDEO_SIZE_LIMIT
        if len(upload.data) > limit:
            return invalid(f"File file size must be less than {limit // 1_048_576} MB")
        description = params.get("description")
        error = _check_description(description)
        if error:
            return error
        media = Media(
            id=media_id,
            account_id=account.id,
            type="gifv" if content_type == "image/gif" else kind,
            content_type=content_type,
            filename=re.sub(r"[^\w.-]", "_", upload.filename) or "file",
            size=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            description=str(description) if description else None,
            focus=_parse_focus(text_param(params, "focus")),
            polls_left=polls,
        )
        self.items[media.id] = media
        return Response.json(200 if media.processed else 202, media.entity(base))

    def _own(self, account: Account, media_id: str) -> Media | None:
        media = self.items.get(media_id)
        return media if media is not None and media.account_id == account.id else None

    def get(self, account: Account, media_id: str, base: str) -> Response:
        media = self._own(account, media_id)
        if media is None:
            return not_found()
        if not media.processed:
            pending = Response.json(206, media.entity(base))
            media.polls_left -= 1
            return pending
        return Response.json(200, media.entity(base))

    def update(self, params: Params, account: Account, media_id: str, base: str) -> Response:
        media = self._own(account, media_id)
        if media is None:
            return not_found()
        if "description" in params:
            error = _check_description(params["description"])
            if error:
                return error
            media.description = str(params["description"]) or None
        if "focus" in params:
            media.focus = _parse_focus(text_param(params, "focus"))
        return Response.json(200, media.entity(base))

    def attachable(self, media_ids: list[str], account: Account) -> list[Media] | Response:
        """The media a new status may attach, or the 422 Mastodon answers."""
        if len(media_ids) > MAX_MEDIA:
            return api_error(422, f"Cannot attach more than {MAX_MEDIA} files")
        found: list[Media] = []
        for media_id in media_ids:
            media = self._own(account, media_id)
            if media is None or media.status_id is not None:
                return api_error(422, f"Media attachment {media_id} not found")
            if not media.processed:
                return api_error(422, NOT_PROCESSED)
            found.append(media)
        return found


def _check_description(description: Any) -> Response | None:
    if description is not None and len(str(description)) > DESCRIPTION_LIMIT:
        return invalid(f"Description is too long (maximum is {DESCRIPTION_LIMIT} characters)")
    return None


def _parse_focus(value: str) -> tuple[float, float]:
    try:
        x, y = (max(-1.0, min(1.0, float(v))) for v in value.split(","))
    except ValueError:
        return (0.0, 0.0)
    return (x, y)
