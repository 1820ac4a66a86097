"""What opening the window does not pay for: the command line's sub-commands and the demo's
sandbox, and the engine's HTTP connection pool (TLS certificates, httpcore) before it sends
anything. The pool, once built, is the one httpx builds itself (proxies from the environment
included). The figures are in tests/benchmarks/gui_startup.py."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest

from staffetta.core.http import USER_AGENT, new_http_client


def _loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = textwrap.dedent(code) + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def test_opening_the_window_skips_the_sub_commands_and_the_sandbox() -> None:
    # Qt blocked: the window's path gets as far as importing the app, then explains what is
    # missing; by then every module the start needed before Qt is loaded.
    loaded = _loaded_after(
        """
        import sys
        sys.modules["PySide6"] = None
        from staffetta.cli import main
        assert main(["--quit-after-startup"]) == 1
        """
    )
    assert "staffetta.runtime" in loaded  # the engine's modules come before Qt's
    assert not [m for m in loaded if m.startswith(("staffetta.cli.", "staffetta.sandbox"))]


def test_the_channel_registry_imports_a_channel_when_it_is_first_asked_for() -> None:
    loaded = _loaded_after(
        """
        from staffetta.runtime import Runtime
        from staffetta.channels.registry import load_channels
        channels = load_channels()
        assert "mastodon" in channels and len(channels) == 18, list(channels)
        channels["static_site"]
        """
    )
    channel_modules = [m for m in loaded if m.startswith("staffetta.channels.")]
    assert "staffetta.channels.static_site" in channel_modules
    for heavy in ("bluesky", "telegram", "instagram", "x_channel", "smtp", "ghost", "wordpress"):
        assert f"staffetta.channels.{heavy}" not in channel_modules


def test_channels_load_the_network_images_and_markdown_at_first_use() -> None:
    # Every channel, created and asked what the window asks at start (label, handle, endpoint):
    # none of them needs HTTP, asyncio, Pillow, Markdown or the keyring for that.
    loaded = _loaded_after(
        """
        from staffetta.channels.registry import load_channels
        from staffetta.core.model import Account
        channels = load_channels()
        for name, channel in channels.items():
            account = Account(f"{name}-1", name, "Me", {})
            assert channel.label and channel.endpoint(account) and channel.handle(account) != None
        """
    )
    assert "staffetta.channels.x_channel" in loaded  # every channel really was imported
    heavy = ("httpx", "asyncio", "PIL.Image", "markdown_it", "keyring", "ssl")
    assert [m for m in heavy if m in loaded] == []


def test_a_lazy_module_imports_at_first_attribute_access() -> None:
    loaded = _loaded_after(
        """
        from staffetta.core.lazy import lazy_module
        colorsys = lazy_module("colorsys")
        import sys
        assert "colorsys" not in sys.modules, "imported too early"
        assert "not loaded yet" in repr(colorsys)
        assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
        assert "not loaded yet" not in repr(colorsys), repr(colorsys)
        """
    )
    assert "colorsys" in loaded


def test_a_lazy_pattern_compiles_at_first_use_and_then_is_the_compiled_one() -> None:
    loaded = _loaded_after(
        """
        import sys
        from staffetta.core.lazy import lazy_regex
        words = lazy_regex(r"\\p{L}+", "IGNORECASE")
        assert "regex" not in sys.modules, "imported too early"
        assert words.findall("Caffè, naïve!") == ["Caffè", "naïve"]
        assert words.search("42 ok").group() == "ok"
        assert "findall" in vars(words)  # later calls go straight to the compiled pattern
        """
    )
    assert "regex" in loaded


def test_a_sub_command_still_gets_the_full_command_line() -> None:
    loaded = _loaded_after(
        """
        import contextlib, io
        from staffetta.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
            main(["--help"])
        assert "flush" in out.getvalue() and "demo" in out.getvalue(), out.getvalue()
        """
    )
    assert "staffetta.cli.commands" in loaded


def test_the_http_client_builds_its_connection_pool_at_the_first_request() -> None:
    loaded = _loaded_after(
        """
        from staffetta.core.http import new_http_client
        client = new_http_client()
        """
    )
    assert "httpx" in loaded
    assert "httpcore" not in loaded  # nor the certificates: httpx loads both with the pool


async def _serve_one(seen: list[bytes]) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


async def test_the_first_request_goes_out_with_the_app_s_user_agent() -> None:
    seen: list[bytes] = []
    server = await _serve_one(seen)
    port = server.sockets[0].getsockname()[1]
    async with server, new_http_client() as http:
        response = await http.get(f"http://127.0.0.1:{port}/hello")
    assert response.text == "ok"
    assert seen[0].startswith(b"GET /hello HTTP/1.1")
    assert f"User-Agent: {USER_AGENT}".encode() in seen[0]


async def test_a_proxy_from_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []
    server = await _serve_one(seen)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with server, new_http_client() as http:
        response = await http.get("http://blog.example/feed")
    assert response.text == "ok"
    assert seen[0].startswith(b"GET http://blog.example/feed HTTP/1.1")  # asked of the proxy


async def test_a_closed_client_refuses_to_send() -> None:
    http = new_http_client()
    await http.aclose()
    with pytest.raises(RuntimeError):
        await http.get("http://127.0.0.1:9/")
