"""A Ghost site for the sandbox: the Admin API routes a publishing client uses, as Ghost 6 answers
them (checked against a real Ghost 6.65 started by the test suite), plus its newsletters — which
the real Ghost can only send through Mailgun, so the sandbox is where the email path is tested.

Routes (under ``/ghost/api/admin``): ``GET /site/`` (public), ``GET /posts/`` (``limit``,
``fields``, ``filter=slug:<slug>``), ``POST /posts/`` (``?source=html``), ``GET /posts/<id>/``,
``GET /posts/slug/<slug>/``, ``PUT /posts/<id>/`` (``?newsletter=<slug>&email_segment=<filter>``,
``updated_at`` must match), ``POST /images/upload/`` (multipart ``file``), ``GET /newsletters/``;
and the uploaded files under ``/content/images/…`` and published posts at ``/<slug>/``.

Authentication as Ghost does it: ``Authorization: Ghost <JWT>``, HS256 with the hex-decoded
secret of an Admin API key named by the ``kid`` header, audience ``/admin/``, not expired and not
older than 5 minutes; the same 400/401 errors and messages as Ghost's ``api-key/admin.js``.
Checked like Ghost's schema: title ≤ 255 characters, ``feature_image_alt`` ≤ 191, tag names ≤ 191
(422 ``ValidationError``); ``status`` one of published, draft, scheduled, sent; a slug already
taken gets ``-2``, ``-3``… as in Ghost.

Emails: publishing a draft with ``?newsletter=`` (only through PUT, only on the change to
published) records one email — ``{id, status: "submitted", recipient_filter, newsletter_id,
email_count}`` on the post, and in :meth:`GhostPlatform.emails` with the newsletter's slug and the
segment — exactly what a client must never cause twice. An archived or unknown newsletter is
refused as Ghost refuses it.

``issue_token`` creates a custom integration and returns its Admin API key ``<id>:<secret>``;
``revoke_tokens`` deletes every integration. Options: ``newsletters`` = list of ``{slug, name,
status}`` (default: one active "default-newsletter"), ``members`` = how many members an email
counts (default 3).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import io
import json
import re
import secrets
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from PIL import Image, UnidentifiedImageError

from staffetta.sandbox.platform import Platform, Request, Response, UploadedFile

ADMIN = "/ghost/api/admin"
VERSION = "6.65"
MAX_TOKEN_AGE = 300
_OPTIONS = frozenset({"newsletters", "members"})
_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_STATUSES = ("published", "draft", "scheduled", "sent")
_SEGMENT = re.compile(r"all|status:-?(free|paid|comped)|label:[\w-]+|tier:[\w-]+")


def _error(
    status: int, kind: str, message: str, *, context: str | None = None, code: str | None = None
) -> Response:
    """Ghost's error body: ``{"errors": [{message, context, type, details, property, help,
    code, id, ghostErrorCode}]}``."""
    return Response.json(
        status,
        {
            "errors": [
                {
                    "message": message,
                    "context": context,
                    "type": kind,
                    "details": None,
                    "property": None,
                    "help": None,
                    "code": code,
                    "id": secrets.token_hex(16),
                    "ghostErrorCode": None,
                }
            ]
        },
    )


def _unauthorized(message: str, code: str) -> Response:
    return _error(401, "UnauthorizedError", message, code=code)


def _validation(context: str) -> Response:
    return _error(422, "ValidationError", "Validation error, cannot save post.", context=context)


def _too_long(field: str, limit: int) -> Response:
    """Ghost's words, the field's name repeated at the end as Ghost does."""
    return _validation(f"Value in [{field}] exceeds maximum length of {limit} characters. {field}")


def _not_found() -> Response:
    return _error(
        404,
        "NotFoundError",
        "Resource not found error, cannot read post.",
        context="Post not found.",
    )


def _cannot_edit(reason: str) -> Response:
    """A BadRequestError as Ghost's API layer words it: the reason goes into ``context``."""
    return _error(
        400, "BadRequestError", "Request not understood error, cannot edit post.", context=reason
    )


