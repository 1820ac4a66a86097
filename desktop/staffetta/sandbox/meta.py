"""A sandbox Meta: Facebook Login and Pages, Instagram and Threads behind one port.

Every Meta host is a path prefix of the instance, so ``https://graph.facebook.com/v25.0/me``
becomes ``<instance>/graph.facebook.com/v25.0/me`` (the channels' ``api_url`` setting). Hosts:

- ``www.facebook.com``, ``www.instagram.com``, ``threads.com`` (and ``threads.net``): the
  authorization pages (:mod:`staffetta.sandbox.meta_auth`);
- ``graph.facebook.com``, ``api.instagram.com``, ``graph.instagram.com``, ``graph.threads.net``:
  token exchanges and the Graph APIs (:mod:`staffetta.sandbox.meta_graph`).

``GET /files/<name>`` serves the folder given as the ``files_dir`` option: a public image host for
the demo and the tests, from which the sandbox downloads ``image_url`` like Meta does.

Options (``configure`` / ``POST /_sandbox/<name>/config``): ``username`` (the person the
authorization page signs in), ``account_type`` (``BUSINESS``; ``PERSONAL`` to see Instagram refuse),
``redirect_uris`` (the app's registered redirect URIs; none = loopback accepted),
``processing_polls`` (status reads a container stays IN_PROGRESS), ``ig_quota`` (50),
``threads_quota`` (250), ``files_dir``, ``throttle`` (``{"code": 4|17|32|613|80001…, "count": n,
"minutes": m}``: the next n Graph calls get Meta's throttling error with
``X-Business-Use-Case-Usage``), ``publish_then_error`` (the next n publishes go out, then
answer error 2 — Meta's "unknown error" after the fact) and ``container_lifetime``. Outages are the
server's own faults (``down``, ``503``...), which take every Meta host down at once, as on
4 October 2021.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from staffetta.sandbox.meta_auth import (
    DEFAULT_APP_ID,
    DEFAULT_APP_SECRET,
    MetaAuth,
    Token,
    User,
    graph_error,
    param_error,
    text,
)
from staffetta.sandbox.meta_graph import Content
from staffetta.sandbox.platform import Platform, Request, Response

__all__ = ["DEFAULT_APP_ID", "DEFAULT_APP_SECRET", "MetaPlatform"]

_VERSION = re.compile(r"/v\d+\.\d+")
_OPTIONS = frozenset(
    {
        "username",
        "account_type",
        "redirect_uris",
        "processing_polls",
        "ig_quota",
        "threads_quota",
        "files_dir",
        "throttle",
        "publish_then_error",
        "container_lifetime",
    }
)
_CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


class MetaPlatform(Platform):
    """Facebook, Instagram and Threads APIs of one sandbox Meta."""

    type_name = "meta"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        super().__init__(name, clock)
        self.auth = MetaAuth()
        self.content = Content()
        self.throttle: dict[str, int] = {}
        self.reset()

    # --- Platform interface ---------------------------------------------------------------

    def reset(self) -> None:
        self.auth.reset()
        self.auth.default_username = "demo"
        self.content.reset()
        self.content.files_dir = None
        self.content.processing_polls = 1
        self.content.ig_quota, self.content.threads_quota = 50, 250
        self.content.container_lifetime = 86400.0
        self.throttle = {}
        self.account_type = "BUSINESS"

    def posts(self) -> list[dict[str, Any]]:
        found = [dict(p) for p in self.content.fb_posts]
        found += [dict(m) for m in self.content.media]
        return sorted(found, key=lambda p: p.get("created_at", p.get("published_at", 0.0)))

    def uploads(self) -> list[dict[str, Any]]:
        photos = [{"product": "facebook", **p} for p in self.content.photos.values()]
        return photos + [dict(f) for f in self.content.fetched]

    def issue_token(self, username: str = "demo") -> str:
        """A long-lived token valid on every Meta host (for the demo; tests sign in)."""
        self.auth.user(username)
        return self.auth.issue("any", username, self.clock(), long_lived=True)

    def revoke_tokens(self) -> None:
        self.auth.revoke_all()

    def configure(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(f"meta has no options {sorted(unknown)}")
        content = self.content
        if "username" in options:
            self.auth.default_username = str(options["username"])
        if "account_type" in options:
            self.account_type = str(options["account_type"]).upper()
        if "redirect_uris" in options:
            uris = options["redirect_uris"]
            self.auth.apps[DEFAULT_APP_ID].redirect_uris = [str(u) for u in uris or []]
        for key in ("processing_polls", "ig_quota", "threads_quota", "publish_then_error"):
            if key in options:
                setattr(content, key, max(0, int(options[key])))
        if "container_lifetime" in options:
            content.container_lifetime = float(options["container_lifetime"])
        if "files_dir" in options:
            content.files_dir = Path(str(options["files_dir"])) if options["files_dir"] else None
        if "throttle" in options:
            throttle = options["throttle"]
            if throttle and not isinstance(throttle, Mapping):
                raise ValueError('throttle is {"code": 4, "count": 1, "minutes": 1} or null')
            self.throttle = {k: int(v) for k, v in (throttle or {}).items()}
            self.throttle.setdefault("count", 1)

    # --- routing --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        host, _, rest = request.path.lstrip("/").partition("/")
        path = "/" + rest.rstrip("/")
        if host == "files" and request.method == "GET":
            return self._file(rest)
        if host in ("www.facebook.com", "www.instagram.com", "threads.com", "threads.net"):
            product = {"www.facebook.com": "facebook", "www.instagram.com": "instagram"}.get(
                host, "threads"
            )
            if request.method == "GET" and (
                path.endswith("/dialog/oauth") or path == "/oauth/authorize"
            ):
                return self.auth.authorize(request, product)
            return _not_found(path)
        if host == "api.instagram.com":
            if request.method == "POST" and path == "/oauth/access_token":
                return self.auth.exchange_code(request, "instagram")
            return _not_found(path)
        graph = {
            "graph.facebook.com": "facebook",
            "graph.instagram.com": "instagram",
            "graph.threads.net": "threads",
        }.get(host)
        if graph is None:
            return Response.json(404, {"error": f"the sandbox plays no Meta host {host!r}"})
        product = graph
        path = _VERSION.sub("", path, count=1) if _VERSION.match(path) else path
        exchange = request.method == "POST" or product == "facebook"
        if path == "/oauth/access_token" and product != "instagram" and exchange:
            return self.auth.exchange_code(request, product)
        if path == "/access_token" and product != "facebook":
            return self.auth.long_lived(request, product)
        if path == "/refresh_access_token" and product != "facebook":
            return self.auth.refresh(request, product)
        throttled = self._throttled(request)
        if throttled is not None:
            return throttled
        who = self.auth.authenticate(request, host)
        if isinstance(who, Response):
            return who
        token, user = who
        if product == "facebook":
            return self._facebook(request, path, token, user)
        return self._publishing(request, path, product, user)

    def _throttled(self, request: Request) -> Response | None:
        if self.throttle.get("count", 0) <= 0:
            return None
        self.throttle["count"] -= 1
        code = self.throttle.get("code", 4)
        minutes = self.throttle.get("minutes", 1)
        usage = {
            "0": [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 100,
                    "total_time": 100,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        headers = [
            ("X-Business-Use-Case-Usage", json.dumps(usage)),
            ("X-App-Usage", json.dumps({"call_count": 100, "total_cputime": 8, "total_time": 9})),
        ]
        messages = {
            4: "Application request limit reached",
            17: "User request limit reached",
            32: "Page request limit reached",
            613: "Calls to this api have exceeded the rate limit.",
        }
        message = messages.get(code, "There have been too many calls for this business account.")
        return graph_error(
            400, message, code, kind="OAuthException", transient=True, headers=headers
        )

    def _file(self, name: str) -> Response:
        folder = self.content.files_dir
        if folder is None or "/" in name or name.startswith(".") or not name:
            return Response.text(404, "Not found")
        path = folder / name
        if not path.is_file():
            return Response.text(404, "Not found")
        kind = _CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return Response(200, path.read_bytes(), kind)

    # --- Facebook ---------------------------------------------------------------------------

    def _facebook(self, request: Request, path: str, token: Token, user: User) -> Response:
        method, content = request.method, self.content
        page_token = token.product in ("page", "any")
        if method == "GET" and path == "/me":
            if token.product == "page":
                return Response.json(200, {"id": user.page_id, "name": user.page_name})
            return Response.json(200, {"id": user.fb_id, "name": user.name.capitalize()})
        if method == "GET" and path == "/me/accounts":
            if token.product == "page":
                return param_error("(#100) Tried accessing nonexisting field (accounts)")
            page = {
                "id": user.page_id,
                "name": user.page_name,
                "category": "Artist",
                "access_token": self.auth.page_token(token, request.now),
                "tasks": ["CREATE_CONTENT", "MANAGE", "MODERATE"],
            }
            return Response.json(200, {"data": [page], "paging": {}})
        parts = path.strip("/").split("/")
        if parts[0] == user.page_id and len(parts) == 2 and method == "POST":
            if not page_token:
                return graph_error(
                    403,
                    "(#200) If posting to a page, requires both pages_read_engagement and "
                    "pages_manage_posts as an admin with sufficient administrative permission",
                    200,
                )
            if parts[1] == "photos":
                return content.page_photo(request, user.page_id)
            if parts[1] == "feed":
                return content.page_feed_post(request, user.page_id, user.page_name)
        if method == "GET" and parts == [user.page_id, "feed"]:
            return content.page_feed(request, user.page_id)
        if method == "GET" and parts == [user.page_id]:
            return Response.json(200, {"id": user.page_id, "name": user.page_name})
        if method == "GET" and len(parts) == 1:
            found = content.fb_object(parts[0])
            if found is not None:
                return Response.json(200, found)
        return _not_found(path)

    # --- Instagram and Threads ---------------------------------------------------------------

    def _publishing(self, request: Request, path: str, product: str, user: User) -> Response:
        method, content = request.method, self.content
        own_id = user.ig_id if product == "instagram" else user.threads_id
        if method == "GET" and path == "/me":
            if product == "instagram":
                return Response.json(
                    200,
                    {
                        "id": own_id,
                        "user_id": own_id,
                        "username": user.name,
                        "account_type": self.account_type,
                    },
                )
            return Response.json(200, {"id": own_id, "username": user.name})
        parts = path.strip("/").split("/")
        create, publish, limit = (
            ("media", "media_publish", "content_publishing_limit")
            if product == "instagram"
            else ("threads", "threads_publish", "threads_publishing_limit")
        )
        if len(parts) == 2 and parts[0] in (own_id, "me"):
            action = parts[1]
            if product == "instagram" and self.account_type not in ("BUSINESS", "MEDIA_CREATOR"):
                return graph_error(
                    400, "The user is not an Instagram Business or Creator account.", 10
                )
            if method == "POST" and action == create:
                return content.create_container(request, product, own_id)
            if method == "POST" and action == publish:
                return content.publish(request, product, own_id, user.name, self._publish_fails)
            if method == "GET" and action == limit:
                return Response.json(200, content.limit_answer(product, own_id, request.now))
            if method == "GET" and action in (create, "replies"):
                return content.listing(request, product, own_id, replies=action == "replies")
        if method == "GET" and len(parts) == 1:
            container = content.containers.get(parts[0])
            fields = text(request.query, "fields")
            if (
                container is not None
                and container.user == own_id
                and ("status" in fields or not fields)
            ):
                return Response.json(200, content.status(container, request.now))
            found = content.media_object(parts[0], product)
            if found is not None and "permalink" in fields:
                return Response.json(200, found)
            if container is not None and container.user == own_id:
                return Response.json(200, {"id": container.id})
        return _not_found(path)

    def _publish_fails(self) -> bool:
        if self.content.publish_then_error > 0:
            self.content.publish_then_error -= 1
            return True
        return False


def _not_found(path: str) -> Response:
    return graph_error(
        400,
        f"Unsupported request - method type or object {path!r} does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        100,
        kind="GraphMethodException",
        subcode=33,
    )
