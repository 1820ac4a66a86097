"""A Mastodon instance for the sandbox: the API subset Staffetta uses, as docs.joinmastodon.org
describes it (version 4.4).

Routes: ``POST /api/v1/apps``, ``GET /api/v1/apps/verify_credentials``, ``GET /oauth/authorize``,
``POST /oauth/token``, ``POST /oauth/revoke``, ``GET /api/v1/accounts/verify_credentials``,
``GET /api/v1/accounts/:id/statuses``, ``GET /api/v2/instance``, ``POST /api/v2/media``,
``GET|PUT /api/v1/media/:id``, ``POST /api/v1/statuses``, ``GET|DELETE /api/v1/statuses/:id``
and ``GET /health``.

``GET /health`` answers ``{"status": "UP"}`` as methods/health.md documents (Mastodon's own
HealthController renders a plain ``OK``; clients should only look at the status code, as the docs
say). A status may reply to an existing one (``in_reply_to_id``, 404 when the parent does not
exist), which is how threads are posted. Statuses are counted the way Mastodon does,
re-implemented independently and simply here: grapheme clusters of spoiler text plus text, every
``http(s)://`` URL counting 23 and ``@user@domain`` counting as ``@user``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

import regex

from staffetta.sandbox.mastodon_auth import (
    Account,
    MastodonAuth,
    api_error,
    invalid,
    not_found,
    text_param,
)
from staffetta.sandbox.mastodon_media import (
    DESCRIPTION_LIMIT,
    IMAGE_MATRIX_LIMIT,
    IMAGE_SIZE_LIMIT,
    MAX_MEDIA,
    MIME_TYPES,
    VIDEO_SIZE_LIMIT,
    MediaStore,
)
from staffetta.sandbox.platform import (
    Platform,
    Request,
    Response,
    iso_timestamp,
)

URL_CHARS = 23
IDEMPOTENCY_TTL = 3600.0
VISIBILITIES = ("public", "unlisted", "private", "direct")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]*\w")
_LINK = re.compile(r"https?://[^\s<]+")
_GRAPHEME = regex.compile(r"\X")


def count_characters(text: str, spoiler_text: str = "") -> int:
    """Mastodon's status length: graphemes, a URL is 23, ``@user@domain`` is ``@user``."""
    countable = _MENTION.sub(r"@\1", _URL.sub("x" * URL_CHARS, text))
    return len(_GRAPHEME.findall(spoiler_text + countable))


def render_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        return f'<a href="{url}" rel="nofollow noopener" target="_blank">{url}</a>'

    return "".join(
        "<p>" + _LINK.sub(link, html.escape(p, quote=False)).replace("\n", "<br />") + "</p>"
        for p in paragraphs
    )


Handler = Callable[[Request, re.Match[str]], Response]


