"""OAuth 2.0 for a desktop app: PKCE (RFC 7636) and a one-shot loopback redirect (RFC 8252).

Channel-neutral: Mastodon uses it today; X, LinkedIn, IndieAuth and Meta reuse the same pieces.

- :class:`Pkce` makes a code verifier and its S256 challenge.
- :class:`LoopbackReceiver` listens on ``127.0.0.1`` on an ephemeral port, accepts exactly one
  authorization response, shows a small page in the browser and closes its listener.
- :func:`run_browser_authorization` opens the browser and waits for the code.

A callback whose ``state`` does not match is refused *and ends the flow*: it is either a stale tab
or someone forging a response, and in both cases the safe answer is to start over. Nothing here
logs or formats codes, verifiers or tokens into messages.
"""

from __future__ import annotations

import base64
import contextlib
import html
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from staffetta.core.errors import StaffettaError
from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import asyncio
    import hashlib
    import secrets
    import webbrowser
else:
    asyncio = lazy_module("asyncio")
    hashlib = lazy_module("hashlib")
    secrets = lazy_module("secrets")
    webbrowser = lazy_module("webbrowser")

__all__ = [
    "BrowserOpener",
    "LoopbackReceiver",
    "OAuthError",
    "Pkce",
    "new_state",
    "run_browser_authorization",
    "s256_challenge",
]

# Opens a URL in the user's browser. ``webbrowser.open`` by default; tests pass a scripted browser.
# May be synchronous (run in a worker thread) or asynchronous (awaited on the loop).
BrowserOpener = Callable[[str], Any]

_VERIFIER_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_MAX_REQUEST_HEAD = 16 * 1024
_READ_TIMEOUT = 10.0


class OAuthError(StaffettaError):
    """Signing in through the browser did not work; the message says why and what to do."""


def s256_challenge(verifier: str) -> str:
    """``BASE64URL(SHA256(ASCII(verifier)))`` without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Pkce:
    """A PKCE code verifier (kept by us) and its challenge (sent with the authorization request)."""

    verifier: str = field(repr=False)
    method: str = "S256"

    def __post_init__(self) -> None:
        if not _VERIFIER_RE.fullmatch(self.verifier):
            raise ValueError("a PKCE verifier is 43-128 characters of [A-Za-z0-9-._~]")
        if self.method != "S256":
            raise ValueError("only the S256 PKCE method is supported")

    @classmethod
    def generate(cls) -> Pkce:
        # 64 random bytes -> 86 URL-safe characters: well inside 43..128, 512 bits of entropy.
        return cls(secrets.token_urlsafe(64))

    @property
    def challenge(self) -> str:
        return s256_challenge(self.verifier)


def new_state() -> str:
    """An unguessable ``state`` value that ties the browser's answer to this request."""
    return secrets.token_urlsafe(32)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Staffetta</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em}}</style>