def _object_id() -> str:
    """A 24-hex-digit id like Ghost's (a BSON ObjectId)."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"


def _iso(when: float) -> str:
    millis = int(when * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{millis:03d}Z"


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:185] or "untitled"


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class GhostPlatform(Platform):
    """One Ghost site with custom integrations, posts, images and newsletters."""

    type_name = "ghost"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self.keys: dict[str, bytes] = {}  # Admin API key id -> secret bytes
        self.entries: list[dict[str, Any]] = []
        self.images: dict[str, dict[str, Any]] = {}  # path -> {data, content_type, …}
        self.sent_emails: list[dict[str, Any]] = []
        self.tags: dict[str, dict[str, Any]] = {}  # slug -> tag
        self.reset()

    # --- Platform interface ---------------------------------------------------------------
    def reset(self) -> None:
        self.keys.clear()
        self.entries.clear()
        self.images.clear()
        self.sent_emails.clear()
        self.tags.clear()
        self.newsletters = [
            {"slug": "default-newsletter", "name": "Staffetta sandbox", "status": "active"}
        ]
        self._ids: dict[str, str] = {}
        self.members = 3

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"ghost has no options {sorted(unknown)}")
        if "newsletters" in options:
            items = []
            for item in options["newsletters"]:
                slug = str(item["slug"])
                items.append(
                    {
                        "slug": slug,
                        "name": str(item.get("name") or slug),
                        "status": str(item.get("status") or "active"),
                    }
                )
            self.newsletters = items
        if "members" in options:
            self.members = max(0, int(options["members"]))

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(self._entity(e, e["base"]))) for e in self.entries]

    def uploads(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k != "data"} for item in self.images.values()]

    def emails(self) -> list[dict[str, Any]]:
        """Every email sent, oldest first: post id, newsletter slug, segment, members counted."""
        return [dict(email) for email in self.sent_emails]

    def issue_token(self, username: str = "demo") -> str:
        key_id = _object_id()
        secret = secrets.token_bytes(32)
        self.keys[key_id] = secret
        return f"{key_id}:{secret.hex()}"

    def revoke_tokens(self) -> None:
        self.keys.clear()

    # --- routing --------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "GET" and path in self.images:
            item = self.images[path]
            return Response(200, item["data"], item["content_type"])
        if not path.startswith(ADMIN + "/"):
            return self._page(request)
        route = path[len(ADMIN) :].rstrip("/") or "/"
        if (request.method, route) == ("GET", "/site"):
            return self._site(request)
        refused = self._authenticate(request)
        if refused is not None:
            return refused
        if (request.method, route) == ("GET", "/posts"):
            return self._browse(request)
        if (request.method, route) == ("POST", "/posts"):
            return self._create(request)
        if (request.method, route) == ("POST", "/images/upload"):
            return self._upload(request)
        if (request.method, route) == ("GET", "/newsletters"):
            return Response.json(
                200, {"newsletters": [self._newsletter(n) for n in self.newsletters]}
            )
        match = re.fullmatch(r"/posts/slug/([^/]+)", route)
        if match and request.method == "GET":
            entry = next((e for e in self.entries if e["slug"] == match.group(1)), None)
            return self._read(request, entry)
        match = re.fullmatch(r"/posts/([0-9a-f]{24})", route)
        if match:
            entry = next((e for e in self.entries if e["id"] == match.group(1)), None)
            if request.method == "GET":
                return self._read(request, entry)
            if request.method == "PUT":
                return self._edit(request, entry)
        return _error(404, "NotFoundError", "Resource not found")

    def _site(self, request: Request) -> Response:
        return Response.json(
            200,
            {
                "site": {
                    "title": "Staffetta sandbox blog",
                    "description": "A Ghost site in Staffetta's sandbox",
                    "logo": None,
                    "icon": None,
                    "accent_color": "#FF1A75",
                    "locale": "en",
                    "url": f"{request.base_url}/",
                    "version": VERSION,
                    "allow_external_signup": True,
                }
            },
        )

    def _page(self, request: Request) -> Response:
        slug = request.path.strip("/")
        entry = next((e for e in self.entries if e["slug"] == slug), None)
        if request.method != "GET" or entry is None or entry["status"] != "published":
            return Response.text(404, "Page not found")
        image = ""
        if entry["feature_image"]:
            image = (
                f'<img src="{html.escape(entry["feature_image"])}" '
                f'alt="{html.escape(entry["feature_image_alt"] or "")}">'
            )
        page = (
            f"<!doctype html><article><h1>{html.escape(entry['title'])}</h1>{image}"
            f"<section>{entry['html']}</section></article>"
        )
        return Response.text(200, page, "text/html; charset=utf-8")

    # --- authentication (as core/server/services/auth/api-key/admin.js) -------------------
    def _authenticate(self, request: Request) -> Response | None:
        header = request.header("authorization")
        if not header:
            return _error(
                403,
                "NoPermissionError",
                "Authorization failed",
                context="Unable to determine the authenticated user or integration. Check that "
                "cookies are being passed through if using session authentication.",
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "ghost" or not token:
            return _unauthorized(
                'Authorization header format is "Authorization: Ghost [token]"',
                "INVALID_AUTH_HEADER",
            )
        try:
            head_part, body_part, signature_part = token.split(".")
            head = json.loads(_b64decode(head_part))
            claims = json.loads(_b64decode(body_part))
            signature = _b64decode(signature_part)
        except (ValueError, binascii.Error):
            return _error(400, "BadRequestError", "Invalid token", code="INVALID_JWT")
        if not isinstance(head, dict) or not isinstance(claims, dict):
            return _error(400, "BadRequestError", "Invalid token", code="INVALID_JWT")
        kid = head.get("kid")
        if not kid:
            return _error(
                400, "BadRequestError", "Admin API kid missing.", code="MISSING_ADMIN_API_KID"
            )
        secret = self.keys.get(str(kid))
        if secret is None:
            return _unauthorized("Unknown Admin API Key", "UNKNOWN_ADMIN_API_KEY")
        if head.get("alg") != "HS256":
            return _unauthorized("Invalid token: invalid algorithm", "INVALID_JWT")
        expected = hmac.new(
            secret, f"{head_part}.{body_part}".encode("ascii"), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(expected, signature):
            return _unauthorized("Invalid token: invalid signature", "INVALID_JWT")
        now = int(request.now)
        exp, iat = claims.get("exp"), claims.get("iat")
        if isinstance(exp, int | float) and now >= exp:
            return _unauthorized("Invalid token: jwt expired", "INVALID_JWT")
        if not isinstance(iat, int | float):
            return _unauthorized(
                "Invalid token: iat required when maxAge is specified", "INVALID_JWT"
            )
        if now >= iat + MAX_TOKEN_AGE:
            return _unauthorized("Invalid token: maxAge exceeded", "INVALID_JWT")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(isinstance(a, str) and re.fullmatch(r"/?admin/?", a) for a in audiences):
            return _unauthorized(
                "Invalid token: jwt audience invalid. expected: /?admin/?$", "INVALID_JWT"
            )
        return None

    # --- posts ----------------------------------------------------------------------------
    def _browse(self, request: Request) -> Response:
        entries = list(reversed(self.entries))
        wanted = str(request.query.get("filter") or "")
        if wanted.startswith("slug:"):
            entries = [e for e in entries if e["slug"] == wanted[5:].strip("'")]
        limit = str(request.query.get("limit") or "15")
        shown = entries if limit == "all" else entries[: max(1, int(limit))]
        fields = [f for f in str(request.query.get("fields") or "").split(",") if f]
        items = []
        for entry in shown:
            entity = self._entity(entry, request.base_url)
            items.append({k: entity[k] for k in fields if k in entity} if fields else entity)
        pagination = {
            "page": 1,
            "limit": limit if limit == "all" else int(limit),
            "pages": 1,
            "total": len(entries),
            "next": None,
            "prev": None,
        }
        return Response.json(200, {"posts": items, "meta": {"pagination": pagination}})

    def _read(self, request: Request, entry: dict[str, Any] | None) -> Response:
        if entry is None:
            return _not_found()
        return Response.json(200, {"posts": [self._entity(entry, request.base_url)]})

    def _post_input(self, request: Request) -> dict[str, Any] | Response:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return _error(400, "BadRequestError", "Request body is not valid JSON.")
        posts = payload.get("posts") if isinstance(payload, dict) else None
        if not isinstance(posts, list) or not posts or not isinstance(posts[0], dict):
            return _error(
                422,
                "ValidationError",
                'Validation (FieldIsRequired) failed for ["posts"]',
                context="No root key ('posts') provided.",
            )
        return dict(posts[0])

    def _checked(self, fields: dict[str, Any]) -> Response | None:
        if len(str(fields.get("title") or "")) > 255:
            return _too_long("posts.title", 255)
        if len(str(fields.get("feature_image_alt") or "")) > 191:
            # Ghost 6 checks it on the revision it keeps of every save.
            return _too_long("post_revisions.feature_image_alt", 191)
        if "status" in fields and fields["status"] not in _STATUSES:
            return _validation("Validation failed for status.")
        for tag in fields.get("tags") or []:
            name = tag.get("name") if isinstance(tag, dict) else tag
            if len(str(name or "")) > 191:
                return _too_long("tags.name", 191)
        return None

    def _create(self, request: Request) -> Response:
        fields = self._post_input(request)
        if isinstance(fields, Response):
            return fields
        refused = self._checked(fields)
        if refused is not None:
            return refused
        if str(request.query.get("source") or "") not in ("", "html"):
            return _error(422, "ValidationError", "Validation (isIn) failed for source")
        now = request.now
        title = str(fields.get("title") or "").strip() or "(Untitled)"
        slug = self._free_slug(_slugify(str(fields.get("slug") or title)))
        status = str(fields.get("status") or "draft")
        body = str(fields.get("html") or "") if request.query.get("source") == "html" else ""
        entry: dict[str, Any] = {
            "id": _object_id(),
            "uuid": secrets.token_hex(16),
            "title": title,
            "slug": slug,
            "html": body,
            "status": status,
            "feature_image": fields.get("feature_image") or None,
            "feature_image_alt": fields.get("feature_image_alt") or None,
            "tags": [self._tag(t) for t in fields.get("tags") or []],
            "created_at": now,
            "updated_at": now,
            "published_at": now if status == "published" else None,
            "newsletter": None,
            "email_segment": "all",
            "email": None,
            "base": request.base_url,  # the site's address, as the client called it
        }
        self.entries.append(entry)
        return Response.json(201, {"posts": [self._entity(entry, request.base_url)]})

    def _edit(self, request: Request, entry: dict[str, Any] | None) -> Response:
        if entry is None:
            return _not_found()
        fields = self._post_input(request)
        if isinstance(fields, Response):
            return fields
        refused = self._checked(fields)
        if refused is not None:
            return refused
        if fields.get("updated_at") != _iso(entry["updated_at"]):
            collision = "Saving failed! Someone else is editing this post."
            return _error(
                409, "UpdateCollisionError", collision, context=collision, code="UPDATE_COLLISION"
            )
        status = str(fields.get("status") or entry["status"])
        newsletter_slug = str(request.query.get("newsletter") or "")
        segment = str(request.query.get("email_segment") or "all")
        sends = status in ("published", "sent") and entry["status"] not in ("published", "sent")
        newsletter = None
        if newsletter_slug and sends:
            newsletter = next((n for n in self.newsletters if n["slug"] == newsletter_slug), None)
            if not _SEGMENT.fullmatch(segment):
                return _cannot_edit(
                    "The email segment parameter doesn't contain a valid filter Error parsing "
                    "filter"
                )
            if newsletter is None:
                return _error(
                    500,
                    "EmailError",
                    "Error sending email!",
                    context="The post does not have a newsletter relation",
                )
            if newsletter["status"] != "active":
                return _cannot_edit("Cannot send email to archived newsletters")
        for name in ("title", "feature_image", "feature_image_alt"):
            if name in fields:
                entry[name] = fields[name]
        if "tags" in fields:
            entry["tags"] = [self._tag(t) for t in fields["tags"] or []]
        entry["status"] = status
        entry["updated_at"] = max(request.now, entry["updated_at"] + 0.001)
        if sends:
            entry["published_at"] = request.now
        if newsletter is not None:
            entry["newsletter"] = newsletter
            entry["email_segment"] = segment
            entry["email"] = {
                "id": _object_id(),
                "post_id": entry["id"],
                "status": "submitted",  # once Ghost has handed it to its sender
                "recipient_filter": segment,
                "email_count": self.members,
                "subject": entry["title"],
                "submitted_at": _iso(request.now),
                "newsletter_id": self._id_of(newsletter["slug"]),
                "created_at": _iso(request.now),
            }
            self.sent_emails.append(
                {
                    "post_id": entry["id"],
                    "slug": entry["slug"],
                    "newsletter": newsletter["slug"],
                    "email_segment": segment,
                    "email_count": self.members,
                    "time": request.now,
                }
            )
        answer = self._entity(entry, request.base_url)
        if newsletter is not None:
            answer["email"]["status"] = "pending"  # Ghost answers before its sender picks it up
        return Response.json(200, {"posts": [answer]})

    def _free_slug(self, slug: str) -> str:
        taken = {e["slug"] for e in self.entries}
        candidate, number = slug, 1
        while candidate in taken:
            number += 1
            candidate = f"{slug}-{number}"
        return candidate

    def _tag(self, tag: Any) -> dict[str, Any]:
        name = str(tag.get("name") if isinstance(tag, dict) else tag).strip()
        for existing in self.tags.values():
            if existing["name"].casefold() == name.casefold():
                return existing
        slug = _slugify(name)
        self.tags[slug] = {"id": _object_id(), "name": name, "slug": slug, "visibility": "public"}
        return self.tags[slug]

    def _id_of(self, slug: str) -> str:
        return self._ids.setdefault(slug, _object_id())

    def _newsletter(self, newsletter: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self._id_of(newsletter["slug"]),
            "name": newsletter["name"],
            "slug": newsletter["slug"],
            "status": newsletter["status"],
            "visibility": "members",
            "subscribe_on_signup": True,
        }

    def _entity(self, entry: dict[str, Any], base: str) -> dict[str, Any]:
        published = entry["status"] == "published"
        url = f"{base}/{entry['slug']}/" if published else f"{base}/p/{entry['uuid']}/"
        tags = [dict(t, url=f"{base}/tag/{t['slug']}/") for t in entry["tags"]]
        newsletter = entry["newsletter"]
        return {
            "id": entry["id"],
            "uuid": entry["uuid"],
            "title": entry["title"],
            "slug": entry["slug"],
            "html": entry["html"],
            "status": entry["status"],
            "visibility": "public",
            "feature_image": entry["feature_image"],
            "feature_image_alt": entry["feature_image_alt"],
            "feature_image_caption": None,
            "created_at": _iso(entry["created_at"]),
            "updated_at": _iso(entry["updated_at"]),
            "published_at": _iso(entry["published_at"]) if entry["published_at"] else None,
            "tags": tags,
            "primary_tag": tags[0] if tags else None,
            "url": url,
            "email_segment": entry["email_segment"],
            "email_only": False,
            "newsletter": self._newsletter(newsletter) if newsletter else None,
            "email": dict(entry["email"]) if entry["email"] else None,
        }

    # --- images ---------------------------------------------------------------------------
    def _upload(self, request: Request) -> Response:
        params = request.params()
        upload = params.get("file")
        if not isinstance(upload, UploadedFile) or not upload.data:
            return _error(
                422,
                "ValidationError",
                'Validation (FieldIsRequired) failed for ["file"]',
                context="Please select an image.",
            )
        extension = _TYPES.get(upload.content_type)
        size = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                size = Image.open(io.BytesIO(upload.data)).size
        except (UnidentifiedImageError, OSError, ValueError):
            extension = None
        if extension is None:
            return _error(
                415,
                "UnsupportedMediaTypeError",
                "Please select a valid image.",
                context="The file type you uploaded is not supported.",
            )
        stem = re.sub(r"[^a-z0-9-]+", "-", upload.filename.rsplit(".", 1)[0].lower()).strip("-")
        when = time.gmtime(request.now)
        path = f"/content/images/{when.tm_year:04d}/{when.tm_mon:02d}/{stem or 'image'}.{extension}"
        number = 1
        while path in self.images:
            number += 1
            path = (
                f"/content/images/{when.tm_year:04d}/{when.tm_mon:02d}/"
                f"{stem or 'image'}-{number}.{extension}"
            )
        ref = params.get("ref")
        self.images[path] = {
            "path": path,
            "data": upload.data,
            "content_type": upload.content_type,
            "bytes": len(upload.data),
            "sha256": hashlib.sha256(upload.data).hexdigest(),
            "width": size[0] if size else None,
            "height": size[1] if size else None,
            "ref": ref if isinstance(ref, str) else None,
        }
        url = f"{request.base_url}{path}"
        return Response.json(
            201, {"images": [{"url": url, "ref": ref if isinstance(ref, str) else None}]}
        )
