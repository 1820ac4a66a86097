"""What every sandbox platform is to the server: a name, a request handler, state and a reset.

The server parses HTTP, applies faults and rate limits, and hands each request that reaches the
"application" to :meth:`Platform.handle` as a :class:`Request`; the platform answers with a
:class:`Response`. Platforms never see sockets, so faults and networking live in one place.
"""

from __future__ import annotations

import abc
import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file part of a multipart/form-data body."""

    filename: str
    content_type: str
    data: bytes


# A parsed body or query: plain fields are str, repeated or ``name[]`` fields are lists, JSON
# values keep their JSON type, multipart files are UploadedFile.
Params = dict[str, Any]


@dataclass(slots=True)
class Request:
    """One HTTP request as a platform sees it.

    ``path`` is relative to the instance (``/api/v1/statuses`` whether the client used the
    instance's own port or the ``/<instance>`` prefix on the main port); ``base_url`` is the
    instance base URL the client used, for building absolute URLs in answers.
    """

    method: str
    path: str
    query: Params
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    base_url: str
    now: float

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def bearer_token(self) -> str | None:
        scheme, _, value = self.header("authorization").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None

    def params(self) -> Params:
        """Query parameters merged with the body (form, JSON object or multipart)."""
        merged = dict(self.query)
        merged.update(parse_body(self.header("content-type"), self.body))
        return merged


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return cls(status, body, headers=list(headers or []))

    @classmethod
    def text(
        cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8"
    ) -> Response:
        return cls(status, text.encode(), content_type)

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(302, b"", "text/html; charset=utf-8", [("Location", location)])


def _add(params: Params, key: str, value: Any) -> None:
    if key.endswith("[]"):
        params.setdefault(key[:-2], []).append(value)
    elif key in params:
        previous = params[key]
        params[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
    else:
        params[key] = value


def parse_query(query: str) -> Params:
    params: Params = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        for value in values:
            _add(params, key, value)
    return params


def parse_body(content_type: str, body: bytes) -> Params:
    """Parse a form, JSON or multipart body; anything unparseable yields no parameters."""
    if not body:
        return {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or (not kind and body.lstrip()[:1] == b"{"):
        try:
            value = json.loads(body)
        except ValueError:
            return {}
        return dict(value) if isinstance(value, dict) else {}
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, body)
    return parse_query(body.decode("utf-8", "replace"))


def _parse_multipart(content_type: str, body: bytes) -> Params:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: Params = {}
    if not message.is_multipart():
        return params
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            value: Any = UploadedFile(filename, part.get_content_type(), data)
        else:
            value = data.decode(part.get_content_charset() or "utf-8", "replace")
        _add(params, name, value)
    return params


def iso_timestamp(when: float) -> str:
    """ISO 8601 in UTC with milliseconds (``2026-01-02T03:04:05.678Z``), as Mastodon writes."""
    millis = int(when * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{millis:03d}Z"


def with_query(url: str, params: Mapping[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


class Platform(abc.ABC):
    """Base class of one platform instance (``mastodon``, ``mastodon2``…).

    Subclasses set ``type_name``, implement :meth:`handle`, :meth:`reset`, :meth:`posts`,
    :meth:`issue_token` and :meth:`revoke_tokens`, and list themselves in
    ``staffetta.sandbox.registry.PLATFORM_TYPES``. The server calls :meth:`handle` with
    :attr:`lock` held, so a handler may mutate state freely; ``options`` are applied through
    :meth:`configure` (constructor options of the server and ``POST /_sandbox/<name>/config``).
    """

    type_name: ClassVar[str]

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        self.name = name
        self.clock = clock
        self.lock = threading.RLock()

    @abc.abstractmethod
    def handle(self, request: Request) -> Response:
        """Answer one request that reached the application (after faults and rate limits)."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget all data (posts, media, apps, tokens) and restore the default configuration."""

    @abc.abstractmethod
    def posts(self) -> list[dict[str, Any]]:
        """What was published, oldest first, as the platform's own entities (JSON-ready)."""

    @abc.abstractmethod
    def issue_token(self, username: str = "demo") -> str:
        """Mint an access token for ``username`` without the OAuth dance."""

    @abc.abstractmethod
    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far; later requests with them get 401."""

    def uploads(self) -> list[dict[str, Any]]:
        """Media received (sizes, hashes, alt text), oldest first; none by default."""
        return []

    def loggable_path(self, path: str) -> str:
        """``path`` as the request log may keep it: platforms whose URLs carry a credential
        (Telegram's ``/bot<token>/``, Discord's webhook token) blank it here."""
        return path

    def configure(self, options: Mapping[str, Any]) -> None:
        """Apply options; unknown names raise ``ValueError``."""
        if options:
            raise ValueError(f"{self.type_name} has no options {sorted(options)}")
