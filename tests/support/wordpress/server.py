"""A real WordPress (Debian's package) on 127.0.0.1, for integration tests.

:func:`install` runs ``install.sh`` beside this file (Debian's ``wordpress``, PHP and MariaDB);
:class:`WordPressServer` starts, in a temporary folder:

- a private MariaDB (``mariadb-install-db`` + ``mariadbd`` on a Unix socket, no TCP port), whose
  ``root``-less login is the current OS user through the ``unix_socket`` plugin;
- a copy of ``/usr/share/wordpress`` with our own ``wp-config.php``: ``WP_ENVIRONMENT_TYPE`` is
  ``local``, without which WordPress refuses application passwords over plain http;
- ``setup.php`` (``wp_install``, pretty permalinks, an application password for ``admin``);
- ``php -S 127.0.0.1:PORT`` with ``router.php`` and four workers,

and stops both servers by their PIDs. Both raise :class:`WordPressUnavailable` with the reason
when they cannot. Tests then talk to the site only over HTTP, as any client does.
"""

from __future__ import annotations

import getpass
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
SOURCE = Path("/usr/share/wordpress")
INSTALL_TIMEOUT = 600.0
START_TIMEOUT = 60.0


class WordPressUnavailable(RuntimeError):
    """WordPress could not be installed or started; the message says why."""


def install(timeout: float = INSTALL_TIMEOUT) -> None:
    """Make sure Debian's WordPress, PHP and MariaDB are installed (apt-get on first use)."""
    if shutil.which("bash") is None:
        raise WordPressUnavailable("bash is not available to run install.sh")
    try:
        done = subprocess.run(
            ["bash", str(HERE / "install.sh")],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise WordPressUnavailable(f"install.sh did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise WordPressUnavailable(f"install.sh failed (exit {done.returncode}):\n{tail}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _php_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Credentials:
    user: str
    user_id: int
    app_password: str
    admin_password: str


class WordPressServer:
    """One WordPress site with its own database, under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = 0
        self.database: subprocess.Popen[bytes] | None = None
        self.php: subprocess.Popen[bytes] | None = None
        self.credentials: Credentials | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_path(self) -> Path:
        # Unix socket paths are limited to ~107 bytes; pytest's temporary folders can be long.
        return Path(f"/tmp/staffetta-wp-{os.getpid()}-{id(self)}.sock")

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> WordPressServer:
        for tool in ("php", "mariadbd", "mariadb-install-db", "mariadb"):
            if shutil.which(tool) is None:
                raise WordPressUnavailable(f"{tool} is not installed (run {HERE}/install.sh)")
        if not (SOURCE / "wp-load.php").is_file():
            raise WordPressUnavailable(f"{SOURCE} holds no WordPress (run {HERE}/install.sh)")
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self._start_database()
            self._create_site()
            self._start_php()
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, command: list[str], what: str, **kwargs: Any) -> str:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, **kwargs
        )
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise WordPressUnavailable(f"{what} failed (exit {done.returncode}):\n{tail}")
        return done.stdout

    def _start_database(self) -> None:
        data = self.folder / "mariadb"
        user = getpass.getuser()
        self._run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={data}",
                f"--user={user}",
                "--skip-test-db",
                "--auth-root-authentication-method=socket",
            ],
            "mariadb-install-db",
        )
        log = (self.folder / "mariadb.log").open("wb")
        self.database = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={self.socket_path}",
                f"--pid-file={self.folder / 'mariadb.pid'}",
                "--skip-networking",
                f"--user={user}",
                "--innodb-buffer-pool-size=64M",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.database.poll() is not None:
                text = (self.folder / "mariadb.log").read_text(errors="replace")
                raise WordPressUnavailable(f"mariadbd exited:\n{text[-2000:]}")
            probe = subprocess.run(
                ["mariadb", "--no-defaults", f"--socket={self.socket_path}", "-e", "SELECT 1"],
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise WordPressUnavailable(f"mariadbd did not start within {START_TIMEOUT:.0f} s")
            time.sleep(0.1)
        self._run(
            [
                "mariadb",
                "--no-defaults",
                f"--socket={self.socket_path}",
                "-e",
                "CREATE DATABASE wordpress CHARACTER SET utf8mb4",
            ],
            "creating the database",
        )

    def _create_site(self) -> None:
        self.port = _free_port()
        docroot = self.folder / "site"
        shutil.copytree(SOURCE, docroot, symlinks=True)
        (docroot / "wp-config.php").write_text(self._config(), encoding="utf-8")
        shutil.copy(HERE / "router.php", self.folder / "router.php")
        admin_password = secrets.token_urlsafe(12)
        output = self._run(
            ["php", str(HERE / "setup.php"), str(docroot), admin_password],
            "setup.php",
            env={**os.environ, "STAFFETTA_WP_URL": self.url},
        )
        found = json.loads(output.strip().splitlines()[-1])
        self.credentials = Credentials(
            str(found["user"]), int(found["user_id"]), str(found["app_password"]), admin_password
        )

    def _config(self) -> str:
        keys = "\n".join(
            f"define({_php_string(name)}, {_php_string(secrets.token_hex(32))});"
            for name in (
                "AUTH_KEY",
                "SECURE_AUTH_KEY",
                "LOGGED_IN_KEY",
                "NONCE_KEY",
                "AUTH_SALT",
                "SECURE_AUTH_SALT",
                "LOGGED_IN_SALT",
                "NONCE_SALT",
            )
        )
        return f"""<?php
define('DB_NAME', 'wordpress');
define('DB_USER', {_php_string(getpass.getuser())});
define('DB_PASSWORD', '');
define('DB_HOST', {_php_string("localhost:" + str(self.socket_path))});
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$table_prefix = 'wp_';
define('WP_HOME', {_php_string(self.url)});
define('WP_SITEURL', {_php_string(self.url)});
// Application passwords over plain http are only allowed in a 'local' environment.
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', false);
define('FS_METHOD', 'direct');
{keys}
if (!defined('ABSPATH')) {{
    define('ABSPATH', __DIR__ . '/');
}}
require_once ABSPATH . 'wp-settings.php';
"""

    def _start_php(self) -> None:
        log = (self.folder / "php.log").open("wb")
        self.php = subprocess.Popen(
            [
                "php",
                "-d",
                "upload_max_filesize=64M",
                "-d",
                "post_max_size=64M",
                "-d",
                "memory_limit=256M",
                "-S",
                f"127.0.0.1:{self.port}",
                "-t",
                str(self.folder / "site"),
                str(self.folder / "router.php"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"},
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.php.poll() is not None:
                text = (self.folder / "php.log").read_text(errors="replace")
                raise WordPressUnavailable(f"php -S exited:\n{text[-2000:]}")
            try:
                if httpx.get(f"{self.url}/wp-json/", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise WordPressUnavailable(f"WordPress did not answer within {START_TIMEOUT:.0f} s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop PHP, then MariaDB, by their PIDs: SIGTERM, then SIGKILL if one lingers."""
        for name in ("php", "database"):
            process = getattr(self, name)
            setattr(self, name, None)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
        self.socket_path.unlink(missing_ok=True)

    # --- reading the site back, over its REST API -----------------------------------------------
    def auth(self) -> tuple[str, str]:
        assert self.credentials is not None
        return (self.credentials.user, self.credentials.app_password)

    def get(self, route: str, **params: Any) -> Any:
        response = httpx.get(
            f"{self.url}/wp-json{route}", params=params, auth=self.auth(), timeout=30
        )
        response.raise_for_status()
        return response.json()

    def posts(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.get("/wp/v2/posts", status="any", context="edit", per_page=100, **params))
