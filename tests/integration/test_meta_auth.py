"""Signing in to Meta with the user's own app, end to end against the sandbox Meta: a scripted
browser approves on the authorization page, the loopback listener on the registered address takes
the code, the short-lived token becomes a 60-day one with the app secret, and the result is ready
for the keyring (secret) and the settings (everything else). Also through the real command line,
with $BROWSER as the scripted browser."""

from __future__ import annotations

import asyncio
import html
import json
import re
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from staffetta.channels import meta_auth
from staffetta.channels.facebook import FacebookPageChannel
from staffetta.channels.instagram import InstagramChannel
from staffetta.channels.meta_auth import FACEBOOK, MetaSecret
from staffetta.channels.threads_channel import ThreadsChannel
from staffetta.core.channel import Authorization
from staffetta.core.clock import SystemClock
from staffetta.core.oauth import OAuthError, Pkce
from staffetta.core.paths import Paths
from staffetta.core.secrets import SecretStore
from staffetta.runtime import Runtime
from staffetta.sandbox import SandboxServer
from staffetta.sandbox.meta import DEFAULT_APP_ID, DEFAULT_APP_SECRET, MetaPlatform
from support import Cli

NAME = "meta"
CHANNELS = {
    "instagram": InstagramChannel(),
    "facebook": FacebookPageChannel(),
    "threads": ThreadsChannel(),
}


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_for(sb: SandboxServer, **extra: str) -> dict[str, Any]:
    return {
        "app_id": DEFAULT_APP_ID,
        "app_secret": DEFAULT_APP_SECRET,
        "api_url": sb.platform_url(NAME),
        "redirect_uri": f"http://localhost:{free_port()}/callback",
        **extra,
    }


