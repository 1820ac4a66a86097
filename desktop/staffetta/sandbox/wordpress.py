"""A small WordPress for the sandbox: the REST API subset Staffetta uses, answering as WordPress
6.1 does (checked against the real one that tests/integration/test_wordpress_real.py starts).

Routes (``/wp-json`` API root): ``GET /wp-json/`` (the index, advertising the approval page),
``GET /wp/v2/users/me``, ``POST /wp/v2/media`` (raw bytes + ``Content-Disposition``),
``GET|POST /wp/v2/media/<id>``, ``GET|POST /wp/v2/tags`` and ``/wp/v2/categories`` (``search``;
a second create answers 400 ``term_exists`` with the ``term_id``), ``GET|POST /wp/v2/posts``
(``slug``, ``status=any``), ``GET /wp/v2/posts/<id>``; ``GET /`` with the API ``Link`` header;
``GET /wp-admin/authorize-application.php`` (no human here: approves at once and redirects to
``success_url`` with ``site_url``, ``user_login`` and ``password``); ``/wp-content/uploads/…``.

Authentication is HTTP Basic with an application password (:meth:`issue_token` makes one). A
wrong one answers what WordPress answers: 401 ``rest_not_logged_in`` on reads, 401
``rest_cannot_create`` on writes.
"""

from __future__ import annotations

import base64
import html
import re
import secrets
from collections.abc import Callable
from typing import Any

from staffetta.sandbox.platform import Platform, Request, Response, iso_timestamp, with_query

API = "/wp-json"
_SLUG = re.compile(r"[^a-z0-9]+")
_FILENAME = re.compile(r'filename="?([^";]+)"?')


def wp_error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"code": code, "message": message, "data": {"status": status}})


