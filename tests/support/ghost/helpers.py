"""What the Ghost tests share, against the sandbox and the real Ghost alike: a transport that can
lose an answer after the server handled the request, the app's runtime driven by a fake clock,
test photos, and reading images back out of HTML."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from PIL import Image as PILImage

from staffetta.core.clock import FakeClock
from staffetta.core.model import Account
from staffetta.runtime import Runtime

BODY = """## What changed

Staffetta now publishes to **Ghost** with *emphasis*, [a link](https://example.org/a?b=1&c=2)
and lists:

- first point
- second point

1. one
2. two
"""


@dataclass
class Rule:
    """What to do to a request matching ``method`` and ``path`` (a regular expression), once,
    after letting ``skip`` matching ones through: ``"drop"`` = forward it, then lose the answer
    (a ReadError: the server did handle it); a status number = answer that instead, without
    forwarding."""

    method: str
    path: str
    action: str | int
    skip: int = 0


class Spy(httpx.AsyncBaseTransport):
    """Forwards every request to the server and logs it; :attr:`rules` interfere once each."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.log: list[tuple[str, str, str, int | None]] = []  # method, path, query, status
        self.rules: list[Rule] = []

    def _rule_for(self, request: httpx.Request) -> Rule | None:
        for rule in self.rules:
            if rule.method == request.method and re.search(rule.path, request.url.path):
                if rule.skip:
                    rule.skip -= 1
                    continue
                self.rules.remove(rule)
                return rule
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        rule = self._rule_for(request)
        path, query = request.url.path, request.url.query.decode()
        if rule is not None and isinstance(rule.action, int):
            self.log.append((request.method, path, query, rule.action))
            return httpx.Response(
                rule.action,
                json={"errors": [{"message": "Injected by the test", "type": "InternalError"}]},
                request=request,
            )
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        if rule is not None and rule.action == "drop":
            self.log.append((request.method, path, query, None))
            raise httpx.ReadError("connection reset by peer", request=request)
        self.log.append((request.method, path, query, response.status_code))
        # The body is already decoded (Ghost gzips its JSON): pass it on as it is now.
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    def calls(self, method: str, path: str) -> list[tuple[str, int | None]]:
        """(query, status) of every ``method`` request whose path matches ``path``."""
        return [(q, s) for m, p, q, s in self.log if m == method and re.search(path, p)]

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class World:
    """The app as the window runs it: a runtime (in-memory keyring, fake clock) and its client."""

    runtime: Runtime
    http: httpx.AsyncClient
    spy: Spy
    clock: FakeClock
    site_url: str
    key: str
    extra: dict[str, Any] = field(default_factory=dict)

    async def connect(self, key: str | None = None, **settings: str) -> Account:
        return await self.runtime.connect(
            self.http,
            "ghost",
            "",
            {"site_url": self.site_url, **settings},
            self.key if key is None else key,
        )

    async def settle(self) -> None:
        """Run the engine until it has nothing left to do by itself (time jumps, no sleeping)."""
        engine = self.runtime.engine(self.http, rng=random.Random(7))
        for _ in range(100):
            await engine.run_once()
            wake = engine.next_wakeup()
            if wake is None:
                return
            self.clock.advance_to(max(wake, self.clock.now()))
        raise AssertionError("the engine never became idle")


def photo(path: Path, colour: tuple[int, int, int]) -> str:
    """A JPEG with camera and GPS tags (which must not reach the site)."""
    picture = PILImage.new("RGB", (900, 600), colour)
    picture.paste((250, 180, 0), (300, 200, 600, 400))
    exif = PILImage.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (45.0, 26.0, 0.0)}
    picture.save(path, "JPEG", exif=exif, quality=92)
    return str(path)


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append({k: v or "" for k, v in attrs})


def images_in(content: str) -> list[dict[str, str]]:
    parser = _Images()
    parser.feed(content)
    return parser.images