async def approving_browser(url: str) -> None:
    """What the user does: open the page, press Allow, land on Staffetta's loopback page."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        page = await browser.get(url)
        allow = re.search(r'id="allow" href="([^"]+)"', page.text)
        assert allow is not None, page.text
        answer = await browser.get(html.unescape(allow.group(1)))
    assert "close this tab and return to Staffetta" in answer.text


async def denying_browser(url: str) -> None:
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        page = await browser.get(url)
        deny = re.search(r'id="deny" href="([^"]+)"', page.text)
        assert deny is not None
        await browser.get(html.unescape(deny.group(1)))


def authorize(sb: SandboxServer, product: str, settings: dict[str, Any], browser: Any) -> Any:
    async def scenario() -> Authorization:
        async with httpx.AsyncClient(timeout=10) as http:
            return await CHANNELS[product].authorize(http, settings, browser)

    return run(scenario)


@pytest.mark.parametrize("product", ["instagram", "facebook", "threads"])
def test_sign_in_end_to_end(sb: SandboxServer, product: str) -> None:
    settings = settings_for(sb)
    before = time.time()

    authorization = authorize(sb, product, settings, approving_browser)

    secret = MetaSecret.load(authorization.secret)
    assert secret.app_secret == DEFAULT_APP_SECRET
    platform = sb.platform(NAME)
    assert isinstance(platform, MetaPlatform)
    token = platform.auth.tokens[secret.user_token]
    assert token.long_lived  # exchanged for the 60-day token
    if product == "facebook":
        assert authorization.settings["handle"] == "Demo Page"
        assert secret.page_token
        assert secret.page_id == authorization.settings["page_id"]
        assert secret.expires_at == 0.0  # the Page token does not expire
    else:
        assert authorization.settings["handle"] == "@demo"
        assert authorization.settings["user_id"]
        assert secret.expires_at == pytest.approx(before + 60 * 86400, abs=300)
    # Nothing secret in what goes to the settings, nor in the repr.
    flat = json.dumps(authorization.settings)
    assert DEFAULT_APP_SECRET not in flat
    assert secret.user_token not in flat
    assert authorization.secret not in repr(authorization)
    requests = [r["path"] for r in sb.requests(NAME)]
    assert any(p.endswith(("/dialog/oauth", "/oauth/authorize")) for p in requests)
    exchange = "/oauth/access_token" if product == "facebook" else "/access_token"
    assert any(p.endswith(exchange) for p in requests)


def test_facebook_sign_in_uses_pkce(sb: SandboxServer) -> None:
    seen: list[str] = []

    async def spying_browser(url: str) -> None:
        seen.append(url)
        await approving_browser(url)

    authorize(sb, "facebook", settings_for(sb), spying_browser)
    query = httpx.URL(seen[0]).params
    assert query["code_challenge_method"] == "S256"
    assert query["state"]
    assert query["scope"] == "pages_show_list,pages_read_engagement,pages_manage_posts"


def test_a_wrong_pkce_verifier_is_refused(sb: SandboxServer) -> None:
    settings = settings_for(sb)
    redirect_uri = settings["redirect_uri"]
    pkce = Pkce.generate()
    codes: list[str] = []

    async def catch_code(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as browser:
            page = await browser.get(url)
            allow = re.search(r'id="allow" href="([^"]+)"', page.text)
            assert allow is not None
            answer = await browser.get(html.unescape(allow.group(1)))
        codes.append(httpx.URL(answer.headers["location"]).params["code"])

    async def scenario() -> None:
        url = meta_auth.authorize_url(
            FACEBOOK, sb.platform_url(NAME), DEFAULT_APP_ID, redirect_uri, state="s", pkce=pkce
        )
        await catch_code(url)
        async with httpx.AsyncClient() as http:
            with pytest.raises(OAuthError, match="did not accept the sign-in") as caught:
                await meta_auth.exchange_code(
                    http, FACEBOOK, sb.platform_url(NAME), DEFAULT_APP_ID, DEFAULT_APP_SECRET,
                    codes[0], redirect_uri, Pkce.generate(), SystemClock(),
                )  # fmt: skip
        assert DEFAULT_APP_SECRET not in str(caught.value)
        assert codes[0] not in str(caught.value)

    run(scenario)


def test_declining_in_the_browser(sb: SandboxServer) -> None:
    with pytest.raises(OAuthError, match="declined in the browser"):
        authorize(sb, "threads", settings_for(sb), denying_browser)


def test_wrong_app_secret_is_refused_without_showing_it(sb: SandboxServer) -> None:
    settings = settings_for(sb, app_secret="not-the-right-secret-1234")
    with pytest.raises(OAuthError, match="Check the app id and app secret") as caught:
        authorize(sb, "instagram", settings, approving_browser)
    assert "not-the-right-secret-1234" not in str(caught.value)


def test_missing_app_secret_is_asked_for_before_the_browser_opens(sb: SandboxServer) -> None:
    opened: list[str] = []
    settings = settings_for(sb)
    del settings["app_secret"]
    with pytest.raises(OAuthError, match="app secret"):
        authorize(sb, "instagram", settings, opened.append)
    assert opened == []
    assert sb.requests(NAME) == []


def test_redirect_address_must_be_on_this_computer(sb: SandboxServer) -> None:
    settings = settings_for(sb, redirect_uri="https://example.org/callback")
    with pytest.raises(OAuthError, match="http://localhost:PORT/PATH"):
        authorize(sb, "threads", settings, approving_browser)


def test_unregistered_redirect_address_shows_meta_page(sb: SandboxServer) -> None:
    sb.configure(NAME, redirect_uris=["http://localhost:1/registered"])
    pages: list[str] = []

    async def looking_browser(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as browser:
            pages.append((await browser.get(url)).text)
        raise OAuthError("The user saw Meta's error page and gave up.")

    with pytest.raises(OAuthError, match="gave up"):
        authorize(sb, "instagram", settings_for(sb), looking_browser)
    assert "redirect URI is not allowlisted" in pages[0]


def test_reconnect_with_the_stored_secret_standing_in(sb: SandboxServer) -> None:
    """Reconnecting: the stored JSON secret holds the app secret, so it need not be typed."""
    first = authorize(sb, "threads", settings_for(sb), approving_browser)
    again = authorize(sb, "threads", settings_for(sb, app_secret=first.secret), approving_browser)
    assert MetaSecret.load(again.secret).app_secret == DEFAULT_APP_SECRET
    assert MetaSecret.load(again.secret).user_token != MetaSecret.load(first.secret).user_token


def test_connect_stores_the_secret_only_in_the_keyring(
    sb: SandboxServer, home: Path, secrets: SecretStore
) -> None:
    settings = settings_for(sb)
    runtime = Runtime.open(Paths.under(home), secrets=secrets)
    try:

        async def scenario() -> Any:
            async with httpx.AsyncClient(timeout=10) as http:
                authorization = await CHANNELS["instagram"].authorize(
                    http, settings, approving_browser
                )
                public = {k: v for k, v in settings.items() if k != "app_secret"}
                return await runtime.connect(
                    http,
                    "instagram",
                    "",
                    {**public, **authorization.settings},
                    authorization.secret,
                )

        account = run(scenario)
        assert account.name == "@demo"
        stored = MetaSecret.load(secrets.get(account.id))
        assert stored.app_secret == DEFAULT_APP_SECRET
        assert stored.user_token
    finally:
        runtime.close()
    database = (home / "data" / "outbox.sqlite3").read_bytes()
    assert DEFAULT_APP_SECRET.encode() not in database
    assert stored.user_token.encode() not in database


# --- the real command line, with $BROWSER as the scripted browser --------------------------------

BROWSER_SCRIPT = """
import html, re, sys, urllib.request
page = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
allow = html.unescape(re.search(r'id="allow" href="([^"]+)"', page).group(1))
answer = urllib.request.urlopen(allow, timeout=10).read().decode()
sys.exit(0 if "close this tab" in answer else 1)
"""


def test_command_line_sign_in_and_reconnect(sb: SandboxServer, tmp_path: Path) -> None:
    script = tmp_path / "approve.py"
    script.write_text(BROWSER_SCRIPT)
    cli = Cli(
        tmp_path / "home",
        tmp_path / "keyring.json",
        extra_env={"BROWSER": f"{sys.executable} {script} %s"},
    )
    (tmp_path / "home").mkdir()
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    account = cli.json(
        "accounts", "add", "threads", "--browser", "--secret-env", "APP_SECRET", "--json",
        "--set", f"app_id={DEFAULT_APP_ID}", "--set", f"api_url={sb.platform_url(NAME)}",
        "--set", f"redirect_uri={redirect}",
        env={"APP_SECRET": DEFAULT_APP_SECRET},
    )  # fmt: skip
    assert account["settings"]["handle"] == "@demo"
    assert "app_secret" not in account["settings"]

    # The sign-in is revoked (a password change): reconnecting needs no secret typed again.
    sb.revoke_tokens(NAME)
    failed = cli.run("accounts", "test", account["id"], expect=None)
    assert failed.returncode != 0
    cli.run("accounts", "reconnect", account["id"], "--browser")
    cli.run("accounts", "test", account["id"])
    for output in cli.outputs():
        assert DEFAULT_APP_SECRET not in output
