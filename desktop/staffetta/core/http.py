"""The HTTP client every network use shares (engine, sign-in, CLI): one place for its settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from staffetta import __version__

USER_AGENT = f"Staffetta/{__version__} (+https://github.com/staffetta/staffetta)"


def new_http_client() -> httpx.AsyncClient:
    """The one HTTP client the engine shares. TLS verification is always on.

    Its connection pool is built at the first request (see :class:`_PoolOnFirstUse`): a window or a
    ``flush`` with nothing to send never pays for loading the TLS certificates.
    """
    return _PoolOnFirstUse(
        timeout=httpx.Timeout(30.0, connect=10.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


class _PoolOnFirstUse(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose direct connection pool is built when it is first needed.

    Building it loads the system's TLS certificates and httpcore (with whatever async libraries
    that finds installed): about 0.15 s of CPU and 5 MB, which the window's engine would otherwise
    spend at every start, usually with nothing to send. The pool is the one httpx would have built
    itself, with the same arguments; proxies from the environment are still honoured (those pools
    are built by httpx as usual).
    """

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        build = super()._init_transport
        return _BuiltOnFirstRequest(lambda: build(*args, **kwargs))


class _BuiltOnFirstRequest(httpx.AsyncBaseTransport):
    """A transport built by ``build()`` at the first request (on the client's event loop)."""

    def __init__(self, build: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._build: Callable[[], httpx.AsyncBaseTransport] | None = build
        self._transport: httpx.AsyncBaseTransport | None = None

    @property
    def built(self) -> bool:
        return self._transport is not None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            if self._build is None:
                raise RuntimeError("the HTTP client is closed")
            self._transport = self._build()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        self._build = None
        if self._transport is not None:
            await self._transport.aclose()
