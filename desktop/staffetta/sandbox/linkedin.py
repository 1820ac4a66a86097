"""LinkedIn for the sandbox: OAuth, the OpenID userinfo, the Images and Posts APIs.

Routes: ``GET /oauth/v2/authorization`` (approves at once for the configured member; the redirect
URL must be exactly the registered one), ``POST /oauth/v2/accessToken`` (code + client secret, PKCE
checked when sent; tokens last ``token_lifetime``, 60 days), ``GET /v2/userinfo``, ``POST
/rest/images?action=initializeUpload`` with ``PUT /_upload/<id>``, ``POST /rest/posts`` (201 with
``x-restli-id``) and ``GET /rest/posts?q=author``.

Every ``/rest`` call must carry ``Linkedin-Version`` (YYYYMM) and ``X-Restli-Protocol-Version:
2.0.0``. The commentary is read as "little" text, independently of the client: ``\\x`` is a
literal ``x``, ``{hashtag|\\#|tag}`` a hashtag, ``@[Name](urn:…)`` a mention, and — as LinkedIn
does — the text is cut at the first reserved character that is neither escaped nor part of an
element. What a reader sees is kept as ``text``. A repeat of a post is refused with 422 "Content
is a duplicate of urn:li:share:…"; an expired token gets 401 ``EXPIRED_ACCESS_TOKEN``.

Options: ``client_id`` ("sandbox-li-client"), ``client_secret`` ("sandbox-li-secret"),
``redirect_uri`` ("http://127.0.0.1:8765/callback"), ``member`` ("Demo Member"),
``token_lifetime`` (5184000), ``read_posts`` (True; False: 403 as without r_member_social),
``organizations`` (ids the member administers, default ["2414183"]).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from staffetta.sandbox.platform import Platform, Request, Response, with_query

DEFAULT_REDIRECT = "http://127.0.0.1:8765/callback"
RESERVED = set("|{}@[]()<>#\\*_~")
_HASHTAG = re.compile(r"\{hashtag\|\\#\|((?:\\.|[^\\{}|])+)\}")
_MENTION = re.compile(r"@\[((?:\\.|[^\\\]])+)\]\((urn:li:[a-zA-Z]+:[\w-]+)\)")
_OPTIONS = frozenset(
    {"client_id", "client_secret", "redirect_uri", "member", "token_lifetime", "read_posts"}
    | {"organizations"}
)


def error(status: int, code: str, message: str, service: int = 0) -> Response:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if service:
        body["serviceErrorCode"] = service
    return Response.json(status, body)


def read_little(commentary: str) -> tuple[str, list[str], bool]:
    """What readers see of a little-text commentary, its hashtags, and whether it was cut."""
    shown: list[str] = []
    tags: list[str] = []
    i = 0
    while i < len(commentary):
        char = commentary[i]
        if char == "\\" and i + 1 < len(commentary):
            shown.append(commentary[i + 1])
            i += 2
            continue
        hashtag = _HASHTAG.match(commentary, i)
        if hashtag:
            tag = re.sub(r"\\(.)", r"\1", hashtag.group(1))
            tags.append(tag)
            shown.append("#" + tag)
            i = hashtag.end()
            continue
        mention = _MENTION.match(commentary, i)
        if mention:
            shown.append(re.sub(r"\\(.)", r"\1", mention.group(1)))
            i = mention.end()
            continue
        if char in RESERVED:
            return "".join(shown), tags, True  # LinkedIn stops here
        shown.append(char)
        i += 1
    return "".join(shown), tags, False


@dataclass(slots=True)
class _Grant:
    redirect_uri: str
    challenge: str
    scopes: list[str]
    created: float


class LinkedInPlatform(Platform):
    """One LinkedIn. See the module doc for routes and options."""

    type_name = "linkedin"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self._serial = 7_300_000_000_000_000_000
        self.reset()

    def reset(self) -> None:
        self.client_id = "sandbox-li-client"
        self.client_secret = "sandbox-li-secret"  # noqa: S105 - the sandbox's own app
        self.redirect_uri = DEFAULT_REDIRECT
        self.member = "Demo Member"
        self.member_id = "aBcD3fGh1"
        self.token_lifetime = 5_184_000.0
        self.read_posts = True
        self.organizations = ["2414183"]
        self.grants: dict[str, _Grant] = {}
        self.tokens: dict[str, tuple[float, list[str], bool]] = {}  # expires, scopes, revoked
        self.images: dict[str, dict[str, Any]] = {}
        self.entries: list[dict[str, Any]] = []

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"linkedin has no options {sorted(unknown)}")
        for key in ("client_id", "client_secret", "redirect_uri", "member"):
            if key in options:
                setattr(self, key, str(options[key]))
        if "token_lifetime" in options:
            self.token_lifetime = float(options["token_lifetime"])
        if "read_posts" in options:
            self.read_posts = bool(options["read_posts"])
        if "organizations" in options:
            self.organizations = [str(o) for o in options["organizations"]]

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(p)) for p in self.entries]

    def uploads(self) -> list[dict[str, Any]]:
        return [dict(image) for image in self.images.values() if image.get("bytes")]

    def issue_token(self, username: str = "demo") -> str:
        return str(self.issue_grant()["access_token"])

    def issue_grant(self, scopes: list[str] | None = None) -> dict[str, Any]:
        token = secrets.token_urlsafe(48)
        granted = scopes or ["openid", "profile", "w_member_social", "w_organization_social"]
        self.tokens[token] = (self.clock() + self.token_lifetime, granted, False)
        return {
            "access_token": token,
            "expires_in": int(self.token_lifetime),
            "scope": ",".join(granted),
            "token_type": "Bearer",
        }

    def revoke_tokens(self) -> None:
        self.tokens = {t: (e, s, True) for t, (e, s, _r) in self.tokens.items()}

    # --- routing --------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        method, path = request.method, request.path
        if (method, path) == ("GET", "/oauth/v2/authorization"):
            return self._authorize(request)
        if (method, path) == ("POST", "/oauth/v2/accessToken"):
            return self._token(request)
        upload = re.fullmatch(r"/_upload/([\w-]+)", path)
        scopes = self._scopes(request)
        if isinstance(scopes, Response):
            return scopes
        if (method, path) == ("GET", "/v2/userinfo"):
            return Response.json(
                200, {"sub": self.member_id, "name": self.member, "locale": {"language": "en"}}
            )
        if upload and method == "PUT":
            return self._put_image(request, upload.group(1))
        if path.startswith("/rest/"):
            version = request.header("linkedin-version")
            if not re.fullmatch(r"20\d{4}", version):
                return error(400, "VERSION_MISSING", "A valid Linkedin-Version header is required")
            if request.header("x-restli-protocol-version") != "2.0.0":
                return error(400, "PROTOCOL", "X-Restli-Protocol-Version 2.0.0 is required")
        if (method, path) == ("POST", "/rest/images"):
            return self._init_image(request)
        if (method, path) == ("POST", "/rest/posts"):
            return self._create_post(request, scopes)
        if (method, path) == ("GET", "/rest/posts"):
            return self._list_posts(request)
        return error(404, "NOT_FOUND", f"No resource {method} {path}")

    def _scopes(self, request: Request) -> list[str] | Response:
        found = self.tokens.get(request.bearer_token() or "")
        if found is None:
            return error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
        expires, scopes, revoked = found
        if revoked:
            return error(
                401, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked "
                "by the user", 65601,
            )  # fmt: skip
        if expires <= request.now:
            return error(
                401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65602
            )
        return scopes

    # --- sign-in --------------------------------------------------------------------------
    def _authorize(self, request: Request) -> Response:
        q = {k: str(v) for k, v in request.query.items()}
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or redirect != self.redirect_uri:
            return Response.text(
                400, "The redirect_uri does not match the registered value", "text/html"
            )
        state = q.get("state", "")
        if q.get("response_type") != "code":
            return Response.redirect(
                with_query(redirect, {"error": "unsupported_response_type", "state": state})
            )
        code = secrets.token_urlsafe(32)
        self.grants[code] = _Grant(
            redirect, q.get("code_challenge", ""), q.get("scope", "").split(), request.now
        )
        return Response.redirect(with_query(redirect, {"code": code, "state": state}))

    def _token(self, request: Request) -> Response:
        params = request.params()
        if (
            str(params.get("client_id") or "") != self.client_id
            or str(params.get("client_secret") or "") != self.client_secret
        ):
            return Response.json(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        grant = self.grants.pop(str(params.get("code") or ""), None)
        invalid = {"error": "invalid_request", "error_description": "Unable to retrieve access "
                   "token: appid/redirect uri/code verifier does not match authorization code "
                   "or authorization code expired"}  # fmt: skip
        if grant is None or request.now - grant.created > 1800:
            return Response.json(400, invalid)
        if str(params.get("redirect_uri") or "") != grant.redirect_uri:
            return Response.json(400, invalid)
        if grant.challenge:
            verifier = str(params.get("code_verifier") or "").encode("ascii", "replace")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if not secrets.compare_digest(digest.decode(), grant.challenge):
                return Response.json(400, invalid)
        return Response.json(200, self.issue_grant(grant.scopes))

    # --- images ---------------------------------------------------------------------------
    def _init_image(self, request: Request) -> Response:
        if request.query.get("action") != "initializeUpload":
            return error(400, "BAD_ACTION", "Unknown action")
        params = request.params()
        owner = (params.get("initializeUploadRequest") or {}).get("owner")
        if not self._may_author(str(owner or "")):
            return error(403, "ACCESS_DENIED", f"Not enough permissions to upload for {owner}")
        self._serial += 1
        image_id = str(self._serial)
        urn = f"urn:li:image:C4D{image_id}"
        self.images[image_id] = {"urn": urn, "owner": owner, "bytes": 0}
        return Response.json(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": int((request.now + 3600) * 1000),
                    "uploadUrl": f"{request.base_url}/_upload/{image_id}",
                    "image": urn,
                }
            },
        )

    def _put_image(self, request: Request, image_id: str) -> Response:
        found = self.images.get(image_id)
        if found is None:
            return error(404, "NOT_FOUND", "Unknown upload")
        try:
            picture = Image.open(io.BytesIO(request.body))
            picture.load()
        except (UnidentifiedImageError, OSError):
            return error(400, "BAD_IMAGE", "The image could not be processed")
        found.update(bytes=len(request.body), width=picture.width, height=picture.height)
        return Response(201)

    # --- posts ----------------------------------------------------------------------------
    def _may_author(self, author: str) -> bool:
        if author == f"urn:li:person:{self.member_id}":
            return True
        match = re.fullmatch(r"urn:li:organization:(\d+)", author)
        return bool(match and match.group(1) in self.organizations)

    def _create_post(self, request: Request, scopes: list[str]) -> Response:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return error(400, "BAD_REQUEST", "The body is not JSON")
        author = str(body.get("author") or "")
        needed = "w_organization_social" if ":organization:" in author else "w_member_social"
        if needed not in scopes or not self._may_author(author):
            return error(403, "ACCESS_DENIED", f"Not enough permissions to post as {author}")
        commentary = body.get("commentary")
        if not isinstance(commentary, str) or body.get("lifecycleState") != "PUBLISHED":
            return error(422, "UNPROCESSABLE", "commentary and lifecycleState are required")
        content = body.get("content") or {}
        media = [content["media"]] if "media" in content else []
        media += (content.get("multiImage") or {}).get("images") or []
        for item in media:
            if not any(i["urn"] == item.get("id") and i["bytes"] for i in self.images.values()):
                return error(422, "UNPROCESSABLE", f"Image {item.get('id')} is not uploaded")
        for old in self.entries:
            if old["author"] == author and old["commentary"] == commentary and not media:
                return error(
                    422,
                    "DUPLICATE_POST",
                    "com.linkedin.content.common.exception.BadRequestResponseException: Content "
                    f"is a duplicate of {old['id']}",
                )
        text, tags, cut = read_little(commentary)
        self._serial += 1
        entry = {
            "id": f"urn:li:share:{self._serial}",
            "author": author,
            "commentary": commentary,
            "text": text,
            "hashtags": tags,
            "truncated": cut,
            "content": content,
            "createdAt": int(request.now * 1000),
            "version": request.header("linkedin-version"),
        }
        self.entries.append(entry)
        return Response(201, b"", headers=[("x-restli-id", str(entry["id"]))])

    def _list_posts(self, request: Request) -> Response:
        if request.query.get("q") != "author":
            return error(400, "BAD_REQUEST", "Only the author finder is available")
        if not self.read_posts:
            return error(403, "ACCESS_DENIED", "Not enough permissions to access posts")
        author = str(request.query.get("author") or "")
        count = int(str(request.query.get("count") or 10))
        mine = [e for e in reversed(self.entries) if e["author"] == author][:count]
        elements = [
            {k: e[k] for k in ("id", "author", "commentary", "createdAt", "content")} for e in mine
        ]
        return Response.json(200, {"elements": elements, "paging": {"count": count}})
