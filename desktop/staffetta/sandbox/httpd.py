"""The sockets of the sandbox: a threading HTTP/1.1 listener and its request handler.

A listener either serves one instance on its own port (``instance`` set) or is the main port
(control API under ``/_sandbox/`` and every instance under ``/<instance>/``). What to answer is
decided by the :class:`Dispatcher` (the :class:`~staffetta.sandbox.server.SandboxServer`); this
module only knows how to answer, drop a connection, or hold it open without answering.
"""

from __future__ import annotations

import contextlib
import select
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from staffetta.sandbox.platform import Params, Response, parse_query


@dataclass(slots=True)
class Outcome:
    """What to do with a request: send ``response``; or close without answering (``None``);
    or, with ``hang``, read nothing more and answer nothing until the client gives up."""

    response: Response | None
    hang: bool = False


class Dispatcher(Protocol):
    stopping: threading.Event

    def control(self, method: str, path: str, query: Params, body: bytes) -> Response: ...

    def has_instance(self, name: str) -> bool: ...

    def dispatch(
        self,
        name: str,
        method: str,
        path: str,
        query: Params,
        headers: dict[str, str],
        body: bytes,
        base_url: str,
    ) -> Outcome: ...


class Listener(ThreadingHTTPServer):
    """A listening socket whose open connections can all be cut at once."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, instance: str | None):
        self.dispatcher = dispatcher
        self.instance = instance
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)
        self.thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{instance or 'main'}",
            daemon=True,
        )
        self.thread.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close(self) -> None:
        """Stop accepting (the port now refuses connections) and cut every open connection."""
        self.shutdown()
        self.server_close()
        with self.connections_lock:
            open_connections = list(self.connections)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms delayed-ACK stall
    server: Listener

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        try:
            self._serve_one()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # a sandbox bug must be visible, not kill the thread silently
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send(Response.json(500, {"error": "sandbox internal error"}))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve_one(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        query = parse_query(url.query)
        dispatcher = self.server.dispatcher
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        if self.server.instance is not None:
            name, path, base = self.server.instance, url.path or "/", f"http://{host}"
        elif url.path == "/_sandbox" or url.path.startswith("/_sandbox/"):
            self._send(dispatcher.control(self.command, url.path, query, body))
            return
        else:
            name, _, rest = url.path.lstrip("/").partition("/")
            if not dispatcher.has_instance(name):
                self._send(Response.json(404, {"error": f"no sandbox instance {name!r}"}))
                return
            path, base = "/" + rest, f"http://{host}/{name}"
        headers = {key.lower(): value for key, value in self.headers.items()}
        outcome = dispatcher.dispatch(name, self.command, path, query, headers, body, base)
        if outcome.hang:
            self._hang()
        if outcome.response is None:
            self.close_connection = True
            return
        self._send(outcome.response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for key, value in response.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)
        self.wfile.flush()

    def _hang(self) -> None:
        """Answer nothing until the client closes, the connection is cut or the server stops."""
        sock = self.connection
        stopping = self.server.dispatcher.stopping
        while not stopping.wait(0.02):
            try:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable and not sock.recv(1, socket.MSG_PEEK):
                    break
            except (OSError, ValueError):
                break
