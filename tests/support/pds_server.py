"""A real Bluesky PDS (``@atproto/pds``) with an in-memory PLC directory, for integration tests.

:func:`install` runs ``tests/support/pds/install.sh`` (Node 22 and the pinned npm packages,
cached under ``~/.cache/staffetta-test-pds`` so only the first run pays the ~2 minute install);
:class:`PdsServer` starts ``tests/support/pds/start.mjs`` on 127.0.0.1 in a temporary folder and
stops it by its PID. Both raise :class:`PdsUnavailable` with the reason when they cannot.

The server is the network peer, so tests talk to it as any client would (XRPC over HTTP); the only
privileged thing here is :meth:`PdsServer.forge_access_token`, which signs a token with the test
server's own JWT secret so a test can present an *expired* access token without waiting 2 hours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import selectors
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent / "pds"
INSTALL_TIMEOUT = 900.0
START_TIMEOUT = 60.0


class PdsUnavailable(RuntimeError):
    """The PDS could not be installed or started; the message says why."""


def _node_bin(target: Path) -> Path:
    found = sorted(target.glob("node/node_modules/node-*/bin/node"))
    if not found:
        raise PdsUnavailable(f"no Node binary under {target}")
    return found[0]


def install(timeout: float = INSTALL_TIMEOUT) -> Path:
    """The folder holding Node 22 and the PDS packages, installing them on first use."""
    if shutil.which("bash") is None:
        raise PdsUnavailable("bash is not available to run install.sh")
    try:
        done = subprocess.run(
            ["bash", str(HERE / "install.sh")],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PdsUnavailable(f"install.sh did not finish within {timeout:.0f} s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise PdsUnavailable(f"install.sh failed (exit {done.returncode}):\n{tail}")
    return Path(lines[-1])


@dataclass
class Account:
    handle: str
    did: str
    password: str
    access_jwt: str


class PdsServer:
    """One PDS + PLC pair, on loopback ports chosen by the script."""

    def __init__(self, target: Path, data_dir: Path) -> None:
        self.target = target
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self.jwt_secret = os.urandom(16).hex()
        self._counter = 0

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> PdsServer:
        node = _node_bin(self.target)
        # Beside node_modules, so its imports resolve; replaced atomically (other runs may start
        # the same copy at the same moment).
        script = self.target / "app" / "start.mjs"
        fresh = script.with_name(f".start-{os.getpid()}.mjs")
        fresh.write_bytes((HERE / "start.mjs").read_bytes())
        os.replace(fresh, script)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "STAFFETTA_PDS_JWT_SECRET": self.jwt_secret,
        }
        log = (self.data_dir / "pds.log").open("wb")
        self.process = subprocess.Popen(
            [str(node), str(script), str(self.data_dir)],
            cwd=script.parent,
            stdin=subprocess.PIPE,  # closing it (or our death) stops the server
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
        )
        log.close()
        try:
            self.info = self._ready_line()
        except BaseException:
            self.stop()
            raise
        return self

    def _ready_line(self) -> dict[str, Any]:
        assert self.process is not None
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT
        buffer = b""
        try:
            while b"\n" not in buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(timeout=left):
                    raise PdsUnavailable(f"the PDS did not start within {START_TIMEOUT:.0f} s")
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    self.process.wait(timeout=10)
                    log = (self.data_dir / "pds.log").read_text(errors="replace")
                    raise PdsUnavailable(
                        f"the PDS exited with {self.process.returncode}:\n{log[-2000:]}"
                    )
                buffer += chunk
        finally:
            selector.close()
        return dict(json.loads(buffer.split(b"\n", 1)[0]))

    def stop(self) -> None:
        """Stop the server by its PID: SIGTERM, then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    # --- addresses --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The PDS's public URL (``http://localhost:<port>``), as DID documents name it."""
        return str(self.info["pds"])

    @property
    def plc_url(self) -> str:
        return str(self.info["plc"])

    # --- accounts, through the PDS's public API --------------------------------------------
    def create_account(self, name: str = "") -> Account:
        """A fresh account ``<name><n>.test`` and its session."""
        self._counter += 1
        handle = f"{name or 'user'}{self._counter}-{os.getpid() % 10000}.test"
        password = base64.urlsafe_b64encode(os.urandom(12)).decode()
        response = httpx.post(
            f"{self.url}/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "email": f"{handle}@example.com", "password": password},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        return Account(handle, body["did"], password, body["accessJwt"])

    def create_app_password(self, account: Account, name: str = "staffetta") -> str:
        response = httpx.post(
            f"{self.url}/xrpc/com.atproto.server.createAppPassword",
            json={"name": name},
            headers={"Authorization": f"Bearer {account.access_jwt}"},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["password"])

    def list_posts(self, did: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.url}/xrpc/com.atproto.repo.listRecords",
            params={"repo": did, "collection": "app.bsky.feed.post", "limit": 100},
            timeout=30,
        )
        response.raise_for_status()
        return list(response.json()["records"])

    def get_post(self, did: str, rkey: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self.url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": did, "collection": "app.bsky.feed.post", "rkey": rkey},
            timeout=30,
        )
        response.raise_for_status()
        return dict(response.json())

    def get_blob(self, did: str, cid: str) -> bytes:
        response = httpx.get(
            f"{self.url}/xrpc/com.atproto.sync.getBlob", params={"did": did, "cid": cid}, timeout=30
        )
        response.raise_for_status()
        return response.content

    def forge_access_token(self, did: str, *, expires_at: float) -> str:
        """An app-password access JWT signed with this server's secret (HS256), as the PDS
        issues them, expiring at ``expires_at``."""

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(json.dumps({"typ": "at+jwt", "alg": "HS256"}).encode())
        claims = {
            "scope": "com.atproto.appPass",
            "aud": "did:web:localhost",
            "sub": did,
            "iat": int(expires_at) - 7200,
            "exp": int(expires_at),
        }
        payload = b64(json.dumps(claims).encode())
        signature = hmac.new(
            self.jwt_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256
        ).digest()
        return f"{header}.{payload}.{b64(signature)}"
