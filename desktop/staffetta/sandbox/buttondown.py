"""A Buttondown newsletter for the sandbox: the API subset Staffetta uses, as Buttondown documents
it (docs.buttondown.com: authentication, emails, images, idempotency keys, error codes, ping).

Routes (all under ``/v1``): ``GET /ping``; ``GET /accounts/me``; ``POST|GET /images`` (multipart
field ``image``; PNG, JPEG, GIF or WebP, else 422 ``value_error.file_extension``; byte-identical
content answers with the existing image, still 201); ``POST|GET /emails`` and ``GET
/emails/{id}``. Uploaded images are served at ``/images/<id>.<ext>`` like a CDN would.

Authentication: ``Authorization: Token <key>``; no or an unknown key is 401 ``{"detail":
"Unauthorized"}``. Errors are ``{"code", "detail", "metadata"}``.

Creating an e-mail: ``subject`` is required (400 ``subject_invalid``); ``status`` defaults to
``about_to_send`` and must be one a new e-mail can have (400 ``status_invalid``); ``scheduled``
needs a future ``publish_date``; a body opening with YAML front matter is refused (400
``body_contains_frontmatter``) unless ``X-Buttondown-Live-Dangerously: true``. With the
``confirm_sending`` option (default on) the first ``about_to_send`` of a key also needs that header
(400 ``sending_requires_confirmation``) — reported by API users for the 2026-04-01 API version,
not in Buttondown's docs. An ``about_to_send`` e-mail is reported ``sent`` from then on.
Listing defaults to sent e-mails (``about_to_send``, ``in_flight``, ``sent``), newest first, in
pages of ``page_size`` with ``next``/``previous`` addresses.

``X-Idempotency-Key`` (at most 200 characters) on any write: the first answer (unless a 5xx) is
kept for ``idempotency_ttl`` seconds (default one day, as Stripe — which Buttondown says its keys
follow — keeps them) and replayed byte for byte to the same request with the same key and API
key; the same key with a different request is 409 ``idempotency_key_reused``. Buttondown
documents neither the lifetime nor the conflict's body; its OpenAPI description lists a bare 409
on every operation.

``issue_token(username)`` makes an API key; ``revoke_tokens`` forgets them all. Options:
``username``, ``page_size``, ``idempotency_ttl``, ``confirm_sending``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from staffetta.sandbox.platform import Platform, Request, Response, UploadedFile, iso_timestamp

CREATABLE_STATUSES = ("draft", "about_to_send", "scheduled", "imported", "transactional")
LISTED_BY_DEFAULT = ("about_to_send", "in_flight", "sent")
IDEMPOTENCY_TTL = 86400.0
MAX_KEY_LENGTH = 200
_OPTIONS = frozenset({"username", "page_size", "idempotency_ttl", "confirm_sending"})
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\r?\n---[ \t]*(\r?\n|\Z)", re.DOTALL)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
)


def _error(status: int, code: str, detail: str) -> Response:
    return Response.json(status, {"code": code, "detail": detail, "metadata": {}})


@dataclass(slots=True)
class _Kept:
    fingerprint: str
    response: Response
    at: float


class ButtondownPlatform(Platform):
    """One Buttondown newsletter. See the module doc for routes, behaviour and options."""

    type_name = "buttondown"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self.keys: dict[str, str] = {}
        self.emails: dict[str, dict[str, Any]] = {}
        self.images: dict[str, dict[str, Any]] = {}
        self.image_data: dict[str, bytes] = {}
        self.kept: dict[tuple[str, str], _Kept] = {}
        self.replays = 0  # answers given again for a repeated idempotency key
        self.reset()

    # --- Platform interface ---------------------------------------------------------------

    def reset(self) -> None:
        self.username = "sandbox"
        self.page_size = 20
        self.idempotency_ttl = IDEMPOTENCY_TTL
        self.confirm_sending = True
        self.confirmed: set[str] = set()
        self.keys.clear()
        self.emails.clear()
        self.images.clear()
        self.image_data.clear()
        self.kept.clear()
        self.replays = 0

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"buttondown has no options {sorted(unknown)}")
        if "username" in options:
            self.username = str(options["username"])
        if "page_size" in options:
            self.page_size = max(1, int(options["page_size"]))
        if "idempotency_ttl" in options:
            self.idempotency_ttl = max(0.0, float(options["idempotency_ttl"]))
        if "confirm_sending" in options:
            self.confirm_sending = bool(options["confirm_sending"])

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(email)) for email in self.emails.values()]

    def uploads(self) -> list[dict[str, Any]]:
        return [dict(image) for image in self.images.values()]

    def issue_token(self, username: str = "demo") -> str:
        key = secrets.token_hex(20)
        self.keys[key] = username
        return key

    def revoke_tokens(self) -> None:
        self.keys.clear()

    # --- routing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        served = re.fullmatch(r"/images/([0-9a-f-]+)\.\w+", path)
        if served and request.method == "GET" and served.group(1) in self.image_data:
            image = self.images[served.group(1)]
            return Response(200, self.image_data[served.group(1)], image["content_type"])
        if path == "/v1/ping" and request.method == "GET":
            return Response.json(200, {})
        key = self._api_key(request)
        if key is None:
            return Response.json(401, {"detail": "Unauthorized"})
        idempotency_key = request.header("x-idempotency-key")
        if not idempotency_key or request.method in ("GET", "HEAD"):
            return self._route(request, path, key)
        if len(idempotency_key) > MAX_KEY_LENGTH:
            return _error(
                400,
                "idempotency_key_invalid",
                f"X-Idempotency-Key must be at most {MAX_KEY_LENGTH} characters.",
            )
        return self._idempotent(request, path, key, idempotency_key)

    def _api_key(self, request: Request) -> str | None:
        scheme, _, value = request.header("authorization").partition(" ")
        key = value.strip()
        if scheme.lower() != "token" or not key:
            return None
        for known in self.keys:
            if secrets.compare_digest(known, key):
                return known
        return None

    def _idempotent(self, request: Request, path: str, key: str, idempotency_key: str) -> Response:
        for stored, old in list(self.kept.items()):
            if request.now - old.at > self.idempotency_ttl:
                del self.kept[stored]
        fingerprint = hashlib.sha256(
            request.method.encode() + b" " + path.encode() + b"\n" + request.body
        ).hexdigest()
        kept = self.kept.get((key, idempotency_key))
        if kept is not None:
            if kept.fingerprint != fingerprint:
                return _error(
                    409,
                    "idempotency_key_reused",
                    "This idempotency key was already used for a different request.",
                )
            self.replays += 1
            first = kept.response
            return Response(first.status, first.body, first.content_type, list(first.headers))
        response = self._route(request, path, key)
        if response.status < 500:
            self.kept[(key, idempotency_key)] = _Kept(
                fingerprint,
                Response(response.status, response.body, response.content_type, []),
                request.now,
            )
        return response

    def _route(self, request: Request, path: str, key: str) -> Response:
        method = request.method
        if path == "/v1/accounts/me" and method == "GET":
            username = self.keys[key]
            return Response.json(
                200, {"username": username, "email_address": f"{username}@example.com"}
            )
        if path == "/v1/images":
            if method == "POST":
                return self._create_image(request)
            if method == "GET":
                return self._page(request, list(self.images.values()))
        if path == "/v1/emails":
            if method == "POST":
                return self._create_email(request, key)
            if method == "GET":
                return self._list_emails(request)
        found = re.fullmatch(r"/v1/emails/([0-9a-f-]+)", path)
        if found and method == "GET":
            email = self.emails.get(found.group(1))
            if email is None:
                return _error(404, "email_not_found", "No email with this id exists.")
            return Response.json(200, email)
        return Response.json(404, {"detail": "Not Found"})

    # --- images ---------------------------------------------------------------------------

    def _create_image(self, request: Request) -> Response:
        upload = request.params().get("image")
        if not isinstance(upload, UploadedFile):
            return Response.json(
                422,
                {
                    "detail": [
                        {"type": "missing", "loc": ["file", "image"], "msg": "Field required"}
                    ]
                },
            )
        kind = _image_kind(upload.data)
        if kind is None:
            return Response.json(
                422,
                {
                    "detail": [
                        {
                            "type": "value_error.file_extension",
                            "loc": ["file", "image"],
                            "msg": "Unsupported image type. Please upload a PNG, JPG, GIF, or "
                            "WebP image.",
                        }
                    ]
                },
            )
        digest = hashlib.sha256(upload.data).hexdigest()
        for image in self.images.values():
            if image["sha256"] == digest:
                return Response.json(201, _public_image(image))
        extension, content_type = kind
        image_id = str(uuid.uuid4())
        metadata = request.params().get("metadata")
        image = {
            "id": image_id,
            "creation_date": iso_timestamp(request.now),
            "image": f"{request.base_url}/images/{image_id}.{extension}",
            "metadata": _json_object(metadata),
            "sha256": digest,
            "size": len(upload.data),
            "content_type": content_type,
            "filename": upload.filename,
        }
        self.images[image_id] = image
        self.image_data[image_id] = upload.data
        return Response.json(201, _public_image(image))

    # --- emails ---------------------------------------------------------------------------

    def _create_email(self, request: Request, key: str) -> Response:
        params = request.params()
        subject = params.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            return _error(400, "subject_invalid", "The email needs a subject.")
        body = params.get("body", "")
        if not isinstance(body, str):
            return _error(400, "body_invalid", "The body must be text.")
        status = params.get("status", "about_to_send")
        if status not in CREATABLE_STATUSES:
            return _error(
                400,
                "status_invalid",
                f"'{status}' is not a valid status for a new email; use one of "
                f"{', '.join(CREATABLE_STATUSES)}.",
            )
        dangerous = request.header("x-buttondown-live-dangerously").lower() == "true"
        if _FRONT_MATTER.match(body) and not dangerous:
            return _error(
                400,
                "body_contains_frontmatter",
                "The body starts with what looks like YAML front matter, which Buttondown does "
                "not use. Remove it, or send X-Buttondown-Live-Dangerously: true.",
            )
        publish_date = params.get("publish_date")
        if status == "scheduled":
            if not isinstance(publish_date, str) or not publish_date:
                return _error(400, "publish_date_missing", "A scheduled email needs a date.")
            if publish_date <= iso_timestamp(request.now):
                return _error(400, "publish_date_invalid", "The date must be in the future.")
        if status == "about_to_send" and self.confirm_sending and key not in self.confirmed:
            if not dangerous:
                return _error(
                    400,
                    "sending_requires_confirmation",
                    "Sending an email through the API for the first time needs the header "
                    "X-Buttondown-Live-Dangerously: true.",
                )
            self.confirmed.add(key)
        metadata = params.get("metadata", {})
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            return Response.json(
                422,
                {
                    "detail": [
                        {
                            "type": "dict_type",
                            "loc": ["body", "metadata"],
                            "msg": "Input should be a dictionary of strings",
                        }
                    ]
                },
            )
        email_id = str(uuid.uuid4())
        slug = re.sub(r"[^a-z0-9]+", "-", subject.lower()).strip("-") or email_id[:8]
        now = iso_timestamp(request.now)
        email = {
            "id": email_id,
            "creation_date": now,
            "modification_date": now,
            "subject": subject,
            "body": body,
            "status": status,
            "publish_date": now if status == "about_to_send" else publish_date,
            "email_type": str(params.get("email_type") or "public"),
            "slug": slug,
            "description": "",
            "secondary_id": len(self.emails) + 1,
            "absolute_url": f"{request.base_url}/{self.username}/archive/{slug}/",
            "metadata": dict(metadata),
        }
        response = Response.json(201, email)
        if status == "about_to_send":
            email = {**email, "status": "sent"}  # delivered to the subscribers right away
        self.emails[email_id] = email
        return response

    def _list_emails(self, request: Request) -> Response:
        wanted = request.query.get("status", list(LISTED_BY_DEFAULT))
        statuses = set(wanted if isinstance(wanted, list) else [wanted])
        emails = [e for e in reversed(self.emails.values()) if e["status"] in statuses]
        return self._page(request, emails)

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        try:
            page = max(1, int(str(request.query.get("page", "1"))))
        except ValueError:
            return _error(400, "page_invalid", "page must be a number.")
        start = (page - 1) * self.page_size
        chunk = items[start : start + self.page_size]
        if page > 1 and not chunk:
            return Response.json(404, {"detail": "Invalid page."})

        def link(number: int) -> str:
            query = {k: v for k, v in request.query.items() if k != "page"}
            pairs = [(k, x) for k, v in query.items() for x in (v if isinstance(v, list) else [v])]
            return f"{request.base_url}{request.path}?{urlencode([*pairs, ('page', number)])}"

        return Response.json(
            200,
            {
                "results": [_public_image(i) if "sha256" in i else i for i in chunk],
                "count": len(items),
                "next": link(page + 1) if start + self.page_size < len(items) else None,
                "previous": link(page - 1) if page > 1 else None,
            },
        )


def _image_kind(data: bytes) -> tuple[str, str] | None:
    for magic, extension, content_type in _MAGIC:
        if data.startswith(magic):
            return extension, content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp", "image/webp"
    return None


def _public_image(image: Mapping[str, Any]) -> dict[str, Any]:
    return {key: image[key] for key in ("id", "creation_date", "image", "metadata")}


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, str) or not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
