"""A Listmonk server for the sandbox: the API subset Staffetta uses, as Listmonk's documentation
(docs/apis: campaigns, media, lists) and source describe it.

Routes: ``GET /api/health`` (no credentials); ``GET /api/lists`` and ``GET /api/lists/{id}``;
``POST|GET /api/media`` (multipart field ``file``) with the files served under ``/uploads/``;
``POST|GET /api/campaigns``, ``GET|DELETE /api/campaigns/{id}`` and ``PUT
/api/campaigns/{id}/status``.

Authentication: ``Authorization: token <user>:<token>`` (or Basic with the same pair); an
unknown pair is 403 ``invalid API credentials``, no header 403 ``invalid session``. Answers are
``{"data": ...}``, errors ``{"message": ...}``.

Campaigns: created as ``draft`` (200), after checking name, subject, lists (that exist),
content type and type; ``query`` searches name and subject as Listmonk's ``makeSearchQuery``
does (``%query%`` case-insensitively, whitespace runs turned into ``&``), newest first, paged by
``page``/``per_page``; ``no_body`` blanks bodies. Status changes follow Listmonk's rules: only a
draft or a paused campaign can start (``running``), only a draft can be scheduled, only a
scheduled one can go back to draft, only a running one can be paused or cancelled; a started
campaign counts every subscriber of its lists as sent.

``issue_token(username)`` makes an API user and returns its token; ``revoke_tokens`` forgets
them. Options: ``lists`` (``{id: [name, subscribers]}``) and ``from_email``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from staffetta.sandbox.platform import Platform, Request, Response, UploadedFile, iso_timestamp

CONTENT_TYPES = ("richtext", "html", "markdown", "plain", "visual")
TYPES = ("regular", "optin")
MAX_NAME = 2000
_OPTIONS = frozenset({"lists", "from_email"})
_SPACES = re.compile(r"\s+")


def _message(status: int, message: str) -> Response:
    return Response.json(status, {"message": message})


def _ok(data: Any) -> Response:
    return Response.json(200, {"data": data})


class ListmonkPlatform(Platform):
    """One Listmonk server. See the module doc for routes, behaviour and options."""

    type_name = "listmonk"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self.users: dict[str, str] = {}
        self.campaigns: dict[int, dict[str, Any]] = {}
        self.media: dict[int, dict[str, Any]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.reset()

    # --- Platform interface ---------------------------------------------------------------

    def reset(self) -> None:
        self.lists: dict[int, dict[str, Any]] = {
            1: {"id": 1, "name": "Default list", "subscriber_count": 3},
            2: {"id": 2, "name": "Opt-in list", "subscriber_count": 2},
        }
        self.from_email = "Sandbox <noreply@listmonk.example>"
        self.users.clear()
        self.campaigns.clear()
        self.media.clear()
        self.files.clear()
        self._next_campaign = 1
        self._next_media = 1

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"listmonk has no options {sorted(unknown)}")
        if "lists" in options:
            self.lists = {
                int(list_id): {"id": int(list_id), "name": str(name), "subscriber_count": int(n)}
                for list_id, (name, n) in dict(options["lists"]).items()
            }
        if "from_email" in options:
            self.from_email = str(options["from_email"])

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(c)) for c in self.campaigns.values()]

    def uploads(self) -> list[dict[str, Any]]:
        return [dict(m) for m in self.media.values()]

    def issue_token(self, username: str = "demo") -> str:
        token = secrets.token_urlsafe(24)
        self.users[username] = token
        return token

    def revoke_tokens(self) -> None:
        self.users.clear()

    # --- routing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        method = request.method
        if path == "/api/health" and method == "GET":
            return _ok(True)
        served = re.fullmatch(r"/uploads/([\w.-]+)", path)
        if served and method == "GET" and served.group(1) in self.files:
            data, content_type = self.files[served.group(1)]
            return Response(200, data, content_type)
        refused = self._refused(request)
        if refused is not None:
            return refused
        if path == "/api/lists" and method == "GET":
            return self._paged(request, list(self.lists.values()))
        match = re.fullmatch(r"/api/lists/(\d+)", path)
        if match and method == "GET":
            found = self.lists.get(int(match.group(1)))
            return _ok(found) if found else _message(404, "List not found")
        if path == "/api/media":
            if method == "POST":
                return self._upload(request)
            if method == "GET":
                return _ok(list(self.media.values()))
        if path == "/api/campaigns":
            if method == "POST":
                return self._create(request)
            if method == "GET":
                return self._query(request)
        match = re.fullmatch(r"/api/campaigns/(\d+)(/status)?", path)
        if match:
            campaign = self.campaigns.get(int(match.group(1)))
            if campaign is None:
                return _message(404, "Campaign not found")
            if match.group(2):
                return self._status(request, campaign) if method == "PUT" else self._no(method)
            if method == "GET":
                return _ok(_shown(campaign, request))
            if method == "DELETE":
                del self.campaigns[campaign["id"]]
                return _ok(True)
        return _message(404, "Not found")

    def _no(self, method: str) -> Response:
        return _message(405, f"Method {method} not allowed")

    def _refused(self, request: Request) -> Response | None:
        header = request.header("authorization").strip()
        if not header:
            return _message(403, "invalid session")
        if header.startswith("token"):
            pair = header[len("token") :].strip()
        elif header.startswith("Basic"):
            try:
                pair = base64.b64decode(header[len("Basic") :].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                return _message(400, "invalid Base64 value in Basic Authorization header")
        else:
            return _message(400, "unknown Authorization scheme")
        user, _, token = pair.partition(":")
        if not user or not token:
            return _message(400, "empty `api_key` or `token`")
        known = self.users.get(user)
        if known is None or not secrets.compare_digest(known, token):
            return _message(403, "invalid API credentials")
        return None

    # --- media ----------------------------------------------------------------------------

    def _upload(self, request: Request) -> Response:
        upload = request.params().get("file")
        if not isinstance(upload, UploadedFile) or not upload.data:
            return _message(400, "Invalid file")
        name = re.sub(r"[^\w.-]", "-", upload.filename) or "file"
        if name in self.files:
            stem, dot, extension = name.rpartition(".")
            name = f"{stem or name}-{hashlib.sha256(upload.data).hexdigest()[:6]}{dot}{extension}"
        media_id = self._next_media
        self._next_media += 1
        self.files[name] = (upload.data, upload.content_type)
        entity = {
            "id": media_id,
            "uuid": str(uuid.uuid4()),
            "filename": name,
            "content_type": upload.content_type,
            "created_at": iso_timestamp(request.now),
            "thumb_url": f"{request.base_url}/uploads/{name}",
            "provider": "filesystem",
            "meta": {},
            "url": f"{request.base_url}/uploads/{name}",
        }
        self.media[media_id] = {**entity, "sha256": hashlib.sha256(upload.data).hexdigest()}
        return _ok(entity)

    # --- campaigns ------------------------------------------------------------------------

    def _create(self, request: Request) -> Response:
        params = request.params()
        name = params.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
            return _message(400, "Invalid length for name.")
        subject = params.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            return _message(400, "Invalid length for subject.")
        lists = params.get("lists")
        if (
            not isinstance(lists, list)
            or not lists
            or not all(isinstance(i, int) and i in self.lists for i in lists)
        ):
            return _message(400, "Invalid list IDs.")
        content_type = params.get("content_type") or "richtext"
        if content_type not in CONTENT_TYPES:
            return _message(400, "Invalid content type.")
        kind = params.get("type") or "regular"
        if kind not in TYPES:
            return _message(400, "Invalid campaign type.")
        tags = params.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return _message(400, "Invalid tags.")
        campaign_id = self._next_campaign
        self._next_campaign += 1
        now = iso_timestamp(request.now)
        campaign = {
            "id": campaign_id,
            "created_at": now,
            "updated_at": now,
            "views": 0,
            "clicks": 0,
            "bounces": 0,
            "lists": [{"id": i, "name": self.lists[i]["name"]} for i in lists],
            "started_at": None,
            "to_send": sum(self.lists[i]["subscriber_count"] for i in lists),
            "sent": 0,
            "uuid": str(uuid.uuid4()),
            "type": kind,
            "name": name,
            "subject": subject,
            "from_email": str(params.get("from_email") or self.from_email),
            "body": str(params.get("body") or ""),
            "altbody": params.get("altbody"),
            "send_at": params.get("send_at"),
            "status": "draft",
            "content_type": content_type,
            "tags": tags,
            "template_id": int(params.get("template_id") or 1),
            "messenger": str(params.get("messenger") or "email"),
            "headers": params.get("headers") or [],
        }
        self.campaigns[campaign_id] = campaign
        return _ok(campaign)

    def _query(self, request: Request) -> Response:
        query = str(request.query.get("query") or "").strip()
        statuses = request.query.get("status", [])
        wanted = set(statuses if isinstance(statuses, list) else [statuses])
        found = []
        pattern = _SPACES.sub("&", query).casefold()
        for campaign in reversed(self.campaigns.values()):
            if wanted and campaign["status"] not in wanted:
                continue
            if pattern and pattern not in f"{campaign['name']} {campaign['subject']}".casefold():
                continue
            found.append(_shown(campaign, request))
        return self._paged(request, found, query)

    def _paged(self, request: Request, items: list[Any], query: str = "") -> Response:
        per_page_raw = str(request.query.get("per_page") or "20")
        try:
            page = max(1, int(str(request.query.get("page") or "1")))
            per_page = (len(items) or 1) if per_page_raw == "all" else max(1, int(per_page_raw))
        except ValueError:
            return _message(400, "Invalid page or per_page.")
        chunk = items[(page - 1) * per_page : page * per_page]
        return _ok(
            {
                "results": chunk,
                "query": query,
                "total": len(items),
                "per_page": per_page,
                "page": page,
            }
        )

    def _status(self, request: Request, campaign: dict[str, Any]) -> Response:
        target = request.params().get("status")
        current = campaign["status"]
        allowed = {
            "running": ("draft", "paused"),
            "scheduled": ("draft",),
            "draft": ("scheduled",),
            "paused": ("running",),
            "cancelled": ("running", "paused"),
        }
        if target not in allowed:
            return _message(400, "Invalid status.")
        if current not in allowed[target]:
            messages = {
                "running": "Only paused campaigns and drafts can be started.",
                "scheduled": "Only draft campaigns can be scheduled.",
                "draft": "Only scheduled campaigns can be saved as drafts.",
                "paused": "Only active campaigns can be paused.",
                "cancelled": "Only active campaigns can be cancelled.",
            }
            return _message(400, messages[str(target)])
        if target == "scheduled" and not campaign.get("send_at"):
            return _message(400, "Campaign needs a date to be scheduled.")
        campaign["status"] = target
        campaign["updated_at"] = iso_timestamp(request.now)
        if target == "running" and campaign["started_at"] is None:
            campaign["started_at"] = campaign["updated_at"]
            campaign["sent"] = campaign["to_send"]
        return _ok(_shown(campaign, request))


def _shown(campaign: dict[str, Any], request: Request) -> dict[str, Any]:
    if str(request.query.get("no_body", "")).lower() in ("true", "1"):
        return {**campaign, "body": ""}
    return dict(campaign)
