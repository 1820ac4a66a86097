"""Helpers for tests that run ``staffetta`` as a real child process.

Children get their own ``STAFFETTA_HOME`` and the file keyring of :mod:`file_keyring` (a stand-in
for the OS keyring, shared by every process of one test), never the test process' environment
overrides. ``Cli`` runs commands, checks exit codes and keeps every output it captured, so a test
can look at all of them at the end (for instance for leaked secrets).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

SUPPORT_DIR = Path(__file__).resolve().parent
KEYRING_ENV = "STAFFETTA_TEST_KEYRING"
KEYRING_BACKEND = "file_keyring.FileKeyring"

# ``python -m staffetta.cli`` does not work (the package has no __main__.py), so the children
# run the console script's own entry point, ``staffetta.cli:main``, with this interpreter.
CLI = [sys.executable, "-c", "import sys; from staffetta.cli import main; sys.exit(main())"]

DEFAULT_TIMEOUT = 60.0


def cli_env(home: Path, keyring_file: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``staffetta`` child: its home, the file keyring, UTF-8 output."""
    home, keyring_file = Path(home).resolve(), Path(keyring_file).resolve()
    if keyring_file.is_relative_to(home):
        raise ValueError("the test keyring must live outside STAFFETTA_HOME")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STAFFETTA_", "PYTHON_KEYRING", "KEYRING_"))
    }
    python_path = [str(SUPPORT_DIR), *filter(None, [env.get("PYTHONPATH")])]
    env.update(
        STAFFETTA_HOME=str(home),
        PYTHON_KEYRING_BACKEND=KEYRING_BACKEND,
        PYTHONPATH=os.pathsep.join(python_path),
        PYTHONUTF8="1",
        PYTHONIOENCODING="utf-8",
        PYTHONDONTWRITEBYTECODE="1",
        **{KEYRING_ENV: str(keyring_file)},
    )
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str],
    *args: str,
    input: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``staffetta ARGS`` to completion; the exit code is the caller's to check."""
    return subprocess.run(
        [*CLI, *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    args = " ".join(str(a) for a in result.args[len(CLI) :])
    return (
        f"staffetta {args} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


@dataclass
class Cli:
    """``staffetta`` for one test: one home, one keyring file, a transcript of every run."""

    home: Path
    keyring_file: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    transcript: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return cli_env(self.home, self.keyring_file, **self.extra_env)

    def run(
        self,
        *args: str,
        expect: int | None = 0,
        env: dict[str, str] | None = None,
        input: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command; with ``expect`` (default 0), fail the test on another exit code."""
        result = run_cli({**self.env, **(env or {})}, *args, input=input, timeout=timeout)
        self.transcript.append(result)
        if expect is not None:
            assert result.returncode == expect, describe(result)
        return result

    def json(self, *args: str, expect: int = 0, **kwargs: Any) -> Any:
        result = self.run(*args, expect=expect, **kwargs)
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"not JSON ({exc}):\n{describe(result)}") from None

    def spawn(
        self, *args: str, stdout: IO[Any] | int | None = None, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``staffetta ARGS`` without waiting (its output goes to ``stdout``, default
        nowhere). The caller must ``wait`` for it."""
        target = subprocess.DEVNULL if stdout is None else stdout
        return subprocess.Popen(
            [*CLI, *args],
            env={**self.env, **(env or {})},
            stdout=target,
            stderr=subprocess.STDOUT if target is not subprocess.DEVNULL else target,
        )

    # --- setup shortcuts ------------------------------------------------------------------------

    def add_mastodon(self, name: str, instance_url: str, token: str) -> str:
        """Connect a Mastodon account (token through --secret-env); returns its id."""
        var = "STAFFETTA_TEST_TOKEN"
        account = self.json(
            "accounts",
            "add",
            "mastodon",
            "--name",
            name,
            "--set",
            f"instance_url={instance_url}",
            "--secret-env",
            var,
            "--json",
            env={var: token},
        )
        return str(account["id"])

    def add_static_site(self, name: str, folder: Path) -> str:
        account = self.json(
            "accounts", "add", "static_site", "--name", name, "--set", f"folder={folder}", "--json"
        )
        return str(account["id"])

    def publish(self, post_file: Path, *accounts: str) -> dict[str, Any]:
        result: dict[str, Any] = self.json(
            "publish", str(post_file), "--to", ",".join(accounts), "--json"
        )
        return result

    def publish_all(
        self, post_files: list[Path], accounts: list[str], timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Queue every file for ``accounts`` with one ``publish`` child each, all at once."""
        children = [
            self.spawn("publish", str(path), "--to", ",".join(accounts), stdout=subprocess.PIPE)
            for path in post_files
        ]
        try:
            for child in children:
                out, _ = child.communicate(timeout=timeout)
                assert child.returncode == 0, f"publish exited {child.returncode}: {out.decode()}"
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.communicate()

    def status(self) -> dict[str, Any]:
        report: dict[str, Any] = self.json("status", "--json", "--all")
        return report

    def outputs(self) -> list[str]:
        """Every stdout and stderr captured so far."""
        return [text for r in self.transcript for text in (r.stdout, r.stderr)]


def write_post(
    path: Path,
    body: str,
    *,
    title: str | None = None,
    images: list[tuple[Path, str]] | None = None,
) -> Path:
    """A Markdown post file with front matter (images as ``path`` + ``alt``)."""
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {json.dumps(title)}")
    if images:
        lines.append("images:")
        for image, alt in images:
            lines.append(f"  - path: {json.dumps(str(image))}")
            lines.append(f"    alt: {json.dumps(alt)}")
    lines += ["---", body, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def png(
    path: Path, size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)
) -> Path:
    from PIL import Image

    Image.new("RGB", size, colour).save(path, "PNG")
    return path


def wait_for(process: subprocess.Popen[bytes], timeout: float) -> int:
    """Wait for a child; kill it (and fail) if it does not finish in ``timeout`` seconds."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"staffetta did not finish within {timeout}s") from None
