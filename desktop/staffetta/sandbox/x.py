"""An X API v2 for the sandbox: the subset Staffetta uses, as docs.x.com describes it.

Routes: ``GET /i/oauth2/authorize`` (the "browser" step: approves at once for the configured user
and redirects to the registered callback with ``code`` and ``state``), ``POST /2/oauth2/token``
(authorization code with PKCE S256; refresh tokens, which rotate), ``GET /2/users/me``,
``POST /2/tweets``, ``GET /2/users/:id/tweets``, the v2 media upload
(``POST /2/media/upload/initialize``, ``/{id}/append``, ``/{id}/finalize``, ``GET
/2/media/upload?command=STATUS``), ``POST /2/media/metadata`` and ``GET /2/openapi.json``.

Behaviour checked independently of the client: the redirect URI must be exactly the registered
one; access tokens expire (``token_lifetime``, 2 h) and then get 401; posts are counted with X's
weights (links 23, an emoji cluster 2, code points by range, after NFC) and refused over 280;
an identical text of a recent post is refused with 403 "duplicate content"; a reply's parent and
the media ids must exist; returned texts have their links replaced by ``https://t.co/…`` and
``& < >`` escaped, as X does; ``POST /2/tweets`` carries ``x-rate-limit-*`` headers when
``post_limit`` is set (429 beyond it).

Options: ``client_id`` ("sandbox-x-client"), ``client_secret`` ("" = a public Native App),
``redirect_uri`` ("http://127.0.0.1:8765/callback"), ``username`` ("demo"), ``token_lifetime``,
``post_limit`` / ``post_window`` (900 s), ``read_posts`` (True; False answers 403 as a plan
without read access does), ``processing_polls`` (0), ``duplicate_window`` (86400 s).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import re
import secrets
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import regex
from PIL import Image, UnidentifiedImageError

from staffetta.sandbox.platform import Platform, Request, Response, UploadedFile, with_query

DEFAULT_REDIRECT = "http://127.0.0.1:8765/callback"
MAX_WEIGHT = 280
_OPTIONS = frozenset(
    {"client_id", "client_secret", "redirect_uri", "username", "token_lifetime", "post_limit"}
    | {"post_window", "read_posts", "processing_polls", "duplicate_window"}
)
_URL = re.compile(r"https?://[^\s<>\"]+")
_CLUSTER = regex.compile(r"\X")
_PICTO = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def weighted(text: str) -> int:
    """X's count, written independently of the client: after NFC a link is 23, a cluster with
    a pictograph 2, other code points 1 in the light ranges and 2 elsewhere."""
    text = _URL.sub("\x00", unicodedata.normalize("NFC", text))
    total = 0
    for cluster in _CLUSTER.findall(text):
        if cluster == "\x00":
            total += 23
        elif _PICTO.search(cluster) and cluster not in ("\u00a9", "\u00ae"):
            total += 2
        else:
            total += sum(1 if any(a <= ord(c) <= b for a, b in _LIGHT) else 2 for c in cluster)
    return total


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"title": title, "detail": detail, "type": "about:blank", "status": status, **extra}
    return Response.json(status, body)


@dataclass(slots=True)
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: list[str]
    user_id: str
    created: float


@dataclass(slots=True)
class _Token:
    user_id: str
    expires: float
    scopes: list[str]
    revoked: bool = False


@dataclass(slots=True)
class _Media:
    id: str
    user_id: str
    mime: str
    total: int
    chunks: dict[int, bytes] = field(default_factory=dict)
    finalized: bool = False
    polls_left: int = 0
    alt: str = ""
    width: int = 0
    height: int = 0


class XPlatform(Platform):
    """One X API. See the module doc for routes and options."""

    type_name = "x"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self._serial = 1_850_000_000_000_000_000  # snowflake-like, increasing across resets
        self.reset()

    # --- Platform interface ---------------------------------------------------------------
    def reset(self) -> None:
        self.client_id = "sandbox-x-client"
        self.client_secret = ""
        self.redirect_uri = DEFAULT_REDIRECT
        self.username = "demo"
        self.token_lifetime = 7200.0
        self.post_limit: int | None = None
        self.post_window = 900.0
        self.read_posts = True
        self.processing_polls = 0
        self.duplicate_window = 86400.0
        self.users: dict[str, dict[str, str]] = {}
        self.grants: dict[str, _Grant] = {}
        self.tokens: dict[str, _Token] = {}
        self.refresh_tokens: dict[str, tuple[str, list[str]]] = {}
        self.tweets: list[dict[str, Any]] = []
        self.media: dict[str, _Media] = {}
        self._window_start = -math.inf
        self._window_used = 0

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"x has no options {sorted(unknown)}")
        for key in ("client_id", "client_secret", "redirect_uri", "username"):
            if key in options:
                setattr(self, key, str(options[key]))
        for key in ("token_lifetime", "post_window", "duplicate_window"):
            if key in options:
                setattr(self, key, float(options[key]))
        if "post_limit" in options:
            limit = options["post_limit"]
            self.post_limit = None if limit is None else max(1, int(limit))
            self._window_start, self._window_used = -math.inf, 0
        if "read_posts" in options:
            self.read_posts = bool(options["read_posts"])
        if "processing_polls" in options:
            self.processing_polls = max(0, int(options["processing_polls"]))

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(t)) for t in self.tweets]

    def uploads(self) -> list[dict[str, Any]]:
        return [
            {"id": m.id, "mime": m.mime, "bytes": m.total, "alt": m.alt, "width": m.width}
            for m in self.media.values()
            if m.finalized
        ]

    def issue_token(self, username: str = "demo") -> str:
        return str(self.issue_grant(username)["access_token"])

    def issue_grant(self, username: str = "demo", *, offline: bool = True) -> dict[str, Any]:
        """A token answer as ``POST /2/oauth2/token`` gives it, without the browser."""
        scopes = ["tweet.read", "tweet.write", "users.read", "media.write"]
        if offline:
            scopes.append("offline.access")
        return self._tokens_for(self._user(username)["id"], scopes)

    def revoke_tokens(self) -> None:
        for token in self.tokens.values():
            token.revoked = True
        self.refresh_tokens.clear()

    def expire_tokens(self) -> None:
        """Every access token expires now (refresh tokens still work)."""
        now = self.clock()
        for token in self.tokens.values():
            token.expires = min(token.expires, now - 1)

    # --- routing --------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        method, path = request.method, request.path
        if (method, path) == ("GET", "/2/openapi.json"):
            return Response.json(200, {"openapi": "3.0.0", "info": {"title": "X API v2"}})
        if (method, path) == ("GET", "/i/oauth2/authorize"):
            return self._authorize(request)
        if (method, path) == ("POST", "/2/oauth2/token"):
            return self._token(request)
        user = self._user_of(request)
        if isinstance(user, Response):
            return user
        if (method, path) == ("GET", "/2/users/me"):
            return Response.json(200, {"data": user})
        if (method, path) == ("POST", "/2/tweets"):
            return self._create_tweet(request, user)
        timeline = re.fullmatch(r"/2/users/(\d+)/tweets", path)
        if method == "GET" and timeline:
            return self._timeline(request, timeline.group(1))
        if (method, path) == ("POST", "/2/media/upload/initialize"):
            return self._media_init(request, user)
        step = re.fullmatch(r"/2/media/upload/(\d+)/(append|finalize)", path)
        if method == "POST" and step:
            return self._media_step(request, user, step.group(1), step.group(2))
        if (method, path) == ("GET", "/2/media/upload"):
            return self._media_status(request, user)
        if (method, path) == ("POST", "/2/media/metadata"):
            return self._media_metadata(request, user)
        return problem(404, "Not Found Error", f"Could not find {method} {path}.")

    # --- identity -------------------------------------------------------------------------
    def _user(self, username: str) -> dict[str, str]:
        found = self.users.get(username)
        if found is None:
            self._serial += 1
            found = {"id": str(self._serial), "name": username.title(), "username": username}
            self.users[username] = found
        return found

    def _user_of(self, request: Request) -> dict[str, str] | Response:
        token = self.tokens.get(request.bearer_token() or "")
        if token is None or token.revoked or token.expires <= request.now:
            return problem(401, "Unauthorized", "Unauthorized")
        return next(u for u in self.users.values() if u["id"] == token.user_id)

    def _tokens_for(self, user_id: str, scopes: list[str]) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        self.tokens[access] = _Token(user_id, self.clock() + self.token_lifetime, scopes)
        answer: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(self.token_lifetime),
            "access_token": access,
            "scope": " ".join(scopes),
        }
        if "offline.access" in scopes:
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = (user_id, scopes)
            answer["refresh_token"] = refresh
        return answer

    def _authorize(self, request: Request) -> Response:
        q = {k: str(v) for k, v in request.query.items()}
        if q.get("client_id") != self.client_id:
            return Response.text(400, "Something went wrong: unknown client.")
        redirect = q.get("redirect_uri", "")
        if redirect != self.redirect_uri:
            return Response.text(400, "Something went wrong: the callback URL is not registered.")
        state = q.get("state", "")
        error = ""
        if q.get("response_type") != "code":
            error = "unsupported_response_type"
        elif not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
            error = "invalid_request"
        elif "tweet.write" not in q.get("scope", "").split():
            error = "invalid_scope"
        if error:
            return Response.redirect(with_query(redirect, {"error": error, "state": state}))
        code = secrets.token_urlsafe(24)
        self.grants[code] = _Grant(
            self.client_id,
            redirect,
            q["code_challenge"],
            q.get("scope", "").split(),
            self._user(self.username)["id"],
            request.now,
        )
        return Response.redirect(with_query(redirect, {"code": code, "state": state}))

    def _client_ok(self, request: Request, params: dict[str, Any]) -> bool:
        scheme, _, value = request.header("authorization").partition(" ")
        if self.client_secret:
            if scheme.lower() != "basic":
                return False
            try:
                client, _, secret = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            return client == self.client_id and secrets.compare_digest(secret, self.client_secret)
        return str(params.get("client_id") or "") == self.client_id

    def _token(self, request: Request) -> Response:
        params = request.params()
        invalid = {"error": "invalid_request", "error_description": "Value passed for the token "
                   "was invalid."}  # fmt: skip
        if not self._client_ok(request, params):
            return Response.json(
                401, {"error": "unauthorized_client", "error_description": "Missing valid auth"}
            )
        grant_type = str(params.get("grant_type") or "")
        if grant_type == "refresh_token":
            found = self.refresh_tokens.pop(str(params.get("refresh_token") or ""), None)
            if found is None:
                return Response.json(400, invalid)
            return Response.json(200, self._tokens_for(*found))
        if grant_type != "authorization_code":
            return Response.json(400, {"error": "unsupported_grant_type"})
        grant = self.grants.pop(str(params.get("code") or ""), None)
        verifier = str(params.get("code_verifier") or "")
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if (
            grant is None
            or request.now - grant.created > 30
            or str(params.get("redirect_uri") or "") != grant.redirect_uri
            or not secrets.compare_digest(challenge, grant.challenge)
        ):
            return Response.json(400, invalid)
        return Response.json(200, self._tokens_for(grant.user_id, grant.scopes))

    # --- posts ----------------------------------------------------------------------------
    def _rate(self, now: float) -> tuple[bool, list[tuple[str, str]]]:
        if self.post_limit is None:
            return True, []
        if now >= self._window_start + self.post_window:
            self._window_start, self._window_used = now, 0
        self._window_used += 1
        reset = int(self._window_start + self.post_window)
        headers = [
            ("x-rate-limit-limit", str(self.post_limit)),
            ("x-rate-limit-remaining", str(max(0, self.post_limit - self._window_used))),
            ("x-rate-limit-reset", str(reset)),
        ]
        return self._window_used <= self.post_limit, headers

    def _create_tweet(self, request: Request, user: dict[str, str]) -> Response:
        allowed, headers = self._rate(request.now)
        if not allowed:
            answer = problem(429, "Too Many Requests", "Too Many Requests")
            answer.headers.extend(headers)
            return answer
        answer = self._new_tweet(request, user)
        answer.headers.extend(headers)
        return answer

    def _new_tweet(self, request: Request, user: dict[str, str]) -> Response:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return problem(400, "Invalid Request", "The body is not JSON.")
        text = body.get("text") if isinstance(body, dict) else None
        media = (body.get("media") or {}).get("media_ids") or []
        if not isinstance(text, str) or (not text.strip() and not media):
            return problem(400, "Invalid Request", "Tweet text is empty.")
        if weighted(text) > MAX_WEIGHT:
            return problem(403, "Forbidden", "Your Tweet text is too long.")
        if not 0 <= len(media) <= 4 or any(
            (m := self.media.get(str(i))) is None or not m.finalized or m.user_id != user["id"]
            for i in media
        ):
            return problem(400, "Invalid Request", "Your media IDs are invalid.")
        reply = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply is not None and not any(t["id"] == str(reply) for t in self.tweets):
            return problem(400, "Invalid Request", "The Tweet you are replying to does not exist.")
        for old in self.tweets:
            recent = request.now - old["created"] < self.duplicate_window
            if old["author_id"] == user["id"] and old["source_text"] == text and recent:
                return problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                )
        self._serial += 1
        tweet = {
            "id": str(self._serial),
            "author_id": user["id"],
            "source_text": text,
            "created": request.now,
            "in_reply_to": str(reply) if reply is not None else None,
            "media_ids": [str(i) for i in media],
        }
        self.tweets.append(tweet)
        data = {"id": tweet["id"], "text": _shown(text), "edit_history_tweet_ids": [tweet["id"]]}
        return Response.json(201, {"data": data})

    def _timeline(self, request: Request, user_id: str) -> Response:
        if not self.read_posts:
            return problem(
                403, "Forbidden", "Your app's access level does not include reading posts."
            )
        q = request.query
        size = max(5, min(100, int(str(q.get("max_results") or 10))))
        start = str(q.get("start_time") or "")
        oldest = _epoch(start) if start else -math.inf
        mine = [t for t in reversed(self.tweets) if t["author_id"] == user_id]
        mine = [t for t in mine if t["created"] >= oldest]
        offset = int(str(q.get("pagination_token") or 0) or 0)
        page = mine[offset : offset + size]
        data = []
        for tweet in page:
            item: dict[str, Any] = {
                "id": tweet["id"],
                "text": _shown(tweet["source_text"]),
                "edit_history_tweet_ids": [tweet["id"]],
                "created_at": _iso(tweet["created"]),
            }
            if tweet["in_reply_to"]:
                item["referenced_tweets"] = [{"type": "replied_to", "id": tweet["in_reply_to"]}]
            data.append(item)
        meta: dict[str, Any] = {"result_count": len(data)}
        if offset + size < len(mine):
            meta["next_token"] = str(offset + size)
        return Response.json(200, {"data": data, "meta": meta} if data else {"meta": meta})

    # --- media ----------------------------------------------------------------------------
    def _media_init(self, request: Request, user: dict[str, str]) -> Response:
        params = request.params()
        mime = str(params.get("media_type") or "")
        try:
            total = int(str(params.get("total_bytes") or 0))
        except ValueError:
            total = 0
        if mime not in ("image/jpeg", "image/png", "image/webp", "image/gif") or total <= 0:
            return problem(400, "Invalid Request", "media_type or total_bytes is invalid.")
        if total > 5 * 1024 * 1024 and mime != "image/gif":
            return problem(400, "Invalid Request", "File size exceeds 5242880 bytes.")
        self._serial += 1
        media_id = str(self._serial)
        self.media[media_id] = _Media(media_id, user["id"], mime, total)
        return Response.json(200, {"data": _media_data(self.media[media_id])})

    def _media_step(
        self, request: Request, user: dict[str, str], media_id: str, step: str
    ) -> Response:
        found = self.media.get(media_id)
        if found is None or found.user_id != user["id"] or found.finalized:
            return problem(400, "Invalid Request", "Invalid media id.")
        if step == "append":
            params = request.params()
            chunk = params.get("media")
            if not isinstance(chunk, UploadedFile):
                return problem(400, "Invalid Request", "media is missing.")
            found.chunks[int(str(params.get("segment_index") or 0))] = chunk.data
            return Response(200)
        data = b"".join(found.chunks[i] for i in sorted(found.chunks))
        if len(data) != found.total:
            return problem(400, "Invalid Request", "File size does not match total_bytes.")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                picture = Image.open(io.BytesIO(data))
                picture.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombWarning):
            return problem(400, "Invalid Request", "The media could not be processed.")
        found.width, found.height = picture.size
        found.finalized = True
        found.polls_left = self.processing_polls
        return Response.json(200, {"data": _media_data(found)})

    def _media_status(self, request: Request, user: dict[str, str]) -> Response:
        found = self.media.get(str(request.query.get("media_id") or ""))
        if found is None or found.user_id != user["id"]:
            return problem(400, "Invalid Request", "Invalid media id.")
        if found.polls_left:
            found.polls_left -= 1
        return Response.json(200, {"data": _media_data(found, status=True)})

    def _media_metadata(self, request: Request, user: dict[str, str]) -> Response:
        params = request.params()
        found = self.media.get(str(params.get("id") or ""))
        if found is None or found.user_id != user["id"]:
            return problem(400, "Invalid Request", "Invalid media id.")
        alt = ((params.get("metadata") or {}).get("alt_text") or {}).get("text")
        if not isinstance(alt, str) or len(alt) > 1000:
            return problem(400, "Invalid Request", "alt_text.text must be 1-1000 characters.")
        found.alt = alt
        return Response.json(200, {"data": {"id": found.id, "associated_metadata": True}})


def _media_data(media: _Media, *, status: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": media.id,
        "media_key": f"3_{media.id}",
        "expires_after_secs": 86400,
    }
    if media.finalized:
        data["size"] = media.total
        if media.polls_left:
            data["processing_info"] = {"state": "in_progress", "check_after_secs": 1}
        elif status:
            data["processing_info"] = {"state": "succeeded", "progress_percent": 100}
    return data


def _shown(text: str) -> str:
    """The text as X returns it: links shortened to t.co, ``& < >`` as entities."""
    shortened = _URL.sub(lambda m: "https://t.co/" + _slug(m.group()), text)
    return html.escape(shortened, quote=False)


def _slug(url: str) -> str:
    return base64.b32encode(hashlib.sha256(url.encode()).digest()).decode()[:10].lower()


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _epoch(value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return -math.inf