</head><body><h1>{title}</h1><p>{message}</p></body></html>
"""


class LoopbackReceiver:
    """A one-shot HTTP listener on ``127.0.0.1`` that receives the authorization response.

    Use as ``async with LoopbackReceiver() as receiver:`` (or ``await receiver.start()``), give
    ``receiver.redirect_uri`` to the authorization server, then ``await
    receiver.wait_for_code(state, timeout)``. After the first callback on the callback path —
    accepted or refused — the listening socket is closed, so nobody can answer a second time.
    """

    def __init__(self, *, host: str = "127.0.0.1", path: str = "/callback", port: int = 0) -> None:
        if not path.startswith("/"):
            raise ValueError("the callback path must start with '/'")
        if not 0 <= port <= 65535:
            raise ValueError("the callback port must be 0 (any free port) or 1-65535")
        self._host = host
        self._path = path
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._port = 0
        self._result: asyncio.Future[str] | None = None
        self._expected_state: str | None = None
        self._state_known: asyncio.Event | None = None
        self._closed = False

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> LoopbackReceiver:
        if self._server is not None:
            return self
        if self._closed:
            raise OAuthError("This sign-in listener was already used; start the sign-in again.")
        loop = asyncio.get_running_loop()
        self._result = loop.create_future()
        self._state_known = asyncio.Event()
        # Port 0: the OS picks a free ephemeral port (RFC 8252 §7.3). A fixed port is for
        # platforms that only redirect to the exact address registered with them (Meta).
        try:
            self._server = await asyncio.start_server(
                self._handle, self._host, self._requested_port, limit=_MAX_REQUEST_HEAD
            )
        except OSError as exc:
            if not self._requested_port:
                raise
            raise OAuthError(
                f"Staffetta could not listen on port {self._requested_port} of this computer for "
                f"the sign-in answer ({exc.strerror or exc}). Close the program using that port, "
                "or choose another port in the account and register it with the platform."
            ) from None
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._closed = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def __aenter__(self) -> LoopbackReceiver:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("start the receiver before asking for its port")
        return self._port

    @property
    def redirect_uri(self) -> str:
        return f"http://{self._host}:{self.port}{self._path}"

    @property
    def listening(self) -> bool:
        return self._server is not None

    # --- waiting --------------------------------------------------------------------------------
    def expect_state(self, state: str) -> None:
        """Tell the receiver which ``state`` to accept (``wait_for_code`` does it too)."""
        if not state:
            raise ValueError("state must not be empty")
        self._expected_state = state
        if self._state_known is not None:
            self._state_known.set()

    async def wait_for_code(self, expected_state: str, timeout: float) -> str:  # noqa: ASYNC109
        """The authorization code from the one accepted callback.

        Raises :class:`OAuthError` if the browser reports an error (e.g. ``access_denied``), if
        the ``state`` does not match, or if nothing arrives within ``timeout`` seconds. The
        listener is closed in every case.
        """
        await self.start()
        self.expect_state(expected_state)
        assert self._result is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            raise OAuthError(
                f"No answer came back from the browser within {timeout:g} seconds. "
                "Start connecting the account again and approve it in the browser."
            ) from None
        finally:
            await self.close()

    # --- one HTTP exchange ----------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve_one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except TimeoutError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3:
            await _respond(writer, 400, "Bad request", "This address only takes a sign-in answer.")
            return
        method, target, _version = parts
        url = urlsplit(target)
        if url.path != self._path:
            await _respond(writer, 404, "Not found", "This address only takes a sign-in answer.")
            return
        if method not in ("GET", "HEAD"):
            await _respond(writer, 405, "Not allowed", "This address only takes a sign-in answer.")
            return
        result = self._result
        if result is None or result.done():
            await _respond(writer, 410, "Already used", "This sign-in was already completed.")
            return
        # A fast browser may answer before wait_for_code() told us the state: wait for it.
        assert self._state_known is not None
        try:
            await asyncio.wait_for(self._state_known.wait(), _READ_TIMEOUT)
        except TimeoutError:
            await _respond(writer, 503, "Not ready", "Staffetta was not ready; please try again.")
            return
        if result.done():
            await _respond(writer, 410, "Already used", "This sign-in was already completed.")
            return
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        outcome = self._judge(params)
        # Close the listener first: whatever happens next, nobody gets a second try.
        if self._server is not None:
            self._server.close()
            self._server = None
        if isinstance(outcome, OAuthError):
            result.set_exception(outcome)
            await _respond(writer, 400, "Sign-in not completed", str(outcome))
        else:
            result.set_result(outcome)
            await _respond(
                writer, 200, "Connected", "You can close this tab and return to Staffetta."
            )

    def _judge(self, params: dict[str, str]) -> str | OAuthError:
        expected = self._expected_state or ""
        state = params.get("state")
        error = params.get("error")
        if state is not None and not secrets.compare_digest(state, expected):
            return OAuthError(
                "The browser's answer did not belong to this sign-in (state mismatch), so it was "
                "refused. Start connecting the account again from Staffetta."
            )
        if error:
            return _authorization_error(error, params.get("error_description", ""))
        if state is None:
            return OAuthError(
                "The browser's answer carried no state value, so it was refused. "
                "Start connecting the account again from Staffetta."
            )
        code = params.get("code", "")
        if not code:
            return OAuthError(
                "The browser's answer carried no authorization code. "
                "Start connecting the account again from Staffetta."
            )
        return code


def _authorization_error(error: str, description: str) -> OAuthError:
    if error == "access_denied":
        return OAuthError(
            "Access was declined in the browser, so the account was not connected. "
            "Connect it again and choose to authorise Staffetta."
        )
    detail = f"{error}: {description}" if description else error
    return OAuthError(f"The server refused the sign-in ({detail}). Try connecting again.")


async def _respond(writer: asyncio.StreamWriter, status: int, title: str, message: str) -> None:
    body = _PAGE.format(title=html.escape(title), message=html.escape(message)).encode("utf-8")
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(
        status, "Error"
    )
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "Referrer-Policy: no-referrer\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")
    writer.write(head + body)
    await writer.drain()


async def _open(open_browser: BrowserOpener, url: str) -> None:
    if inspect.iscoroutinefunction(open_browser):
        result = await open_browser(url)
    else:
        # webbrowser.open may block while it spawns a browser: keep it off the event loop.
        result = await asyncio.to_thread(open_browser, url)
        if inspect.isawaitable(result):
            result = await result
    if result is False:
        raise OAuthError(
            "Staffetta could not open a web browser. Open your default browser and try again."
        )


async def run_browser_authorization(
    receiver: LoopbackReceiver,
    authorize_url: str,
    state: str,
    *,
    open_browser: BrowserOpener | None = None,
    timeout: float = 300.0,  # noqa: ASYNC109 - the deadline is part of the message we show
) -> str:
    """Open ``authorize_url`` in the browser and return the code the receiver accepts.

    ``receiver`` must be started (its ``redirect_uri`` is in ``authorize_url``); it is closed when
    this returns or raises.
    """
    opener: BrowserOpener = open_browser if open_browser is not None else webbrowser.open
    receiver.expect_state(state)
    waiting = asyncio.ensure_future(receiver.wait_for_code(state, timeout))
    browsing = asyncio.ensure_future(_open(opener, authorize_url))
    try:
        done, _ = await asyncio.wait({waiting, browsing}, return_when=asyncio.FIRST_COMPLETED)
        if browsing in done and browsing.exception() is not None and not waiting.done():
            waiting.cancel()
            error = browsing.exception()
            assert error is not None
            raise error
        return await waiting
    finally:
        for task in (waiting, browsing):
            if not task.done():
                task.cancel()
        await asyncio.gather(waiting, browsing, return_exceptions=True)
        await receiver.close()
