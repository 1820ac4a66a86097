"""An IndieWeb site for the sandbox: a home page naming its endpoints, IndieAuth (authorization
and token endpoints with PKCE), a Micropub endpoint and a media endpoint, as the W3C Micropub
Recommendation and the IndieAuth specification describe them.

Routes: ``GET /`` (``Link: <…/auth>; rel="authorization_endpoint"`` in the headers,
``<link rel="micropub">`` and ``<link rel="token_endpoint">`` in the page), ``GET /auth`` (no human
here: approves at once and redirects with ``code``, ``state`` and ``iss``), ``POST /token``
(``authorization_code`` with the PKCE verifier), ``GET /micropub?q=config|source``,
``POST /micropub`` (JSON, form or multipart; token in the header or an ``access_token`` field),
``POST /media``, and the published ``/<yyyy>/<mm>/<slug>`` pages and ``/media/<file>`` files.

Options: ``media_endpoint`` (true: announced in ``q=config``), ``source`` (true: ``q=source``
supported and announced), ``listing`` (true: ``q=source`` without a URL lists recent posts).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from staffetta.sandbox.platform import Platform, Request, Response, UploadedFile, with_query

CODE_LIFETIME = 600.0
_SLUG = re.compile(r"[^a-z0-9]+")
_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


def _error(status: int, error: str, description: str) -> Response:
    return Response.json(status, {"error": error, "error_description": description})


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _values(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]


def _photo(value: Any) -> tuple[str, str]:
    if isinstance(value, dict):
        return str(value.get("value", "")), str(value.get("alt", ""))
    return str(value), ""


@dataclass(slots=True)
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    created_at: float


@dataclass(slots=True)
class _Token:
    scope: str
    revoked: bool = False


class MicropubPlatform(Platform):
    """One IndieWeb site (the user's ``me``) with its own IndieAuth and Micropub endpoints."""

    type_name = "micropub"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self.entries: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.grants: dict[str, _Grant] = {}
        self.tokens: dict[str, _Token] = {}
        self.media_endpoint = True
        self.source = True
        self.listing = True

    # --- Platform interface ---------------------------------------------------------------
    def reset(self) -> None:
        self.entries.clear()
        self.media.clear()
        self.grants.clear()
        self.tokens.clear()
        self.media_endpoint = self.source = self.listing = True

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"media_endpoint", "source", "listing"}
        if unknown:
            raise ValueError(f"micropub has no options {sorted(unknown)}")
        for key in ("media_endpoint", "source", "listing"):
            if key in options:
                setattr(self, key, bool(options[key]))

    def posts(self) -> list[dict[str, Any]]:
        return [
            {"url": e["url"], "type": ["h-entry"], "properties": dict(e["properties"])}
            for e in self.entries
        ]

    def uploads(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k != "data"} for item in self.media.values()]

    def issue_token(self, username: str = "demo") -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = _Token("create media")
        return token

    def revoke_tokens(self) -> None:
        for token in self.tokens.values():
            token.revoked = True

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        route = (request.method, path)
        if route == ("GET", "/"):
            return self._home(request)
        if route == ("GET", "/auth"):
            return self._authorize(request)
        if route == ("POST", "/token"):
            return self._token(request)
        if route == ("GET", "/micropub"):
            return self._query(request)
        if route == ("POST", "/micropub"):
            return self._create(request)
        if route == ("POST", "/media"):
            return self._upload(request)
        if request.method == "GET" and path.startswith("/media/") and path[7:] in self.media:
            item = self.media[path[7:]]
            return Response(200, item["data"], item["content_type"])
        entry = next((e for e in self.entries if urlsplit(e["url"]).path == path), None)
        if request.method == "GET" and entry is not None:
            return self._page(entry)
        return Response.text(404, "Not found")

    # --- the site -------------------------------------------------------------------------
    def _home(self, request: Request) -> Response:
        base = request.base_url
        page = (
            "<!doctype html><html><head><title>A sandbox IndieWeb site</title>"
            '<link rel="micropub" href="micropub">'  # relative to this page, as sites write it
            f'<link rel="token_endpoint" href="{base}/token">'
            "</head><body><h1>A sandbox IndieWeb site</h1></body></html>"
        )
        response = Response.text(200, page, "text/html; charset=utf-8")
        response.headers.append(("Link", f'<{base}/auth>; rel="authorization_endpoint"'))
        return response

    def _page(self, entry: dict[str, Any]) -> Response:
        props = entry["properties"]
        name = html.escape(str(_first(props.get("name")) or ""))
        content = _first(props.get("content"))
        body = content.get("html", "") if isinstance(content, dict) else html.escape(str(content))
        photos = "".join(
            f'<img class="u-photo" src="{html.escape(str(_photo(p)[0]))}" '
            f'alt="{html.escape(_photo(p)[1])}">'
            for p in props.get("photo", [])
        )
        page = (
            f'<!doctype html><article class="h-entry"><h1 class="p-name">{name}</h1>'
            f'<div class="e-content">{body}</div>{photos}</article>'
        )
        return Response.text(200, page, "text/html; charset=utf-8")

    # --- IndieAuth --------------------------------------------------------------------------
    def _authorize(self, request: Request) -> Response:
        q = {k: str(_first(v)) for k, v in request.query.items()}
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        if not client_id or not redirect_uri or q.get("response_type") != "code":
            return Response.text(400, "response_type=code, client_id and redirect_uri are required")
        a, b = urlsplit(client_id), urlsplit(redirect_uri)
        if (a.scheme, a.hostname, a.port) != (b.scheme, b.hostname, b.port):
            return Response.text(400, "redirect_uri is not on the client_id's host")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return Response.text(400, "PKCE (code_challenge with S256) is required")
        code = secrets.token_urlsafe(24)
        self.grants[code] = _Grant(
            client_id, redirect_uri, q["code_challenge"], q.get("scope", "create"), request.now
        )
        answer = {"code": code, "state": q.get("state", ""), "iss": f"{request.base_url}/"}
        return Response.redirect(with_query(redirect_uri, answer))

    def _token(self, request: Request) -> Response:
        p = {k: str(_first(v)) for k, v in request.params().items()}
        grant = self.grants.pop(p.get("code", ""), None)
        if p.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type", "Only authorization_code is supported.")
        if grant is None or request.now - grant.created_at > CODE_LIFETIME:
            return _error(400, "invalid_grant", "The authorization code is invalid or expired.")
        if (p.get("client_id"), p.get("redirect_uri")) != (grant.client_id, grant.redirect_uri):
            return _error(400, "invalid_grant", "client_id or redirect_uri does not match.")
        digest = hashlib.sha256(p.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return _error(400, "invalid_grant", "The code_verifier does not match the challenge.")
        token = secrets.token_urlsafe(24)
        self.tokens[token] = _Token(grant.scope)
        me = f"{request.base_url}/"
        return Response.json(
            200, {"access_token": token, "token_type": "Bearer", "scope": grant.scope, "me": me}
        )

    def _authenticate(self, request: Request, scope: str) -> Response | None:
        value = request.bearer_token() or str(_first(request.params().get("access_token")) or "")
        token = self.tokens.get(value)
        if not value:
            return _error(401, "unauthorized", "No access token was provided in the request.")
        if token is None or token.revoked:
            return _error(401, "unauthorized", "The access token is invalid or was revoked.")
        if scope not in token.scope.split() and "create" not in token.scope.split():
            return _error(401, "insufficient_scope", f"The token does not have the {scope} scope.")
        return None

    # --- Micropub ---------------------------------------------------------------------------
    def _query(self, request: Request) -> Response:
        refused = self._authenticate(request, "create")
        if refused is not None:
            return refused
        q = str(_first(request.query.get("q")) or "")
        base = request.base_url
        if q == "config":
            config: dict[str, Any] = {
                "q": ["config", "syndicate-to"] + (["source"] if self.source else []),
                "syndicate-to": [],
            }
            if self.media_endpoint:
                config["media-endpoint"] = f"{base}/media"
            return Response.json(200, config)
        if q == "source" and self.source:
            url = str(_first(request.query.get("url")) or "")
            if url:
                entry = next((e for e in self.entries if e["url"] == url), None)
                if entry is None:
                    return _error(
                        400, "invalid_request", "The post with the requested URL was not found."
                    )
                return Response.json(200, {"type": ["h-entry"], "properties": entry["properties"]})
            if not self.listing:
                return _error(400, "invalid_request", "url is required.")
            limit = int(str(_first(request.query.get("limit")) or "10"))
            items = [
                {"type": ["h-entry"], "properties": e["properties"]} for e in reversed(self.entries)
            ][:limit]
            return Response.json(200, {"items": items})
        return _error(400, "invalid_request", f"Unsupported query {q!r}.")

    def _upload(self, request: Request) -> Response:
        refused = self._authenticate(request, "media")
        if refused is not None:
            return refused
        upload = request.params().get("file")
        if not isinstance(upload, UploadedFile) or not upload.data:
            return _error(400, "invalid_request", "A multipart file named 'file' is required.")
        return Response(201, b"", headers=[("Location", self._store(upload, request.base_url))])

    def _store(self, upload: UploadedFile, base: str) -> str:
        digest = hashlib.sha256(upload.data).hexdigest()
        name = f"{digest[:16]}.{_TYPES.get(upload.content_type, 'bin')}"
        self.media[name] = {
            "url": f"{base}/media/{name}",
            "filename": upload.filename,
            "content_type": upload.content_type,
            "size": len(upload.data),
            "sha256": digest,
            "data": upload.data,
        }
        return str(self.media[name]["url"])

    def _create(self, request: Request) -> Response:
        refused = self._authenticate(request, "create")
        if refused is not None:
            return refused
        params = request.params()
        if isinstance(params.get("properties"), dict):
            if _values(params.get("type")) != ["h-entry"]:
                return _error(400, "invalid_request", "Only h-entry posts are supported.")
            props = {k: _values(v) for k, v in params["properties"].items()}
        elif params.get("h") == "entry":
            props = self._form_properties(params, request.base_url)
        else:
            return _error(400, "invalid_request", "The request has no h=entry nor type.")
        slug_hint = str(_first(props.pop("mp-slug", [])) or "")
        for command in [k for k in props if k.startswith("mp-")]:
            props.pop(command)
        if not (props.get("content") or props.get("name") or props.get("photo")):
            return _error(400, "invalid_request", "A post needs content, a name or a photo.")
        return self._publish(props, slug_hint, request)

    def _form_properties(self, params: dict[str, Any], base: str) -> dict[str, list[Any]]:
        props: dict[str, list[Any]] = {}
        for key, value in params.items():
            if key in ("h", "access_token", "photo"):
                continue
            props[key] = _values(value)
        alts = [str(a) for a in _values(params.get("mp-photo-alt"))]
        photos: list[Any] = []
        for number, photo in enumerate(_values(params.get("photo"))):
            url = self._store(photo, base) if isinstance(photo, UploadedFile) else str(photo)
            alt = alts[number] if number < len(alts) else ""
            photos.append({"value": url, "alt": alt} if alt else url)
        if photos:
            props["photo"] = photos
        return props

    def _publish(self, props: dict[str, list[Any]], slug_hint: str, request: Request) -> Response:
        name = str(_first(props.get("name")) or "")
        slug = _SLUG.sub("-", (slug_hint or name).lower()).strip("-") or str(len(self.entries) + 1)
        stamp = time.gmtime(request.now)
        url = f"{request.base_url}/{stamp.tm_year:04d}/{stamp.tm_mon:02d}/{slug}"
        taken = {e["url"] for e in self.entries}
        candidate, n = url, 1
        while candidate in taken:
            n += 1
            candidate = f"{url}-{n}"
        props.setdefault("published", [time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp)])
        props["url"] = [candidate]
        self.entries.append({"url": candidate, "properties": props})
        return Response(201, b"", headers=[("Location", candidate)])
