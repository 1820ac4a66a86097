"""A real Ghost 6 (from npm, on SQLite) on 127.0.0.1, for integration tests.

:func:`install` runs ``install.sh`` beside this file (Node 22 and Ghost with its pinned
dependencies, cached under ``~/.cache/staffetta-test-ghost`` so only the first run pays the
~2 minute install); :class:`GhostServer` copies Ghost's ``content`` folder into a temporary
folder, starts ``node index.js`` there in development mode (its own SQLite database, 127.0.0.1
and a free port), then does what a person does once in Ghost Admin:

- the owner's setup (``POST /authentication/setup/``),
- a staff session (``POST /session/``, which Ghost accepts only with an ``Origin`` header),
- a custom integration (``POST /integrations/?include=api_keys``), whose Admin API key the tests
  give to Staffetta,

and stops Ghost by its PID. Both raise :class:`GhostUnavailable` with the reason when they cannot.

Reading posts back goes through the staff *session*, not the integration's key: what the tests
check does not depend on Staffetta's own token code.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
INSTALL_TIMEOUT = 1200.0
START_TIMEOUT = 120.0
ADMIN = "/ghost/api/admin"


class GhostUnavailable(RuntimeError):
    """Ghost could not be installed or started; the message says why."""


def install(timeout: float = INSTALL_TIMEOUT) -> Path:
    """The folder holding Node 22 and Ghost, installing them on first use."""
    if shutil.which("bash") is None:
        raise GhostUnavailable("bash is not available to run install.sh")
    try:
        done = subprocess.run(
            ["bash", str(HERE / "install.sh")],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GhostUnavailable(f"install.sh did not finish within {timeout:.0f} s") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise GhostUnavailable(f"install.sh failed (exit {done.returncode}):\n{tail}")
    return Path(lines[-1])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Owner:
    email: str
    password: str = ""

    def __repr__(self) -> str:
        return f"Owner({self.email!r})"


class GhostServer:
    """One Ghost site with its own content folder and database, under ``folder``."""

    def __init__(self, target: Path, folder: Path) -> None:
        self.target = target
        self.folder = folder
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.owner = Owner("owner@example.com", secrets.token_urlsafe(16))
        self.admin_api_key = ""
        self.session: httpx.Client | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> GhostServer:
        node = self.target / "node" / "node_modules"
        found = sorted(node.glob("node-*/bin/node"))
        ghost = self.target / "ghost"
        if not found or not (ghost / "index.js").is_file():
            raise GhostUnavailable(f"{self.target} holds no Node or Ghost (run {HERE}/install.sh)")
        self.folder.mkdir(parents=True, exist_ok=True)
        content = self.folder / "content"
        shutil.copytree(ghost / "content", content, symlinks=True)
        self.port = _free_port()
        env = {
            **os.environ,
            "PATH": f"{found[0].parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "NODE_ENV": "development",
            "url": self.url,
            "server__host": "127.0.0.1",
            "server__port": str(self.port),
            "paths__contentPath": str(content),
            "database__client": "better-sqlite3",
            "database__connection__filename": str(content / "data" / "ghost-test.db"),
            "logging__level": "warn",
        }
        log = (self.folder / "ghost.log").open("wb")
        self.process = subprocess.Popen(
            [str(found[0]), "index.js"],
            cwd=ghost,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        try:
            self._wait_until_up()
            self._set_up_site()
        except BaseException:
            self.stop()
            raise
        return self

    def _log_tail(self) -> str:
        text = (self.folder / "ghost.log").read_text(errors="replace")
        return text[-3000:]

    def _wait_until_up(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise GhostUnavailable(
                    f"Ghost exited with {self.process.returncode}:\n{self._log_tail()}"
                )
            try:
                answer = httpx.get(f"{self.url}{ADMIN}/site/", timeout=5)
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise GhostUnavailable(
                    f"Ghost did not answer within {START_TIMEOUT:.0f} s:\n{self._log_tail()}"
                )
            time.sleep(0.2)

    def _set_up_site(self) -> None:
        # Ghost's admin client sends its own origin; Ghost refuses sessions without one (CSRF).
        session = httpx.Client(
            base_url=f"{self.url}{ADMIN}",
            headers={"Origin": self.url, "Accept-Version": "v6.0"},
            timeout=60,
        )
        self.session = session
        setup = session.post(
            "/authentication/setup/",
            json={
                "setup": [
                    {
                        "name": "Staffetta Owner",
                        "email": self.owner.email,
                        "password": self.owner.password,
                        "blogTitle": "Staffetta test blog",
                    }
                ]
            },
        )
        _check(setup, "the owner's setup")
        login = session.post(
            "/session/", json={"username": self.owner.email, "password": self.owner.password}
        )
        _check(login, "the staff sign-in")
        created = session.post(
            "/integrations/",
            params={"include": "api_keys"},
            json={"integrations": [{"name": "Staffetta"}]},
        )
        _check(created, "creating the integration")
        keys = created.json()["integrations"][0]["api_keys"]
        admin = next(k for k in keys if k["type"] == "admin")
        # Ghost 6 shows the whole key (<id>:<secret>) as the "secret"; older versions the secret.
        secret = str(admin["secret"])
        self.admin_api_key = secret if ":" in secret else f"{admin['id']}:{secret}"

    def stop(self) -> None:
        """Stop Ghost by its PID: SIGTERM, then SIGKILL if it lingers."""
        if self.session is not None:
            self.session.close()
            self.session = None
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)

    # --- reading the site back, as its owner ------------------------------------------------------
    def get(self, route: str, **params: Any) -> Any:
        assert self.session is not None
        response = self.session.get(route, params=params)
        _check(response, f"GET {route}")
        return response.json()

    def post_by_slug(self, slug: str) -> dict[str, Any] | None:
        """The post with this slug, read as the owner (every status), with html and lexical."""
        assert self.session is not None
        response = self.session.get(
            f"/posts/slug/{slug}/",
            params={"formats": "html,lexical", "include": "tags,email,newsletter"},
        )
        if response.status_code == 404:
            return None
        _check(response, f"the post {slug}")
        return dict(response.json()["posts"][0])

    def posts(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.get("/posts/", limit="all", **params)["posts"])


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        try:
            detail = json.dumps(response.json())[:1500]
        except ValueError:
            detail = response.text[:1500]
        raise GhostUnavailable(f"{what} failed with HTTP {response.status_code}: {detail}")