def _slugify(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


class WordPressPlatform(Platform):
    """One WordPress site with one author (``username``, default ``demo``)."""

    type_name = "wordpress"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self._counter = 0
        self.username = "demo"
        self.passwords: dict[str, str] = {}  # password -> user
        self.items: dict[int, dict[str, Any]] = {}  # posts and media, WordPress's one table
        self.terms: dict[str, list[dict[str, Any]]] = {"tags": [], "categories": []}
        self.files: dict[str, bytes] = {}

    # --- Platform interface ---------------------------------------------------------------
    def reset(self) -> None:
        self.username = "demo"
        self.passwords.clear()
        self.items.clear()
        self.terms = {"tags": [], "categories": []}
        self.files.clear()

    def posts(self) -> list[dict[str, Any]]:
        return [dict(i) for i in self.items.values() if i["type"] == "post"]

    def uploads(self) -> list[dict[str, Any]]:
        return [dict(i) for i in self.items.values() if i["type"] == "attachment"]

    def issue_token(self, username: str = "demo") -> str:
        password = " ".join(secrets.token_hex(2) for _ in range(6))
        self.passwords[password] = username
        return password

    def revoke_tokens(self) -> None:
        self.passwords.clear()

    # --- requests -------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path
        if request.method == "GET" and path == "/":
            page = Response.text(200, "<html><body>A sandbox WordPress</body></html>", "text/html")
            page.headers.append(("Link", f'<{request.base_url}{API}/>; rel="https://api.w.org/"'))
            return page
        if request.method == "GET" and path == "/wp-admin/authorize-application.php":
            return self._approve(request)
        if request.method == "GET" and path.startswith("/wp-content/uploads/"):
            data = self.files.get(path.rsplit("/", 1)[1])
            return Response(200, data, "image/jpeg") if data else Response.text(404, "Not found")
        if not path.startswith(API):
            return Response.text(404, "Not found")
        route = path[len(API) :].rstrip("/") or "/"
        if route == "/":
            return self._index(request)
        user = self._user(request)
        writing = request.method != "GET"
        if user is None:
            if writing:
                what = "upload files" if "/media" in route else "create posts"
                return wp_error(
                    401, "rest_cannot_create", f"Sorry, you are not allowed to {what} as this user."
                )
            return wp_error(401, "rest_not_logged_in", "You are not currently logged in.")
        return self._api(request, route, user)

    def _user(self, request: Request) -> str | None:
        scheme, _, value = request.header("authorization").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        return user if self.passwords.get(password) == user else None

    def _index(self, request: Request) -> Response:
        endpoint = f"{request.base_url}/wp-admin/authorize-application.php"
        return Response.json(
            200,
            {
                "name": f"Staffetta sandbox ({self.name})",
                "url": request.base_url,
                "namespaces": ["oembed/1.0", "wp/v2"],
                "authentication": {
                    "application-passwords": {"endpoints": {"authorization": endpoint}}
                },
            },
        )

    def _approve(self, request: Request) -> Response:
        success = str(request.query.get("success_url") or "")
        if not success:
            return Response.text(200, "Your new password for Staffetta is shown here.")
        answer = {
            "site_url": request.base_url,
            "user_login": self.username,
            "password": self.issue_token(self.username),
        }
        return Response.redirect(with_query(success, answer))

    def _api(self, request: Request, route: str, user: str) -> Response:
        method = request.method
        if route == "/wp/v2/users/me":
            return Response.json(
                200,
                {"id": 1, "username": user, "name": user.capitalize(),
                 "capabilities": {"edit_posts": True, "upload_files": True}},
            )  # fmt: skip
        if route == "/wp/v2/media" and method == "POST":
            return self._upload(request)
        match = re.fullmatch(r"/wp/v2/(media|posts)/(\d+)", route)
        if match:
            item = self.items.get(int(match.group(2)))
            if item is None or item["type"] != {"media": "attachment", "posts": "post"}[match[1]]:
                return wp_error(404, "rest_post_invalid_id", "Invalid post ID.")
            if method == "POST" and match.group(1) == "media":
                alt = request.params().get("alt_text")
                if isinstance(alt, str):
                    item["alt_text"] = html.escape(alt.strip(), quote=False)
            return Response.json(200, item)
        match = re.fullmatch(r"/wp/v2/(tags|categories)", route)
        if match:
            return self._terms(request, match.group(1))
        if route == "/wp/v2/posts":
            return self._create(request, user) if method == "POST" else self._list(request)
        return wp_error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )

    def _next_id(self) -> int:
        self._counter += 1
        return self._counter

    def _upload(self, request: Request) -> Response:
        found = _FILENAME.search(request.header("content-disposition"))
        if not found or not request.body:
            return wp_error(
                400, "rest_upload_no_content_disposition", "No Content-Disposition supplied."
            )
        media_id, name = self._next_id(), found.group(1)
        self.files[name] = request.body
        self.items[media_id] = {
            "id": media_id,
            "type": "attachment",
            "slug": _slugify(name.rsplit(".", 1)[0]),
            "alt_text": "",
            "mime_type": request.header("content-type"),
            "size": len(request.body),
            "source_url": f"{request.base_url}/wp-content/uploads/{name}",
        }
        return Response.json(201, self.items[media_id])

    def _terms(self, request: Request, taxonomy: str) -> Response:
        terms = self.terms[taxonomy]
        if request.method == "GET":
            search = str(request.query.get("search") or "").lower()
            return Response.json(200, [t for t in terms if search in t["name"].lower()])
        name = str(request.params().get("name") or "").strip()
        if not name:
            return wp_error(400, "rest_missing_callback_param", "Missing parameter(s): name")
        existing = next((t for t in terms if t["name"].lower() == name.lower()), None)
        if existing is not None:
            said = "A term with the name provided already exists."
            data = {"status": 400, "term_id": existing["id"]}
            return Response.json(400, {"code": "term_exists", "message": said, "data": data})
        term = {"id": self._next_id(), "name": html.escape(name), "slug": _slugify(name)}
        terms.append(term)
        return Response.json(201, term)

    def _create(self, request: Request, user: str) -> Response:
        params = request.params()
        status = str(params.get("status") or "draft")
        if status not in ("publish", "draft", "future", "pending", "private"):
            return wp_error(400, "rest_invalid_param", "Invalid parameter(s): status")
        slug = _slugify(str(params.get("slug") or params.get("title") or "")) or "post"
        taken = {i["slug"] for i in self.items.values() if i["type"] == "post"}
        unique, n = slug, 1
        while unique in taken:
            n += 1
            unique = f"{slug}-{n}"
        post_id = self._next_id()
        post = {
            "id": post_id,
            "type": "post",
            "date_gmt": str(params.get("date_gmt") or iso_timestamp(request.now)[:19]),
            "slug": unique,
            "status": status,
            "link": f"{request.base_url}/{unique}/",
            "title": {
                "raw": str(params.get("title") or ""),
                "rendered": str(params.get("title") or ""),
            },
            "content": {"raw": str(params.get("content") or "")},
            "featured_media": int(params.get("featured_media") or 0),
            "tags": list(params.get("tags") or []),
            "categories": list(params.get("categories") or []),
            "author": user,
        }
        self.items[post_id] = post
        return Response.json(201, post)

    def _list(self, request: Request) -> Response:
        slug = str(request.query.get("slug") or "")
        status = str(request.query.get("status") or "publish")
        found = [
            i
            for i in self.items.values()
            if i["type"] == "post"
            and (not slug or i["slug"] == slug)
            and (status == "any" or i["status"] == status)
        ]
        return Response.json(200, found)
