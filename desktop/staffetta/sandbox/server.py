"""SandboxServer: platform instances on 127.0.0.1 with fault injection and a control API.

Every instance listens on its own port (``platform_url(name)``, the base URL clients should use)
and is also reachable under ``/<name>`` on the main port (``url``), which serves the control API
under ``/_sandbox/``. The difference matters for the ``down`` fault: on the own port it closes
the listening socket, so clients get a true connection refusal (``up`` binds the same port
again); on the shared main port the connection is accepted and then closed without an answer.

Order of processing for an instance request: it is logged, then the fault applies (``down``,
``500``, ``503``, ``429`` and ``timeout`` answer before the application, so they do not count
against the rate limit; ``slow`` waits then goes on), then the rate limit, then the platform
handles it (``commit_drop`` drops the connection after the platform has committed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from staffetta.sandbox.faults import (
    DEFAULT_DELAY,
    Fault,
    RateLimiter,
    fault_response,
    too_many_requests,
)
from staffetta.sandbox.httpd import Listener, Outcome
from staffetta.sandbox.platform import (
    Params,
    Platform,
    Request,
    Response,
    iso_timestamp,
    parse_body,
)
from staffetta.sandbox.registry import PLATFORM_TYPES, platform_type


@dataclass(slots=True)
class _Instance:
    platform: Platform
    port: int
    listener: Listener | None
    limits: tuple[int, float] | None
    options: dict[str, Any]
    fault: Fault = field(default_factory=Fault)
    limiter: RateLimiter | None = None
    log: list[dict[str, Any]] = field(default_factory=list)


class SandboxServer:
    """Fake platforms on real sockets. Use as a context manager or ``start()``/``stop()``.

    ``platforms``: instance names, ``<type>`` or ``<type><digits>`` (``["mastodon",
    "mastodon2"]``); all registered types by default. ``rate_limits``: ``{name: (limit,
    window_seconds)}`` fixed windows; none by default. ``options``: ``{name: {option: value}}``
    passed to the platform's ``configure`` (for Mastodon: ``max_characters``,
    ``processing_polls``, ``username``, ``title``). Thread-safe.
    """

    def __init__(
        self,
        platforms: Sequence[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        names = list(platforms) if platforms is not None else [t.type_name for t in PLATFORM_TYPES]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate sandbox instance names in {names}")
        for name in [*(rate_limits or {}), *(options or {})]:
            if name not in names:
                raise ValueError(f"{name!r} is not one of the sandbox instances {names}")
        self.host = host
        self._requested_port = port
        self._lock = threading.RLock()
        self._clock_offset = 0.0
        self.stopping = threading.Event()
        self._main: Listener | None = None
        self._instances: dict[str, _Instance] = {}
        for name in names:
            platform = platform_type(name)(name, self.now)
            opts = dict((options or {}).get(name, {}))
            platform.configure(opts)
            limits = (rate_limits or {}).get(name)
            self._instances[name] = _Instance(platform, 0, None, limits, opts)
            self._apply_limits(self._instances[name], limits)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._main is not None:
            raise RuntimeError("the sandbox server is already started")
        self.stopping.clear()
        try:
            with self._lock:
                self._main = Listener((self.host, self._requested_port), self, None)
                for name, inst in self._instances.items():
                    inst.listener = Listener((self.host, inst.port), self, name)
                    inst.port = inst.listener.server_address[1]
                    self._sync_listener(name, inst)  # a fault set before start() holds
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close every port and cut every connection (hung ``timeout`` ones too); quick."""
        self.stopping.set()
        with self._lock:
            listeners = [self._main, *(inst.listener for inst in self._instances.values())]
            self._main = None
            for inst in self._instances.values():
                inst.listener = None
        closers = [
            threading.Thread(target=listener.close, daemon=True)
            for listener in listeners
            if listener is not None
        ]
        for closer in closers:  # in parallel: each waits up to one poll interval
            closer.start()
        for closer in closers:
            closer.join()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The main port: control API under ``/_sandbox/``, instances under ``/<name>``."""
        if self._main is None:
            raise RuntimeError("the sandbox server is not started")
        return f"http://{self.host}:{self._main.server_address[1]}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._instances)

    def platform_url(self, name: str) -> str:
        """The instance's own port, the base URL clients should use (``down`` refuses it)."""
        inst = self._instance(name)
        if not inst.port:
            raise RuntimeError("the sandbox server is not started")
        return f"http://{self.host}:{inst.port}"

    def prefix_url(self, name: str) -> str:
        """The instance under the main port (``down`` closes connections without answering)."""
        self._instance(name)
        return f"{self.url}/{name}"

    def platform(self, name: str) -> Platform:
        """The platform object itself, for assertions on its state."""
        return self._instance(name).platform

    def _instance(self, name: str) -> _Instance:
        try:
            return self._instances[name]
        except KeyError:
            raise KeyError(f"no sandbox instance {name!r}; have {list(self._instances)}") from None

    def has_instance(self, name: str) -> bool:
        return name in self._instances

    # --- clock ----------------------------------------------------------------------------

    def now(self) -> float:
        """The sandbox's notion of now: wall time plus the clock offset."""
        return time.time() + self._clock_offset

    @property
    def clock_offset(self) -> float:
        return self._clock_offset

    def set_clock_offset(self, seconds: float) -> None:
        """Shift the sandbox's now (absolute, not cumulative): expires idempotency keys, codes
        and rate-limit windows without waiting."""
        with self._lock:
            self._clock_offset = float(seconds)

    # --- faults and limits ----------------------------------------------------------------

    def set_fault(
        self,
        name: str,
        mode: str,
        *,
        retry_after: float | None = None,
        delay: float | None = None,
        count: int | None = None,
        writes_only: bool = False,
    ) -> None:
        """Modes: up, down, 503, 500, 429, timeout, slow, commit_drop (see the module doc)."""
        inst = self._instance(name)
        fault = Fault.checked(
            mode, retry_after=retry_after, delay=delay, count=count, writes_only=writes_only
        )
        with self._lock:
            inst.fault = fault
            self._sync_listener(name, inst)

    def fault(self, name: str) -> dict[str, Any]:
        with self._lock:
            return self._instance(name).fault.describe()

    def set_rate_limit(self, name: str, limit: int | None, window: float = 300.0) -> None:
        """``limit`` requests per ``window`` seconds (a new window starts now); None = no limit."""
        inst = self._instance(name)
        with self._lock:
            inst.limits = None if limit is None else (int(limit), float(window))
            self._apply_limits(inst, inst.limits)

    @staticmethod
    def _apply_limits(inst: _Instance, limits: tuple[int, float] | None) -> None:
        inst.limiter = None if limits is None else RateLimiter(*limits)

    def _sync_listener(self, name: str, inst: _Instance) -> None:
        """Own port closed while ``down``, bound again (same port) otherwise."""
        if self._main is None:
            return
        if inst.fault.mode == "down" and inst.listener is not None:
            inst.listener.close()
            inst.listener = None
        elif inst.fault.mode != "down" and inst.listener is None:
            inst.listener = Listener((self.host, inst.port), self, name)

    # --- tokens, config, records ----------------------------------------------------------

    def issue_token(self, name: str, username: str = "demo") -> str:
        platform = self._instance(name).platform
        with platform.lock:
            return platform.issue_token(username)

    def revoke_tokens(self, name: str) -> None:
        platform = self._instance(name).platform
        with platform.lock:
            platform.revoke_tokens()

    def configure(self, name: str, **options: Any) -> None:
        platform = self._instance(name).platform
        with platform.lock:
            platform.configure(options)

    def requests(self, name: str) -> list[dict[str, Any]]:
        """Requests that reached the instance, oldest first: method, path (relative to the
        instance, no query), time (sandbox clock), status (None = no answer), idempotency_key
        when sent, fault when one applied. No credentials or bodies are recorded."""
        inst = self._instance(name)
        with self._lock:
            return [dict(entry) for entry in inst.log]

    def posts(self, name: str) -> list[dict[str, Any]]:
        platform = self._instance(name).platform
        with platform.lock:
            return platform.posts()

    def uploads(self, name: str) -> list[dict[str, Any]]:
        platform = self._instance(name).platform
        with platform.lock:
            return platform.uploads()

    def reset(self) -> None:
        """Forget data, tokens, faults, logs, runtime config and the clock offset; ports stay."""
        with self._lock:
            self._clock_offset = 0.0
            for name, inst in self._instances.items():
                with inst.platform.lock:
                    inst.platform.reset()
                    inst.platform.configure(inst.options)
                inst.fault = Fault()
                inst.log.clear()
                self._apply_limits(inst, inst.limits)
                self._sync_listener(name, inst)

    def describe(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                name: {
                    "type": inst.platform.type_name,
                    "url": f"http://{self.host}:{inst.port}",
                    "prefix_url": f"{self.url}/{name}" if self._main else None,
                    "fault": inst.fault.mode,
                    "rate_limit": list(inst.limits) if inst.limits else None,
                }
                for name, inst in self._instances.items()
            }

    # --- request path (called by the listeners' handler threads) --------------------------

    def dispatch(
        self,
        name: str,
        method: str,
        path: str,
        query: Params,
        headers: dict[str, str],
        body: bytes,
        base_url: str,
    ) -> Outcome:
        inst = self._instance(name)
        now = self.now()
        logged = inst.platform.loggable_path(path)
        entry: dict[str, Any] = {"method": method, "path": logged, "time": now, "status": None}
        if "idempotency-key" in headers:
            entry["idempotency_key"] = headers["idempotency-key"]
        with self._lock:
            inst.log.append(entry)
            fault = inst.fault.take(method)
            limit = inst.limits[0] if inst.limits else None
            if fault.mode != "up":
                entry["fault"] = fault.mode
        if fault.mode in {"down", "timeout"}:
            return Outcome(None, hang=fault.mode == "timeout")
        if fault.mode in {"500", "503", "429"}:
            return self._answer(entry, fault_response(fault, now, limit))
        if fault.mode == "slow":
            self.stopping.wait(fault.delay if fault.delay is not None else DEFAULT_DELAY)
            now = self.now()
        rate_headers: list[tuple[str, str]] = []
        with self._lock:
            if inst.limiter is not None:
                allowed, rate_headers = inst.limiter.hit(now)
                if not allowed:
                    return self._answer(entry, too_many_requests(rate_headers))
        request = Request(method, path, query, headers, body, base_url, now)
        with inst.platform.lock:
            response = inst.platform.handle(request)
        response.headers.extend(rate_headers)
        if fault.mode == "commit_drop":
            return Outcome(None)
        return self._answer(entry, response)

    def _answer(self, entry: dict[str, Any], response: Response) -> Outcome:
        with self._lock:
            entry["status"] = response.status
        return Outcome(response)

    # --- control API ----------------------------------------------------------------------

    def control(self, method: str, path: str, query: Params, body: bytes) -> Response:
        try:
            return self._control(method, path.rstrip("/"), query, body)
        except (KeyError, ValueError, TypeError) as exc:
            status = 404 if isinstance(exc, KeyError) else 400
            return Response.json(status, {"error": str(exc).strip("'\"")})

    def _control(self, method: str, path: str, query: Params, body: bytes) -> Response:
        params = parse_body("application/json", body) if body else {}
        route = (method, path.removeprefix("/_sandbox"))
        if route == ("GET", "/platforms"):
            return Response.json(200, self.describe())
        if route == ("GET", "/posts"):
            return Response.json(200, {name: self.posts(name) for name in self._instances})
        if route == ("GET", "/uploads"):
            return Response.json(200, {name: self.uploads(name) for name in self._instances})
        if route == ("GET", "/requests"):
            wanted = [str(query["platform"])] if "platform" in query else list(self._instances)
            return Response.json(200, {name: self.requests(name) for name in wanted})
        if route == ("GET", "/faults"):
            return Response.json(200, {name: self.fault(name) for name in self._instances})
        if route == ("POST", "/reset"):
            self.reset()
            return Response.json(200, {})
        if route == ("POST", "/faults"):
            if "platform" not in params or "mode" not in params:
                raise ValueError('a fault needs {"platform": ..., "mode": ...}')
            name = str(params["platform"])
            options = {k: params[k] for k in ("retry_after", "delay", "count") if k in params}
            self.set_fault(
                name, str(params["mode"]), writes_only=bool(params.get("writes_only")), **options
            )
            return Response.json(200, {name: self.fault(name)})
        if route == ("GET", "/clock") or route == ("POST", "/clock"):
            if method == "POST":
                self.set_clock_offset(float(params.get("offset", 0.0)))
            now = self.now()
            return Response.json(200, {"offset": self.clock_offset, "now": iso_timestamp(now)})
        parts = route[1].strip("/").split("/")
        if method == "POST" and len(parts) == 2 and parts[0] in self._instances:
            name, action = parts
            if action == "token":
                token = self.issue_token(name, str(params.get("username") or "demo"))
                return Response.json(200, {"access_token": token, "token_type": "Bearer"})
            if action == "revoke":
                self.revoke_tokens(name)
                return Response.json(200, {})
            if action == "config":
                self.configure(name, **params)
                return Response.json(200, {})
            if action == "rate_limit":
                limit = params.get("limit")
                window = float(params.get("window", 300.0))
                self.set_rate_limit(name, None if limit is None else int(limit), window)
                return Response.json(200, self.describe()[name])
        return Response.json(404, {"error": f"no control route {method} {path}"})