class MastodonPlatform(Platform):
    """One Mastodon instance. Options: ``max_characters`` (500), ``processing_polls`` (1: how
    many ``GET /api/v1/media/:id`` answer 206 before the upload is processed), ``username``
    (``"demo"``: the account the OAuth "browser" step approves for), ``title``."""

    type_name = "mastodon"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self._counter = 0  # ids keep increasing across resets, as a real server's would
        self.auth = MastodonAuth()
        self.max_characters = 500
        self.processing_polls = 1
        self.title = f"Staffetta sandbox ({name})"
        self.statuses: list[dict[str, Any]] = []
        self.scheduled: list[dict[str, Any]] = []
        self.media = MediaStore()
        self.idempotency: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/health"), self._health),
            ("POST", re.compile(r"/api/v1/apps"), lambda r, m: self.auth.register_app(r)),
            (
                "GET",
                re.compile(r"/api/v1/apps/verify_credentials"),
                lambda r, m: self.auth.verify_app(r),
            ),
            ("GET", re.compile(r"/oauth/authorize"), lambda r, m: self.auth.authorize(r)),
            ("POST", re.compile(r"/oauth/token"), lambda r, m: self.auth.token(r)),
            ("POST", re.compile(r"/oauth/revoke"), lambda r, m: self.auth.revoke(r)),
            ("GET", re.compile(r"/api/v1/accounts/verify_credentials"), self._verify_credentials),
            ("GET", re.compile(r"/api/v1/accounts/(\w+)/statuses"), self._account_statuses),
            ("GET", re.compile(r"/api/v2/instance"), self._instance),
            ("POST", re.compile(r"/api/v2/media"), self._upload_media),
            ("GET", re.compile(r"/api/v1/media/(\w+)"), self._get_media),
            ("PUT", re.compile(r"/api/v1/media/(\w+)"), self._update_media),
            ("POST", re.compile(r"/api/v1/statuses"), self._create_status),
            ("GET", re.compile(r"/api/v1/statuses/(\w+)"), self._get_status),
            ("DELETE", re.compile(r"/api/v1/statuses/(\w+)"), self._delete_status),
        ]

    # --- Platform interface ---------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path.rstrip("/") or "/")
            if match and method == request.method:
                return handler(request, match)
        return not_found()

    def reset(self) -> None:
        self.auth.reset()
        self.auth.default_username = "demo"
        self.max_characters = 500
        self.processing_polls = 1
        self.title = f"Staffetta sandbox ({self.name})"
        self.statuses.clear()
        self.scheduled.clear()
        self.media.items.clear()
        self.idempotency.clear()

    def posts(self) -> list[dict[str, Any]]:
        return [dict(status) for status in self.statuses]

    def issue_token(self, username: str = "demo") -> str:
        return self.auth.issue_token(username, self.clock())

    def revoke_tokens(self) -> None:
        self.auth.revoke_all()

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"max_characters", "processing_polls", "username", "title"}
        if unknown:
            raise ValueError(f"mastodon has no options {sorted(unknown)}")
        if "max_characters" in options:
            value = int(options["max_characters"])
            if value < 1:
                raise ValueError("max_characters must be at least 1")
            self.max_characters = value
        if "processing_polls" in options:
            self.processing_polls = max(0, int(options["processing_polls"]))
        if "username" in options:
            self.auth.default_username = str(options["username"])
        if "title" in options:
            self.title = str(options["title"])

    def uploads(self) -> list[dict[str, Any]]:
        """What was uploaded (size, hash, description…) so tests can check alt text arrived."""
        return [media.record() for media in self.media.items.values()]

    # --- helpers --------------------------------------------------------------------------

    def _next_id(self) -> str:
        self._counter += 1
        return str(110_000_000_000_000_000 + self._counter)

    def _account_entity(self, account: Account, base: str) -> dict[str, Any]:
        statuses = sum(1 for s in self.statuses if s["account"]["id"] == account.id)
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.username.capitalize(),
            "locked": False,
            "bot": False,
            "created_at": iso_timestamp(account.created_at),
            "note": "",
            "url": f"{base}/@{account.username}",
            "avatar": f"{base}/avatars/original/missing.png",
            "avatar_static": f"{base}/avatars/original/missing.png",
            "header": f"{base}/headers/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": statuses,
        }

    # --- instance, health, accounts -------------------------------------------------------

    def _health(self, request: Request, match: re.Match[str]) -> Response:
        return Response.json(200, {"status": "UP"})

    def _instance(self, request: Request, match: re.Match[str]) -> Response:
        body = {
            "domain": request.header("host", "127.0.0.1"),
            "title": self.title,
            "version": "4.4.0",
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "A sandbox Mastodon instance for Staffetta's tests and demo.",
            "languages": ["en"],
            "configuration": {
                "urls": {"streaming": None},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": MAX_MEDIA,
                    "characters_reserved_per_url": URL_CHARS,
                },
                "media_attachments": {
                    "supported_mime_types": list(MIME_TYPES),
                    "description_limit": DESCRIPTION_LIMIT,
                    "image_size_limit": IMAGE_SIZE_LIMIT,
                    "image_matrix_limit": IMAGE_MATRIX_LIMIT,
                    "video_size_limit": VIDEO_SIZE_LIMIT,
                    "video_frame_rate_limit": 120,
                    "video_matrix_limit": 8_294_400,
                },
            },
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "rules": [],
        }
        return Response.json(200, body)

    def _verify_credentials(self, request: Request, match: re.Match[str]) -> Response:
        account = self.auth.authenticate(request, "read:accounts")
        if isinstance(account, Response):
            return account
        return Response.json(200, self._account_entity(account, request.base_url))

    def _account_statuses(self, request: Request, match: re.Match[str]) -> Response:
        account = self.auth.account_by_id(match.group(1))
        if account is None:
            return not_found()
        params = request.query
        try:
            limit = min(40, max(1, int(text_param(params, "limit") or 20)))
            max_id = int(text_param(params, "max_id") or 0) or None
            since_id = int(text_param(params, "since_id") or text_param(params, "min_id") or 0)
        except ValueError:
            return invalid("Invalid pagination parameters")
        mine = [s for s in reversed(self.statuses) if s["account"]["id"] == account.id]
        page = [
            s for s in mine if (max_id is None or int(s["id"]) < max_id) and int(s["id"]) > since_id
        ][:limit]
        headers: list[tuple[str, str]] = []
        if page:
            url = f"{request.base_url}/api/v1/accounts/{account.id}/statuses"
            headers.append(
                (
                    "Link",
                    f'<{url}?limit={limit}&max_id={page[-1]["id"]}>; rel="next", '
                    f'<{url}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"',
                )
            )
        return Response.json(200, page, headers)

    # --- media ----------------------------------------------------------------------------

    def _upload_media(self, request: Request, match: re.Match[str]) -> Response:
        account = self.auth.authenticate(request, "write:media")
        if isinstance(account, Response):
            return account
        media_id = self._next_id()
        polls = self.processing_polls
        return self.media.upload(request.params(), account, media_id, polls, request.base_url)

    def _get_media(self, request: Request, match: re.Match[str]) -> Response:
        account = self.auth.authenticate(request, "write:media")
        if isinstance(account, Response):
            return account
        return self.media.get(account, match.group(1), request.base_url)

    def _update_media(self, request: Request, match: re.Match[str]) -> Response:
        account = self.auth.authenticate(request, "write:media")
        if isinstance(account, Response):
            return account
        return self.media.update(request.params(), account, match.group(1), request.base_url)

    # --- statuses -------------------------------------------------------------------------

    def _create_status(self, request: Request, match: re.Match[str]) -> Response:
        account = self.auth.authenticate(request, "write:statuses")
        if isinstance(account, Response):
            return account
        key = request.header("idempotency-key")
        if key:
            for stored_key, (_, stored_at) in list(self.idempotency.items()):
                if request.now - stored_at >= IDEMPOTENCY_TTL:
                    del self.idempotency[stored_key]
            if (account.id, key) in self.idempotency:
                return Response.json(200, self.idempotency[(account.id, key)][0])
        result = self._build_status(request, account)
        if isinstance(result, Response):
            return result
        if key:
            self.idempotency[(account.id, key)] = (result, request.now)
        return Response.json(200, result)

    def _build_status(self, request: Request, account: Account) -> dict[str, Any] | Response:
        params = request.params()
        text = text_param(params, "status")
        spoiler = text_param(params, "spoiler_text")
        raw_ids = params.get("media_ids", [])
        media_ids = [str(i) for i in raw_ids] if isinstance(raw_ids, list) else [str(raw_ids)]
        visibility = text_param(params, "visibility") or "public"
        reply_to = text_param(params, "in_reply_to_id") or None
        attached = self.media.attachable(media_ids, account)
        if isinstance(attached, Response):
            return attached
        if not text.strip() and not attached:
            return invalid("Text can't be blank")
        if count_characters(text, spoiler) > self.max_characters:
            return invalid(f"Text character limit of {self.max_characters} exceeded")
        if visibility not in VISIBILITIES:
            return invalid("Visibility is not included in the list")
        parent = next((s for s in self.statuses if s["id"] == reply_to), None) if reply_to else None
        if reply_to and parent is None:
            return api_error(404, "The post you are trying to reply to does not appear to exist.")
        status_id = self._next_id()
        for media in attached:
            media.status_id = status_id
        base = request.base_url
        scheduled_at = text_param(params, "scheduled_at")
        if scheduled_at:
            scheduled = {
                "id": status_id,
                "scheduled_at": scheduled_at,
                "params": {"text": text, "visibility": visibility, "spoiler_text": spoiler},
                "media_attachments": [m.entity(base) for m in attached],
            }
            self.scheduled.append(scheduled)
            return scheduled
        status: dict[str, Any] = {
            "id": status_id,
            "created_at": iso_timestamp(request.now),
            "in_reply_to_id": reply_to,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "sensitive": bool(spoiler),
            "spoiler_text": spoiler,
            "visibility": visibility,
            "language": text_param(params, "language") or "en",
            "uri": f"{base}/users/{account.username}/statuses/{status_id}",
            "url": f"{base}/@{account.username}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": render_html(text),
            "text": text,
            "media_attachments": [m.entity(base) for m in attached],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
            "account": self._account_entity(account, base),
        }
        self.statuses.append(status)
        if parent is not None:
            parent["replies_count"] += 1
        return status

    def _get_status(self, request: Request, match: re.Match[str]) -> Response:
        status = next((s for s in self.statuses if s["id"] == match.group(1)), None)
        return Response.json(200, status) if status else not_found()

    def _delete_status(self, request: Request, match: re.Match[str]) -> Response:
        account = self.auth.authenticate(request, "write:statuses")
        if isinstance(account, Response):
            return account
        status = next((s for s in self.statuses if s["id"] == match.group(1)), None)
        if status is None or status["account"]["id"] != account.id:
            return not_found()
        self.statuses.remove(status)
        return Response.json(200, status)
