"""Connecting a LinkedIn member (or a page they administer) with the user's own app.

LinkedIn's sign-in is OAuth 2.0 with the app's client secret (its native PKCE flow is enabled
only for apps LinkedIn approves), in the system browser, answered on the loopback address the
user registers in the app's Auth tab; PKCE and ``state`` are sent as well. The access token lasts
60 days and, outside LinkedIn's approved partners, cannot be renewed: its expiry is kept as the
non-secret setting ``token_expires_at``, the preview and the account row remind the user to
reconnect in the last week, and once it has passed the account pauses (its posts wait) until the
user signs in again. The keyring holds the client secret and the token as one JSON object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from staffetta.channels import linkedin_api as api
from staffetta.channels.x_oauth import (
    AppTokens,
    browser_code,
    grant_error,
    token_request,
    typed_client_secret,
)
from staffetta.core.channel import Authorization
from staffetta.core.errors import TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.oauth import BrowserOpener, OAuthError

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

WARN_BEFORE = 7 * 86400.0  # remind the user this long before the token lapses


def organization_urn(settings: dict[str, Any]) -> str:
    """``urn:li:organization:123`` for a page (typed as its number or its URN), or ""."""
    raw = str(settings.get("organization") or "").strip()
    if not raw:
        return ""
    number = raw.rsplit(":", 1)[-1].strip().rstrip("/").rsplit("/", 1)[-1]
    if not number.isdigit():
        raise OAuthError(
            f"“{raw}” is not a LinkedIn page id: use the number in the page's admin address "
            "(linkedin.com/company/12345678/admin) or urn:li:organization:12345678."
        )
    return f"urn:li:organization:{number}"


def scopes_for(settings: dict[str, Any]) -> str:
    extra = f" {api.ORGANIZATION_SCOPE}" if organization_urn(settings) else ""
    return api.MEMBER_SCOPES + extra


async def sign_in(
    http: httpx.AsyncClient,
    settings: dict[str, Any],
    *,
    open_browser: BrowserOpener | None,
    now: float,
    timeout: float = 300.0,  # noqa: ASYNC109 - part of the message shown
) -> Authorization:
    ends = api.endpoints(str(settings.get("api_url") or ""))
    client_id = str(settings.get("client_id") or "").strip()
    secret = typed_client_secret(settings)
    if not client_id or not secret:
        raise OAuthError(
            "Enter your LinkedIn app's Client ID and Client Secret (linkedin.com/developers → "
            "your app → Auth)."
        )
    organization = organization_urn(settings)
    code, redirect_uri, pkce = await browser_code(
        ends.authorize,
        {"client_id": client_id, "scope": scopes_for(settings)},
        settings,
        "LinkedIn",
        open_browser=open_browser,
        timeout=timeout,
    )
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": secret,
        "code_verifier": pkce.verifier,
    }
    try:
        status, payload = await token_request(http, ends.token, form, "LinkedIn")
    except httpx.TransportError as exc:
        raise OAuthError(f"LinkedIn could not be reached to finish the sign-in ({exc}).") from None
    if status != 200:
        raise OAuthError(
            f"LinkedIn did not accept the sign-in ({grant_error(payload)}). Check the Client ID "
            "and secret, and that the sign-in address is an Authorized redirect URL of the app."
        )
    tokens = AppTokens(client_secret=secret).with_grant(payload, now)
    me = await userinfo(http, ends.api, tokens.access_token, now=now)
    member = f"urn:li:person:{me['sub']}"
    found: dict[str, Any] = {
        "client_id": client_id,
        "member_urn": member,
        "author_urn": organization or member,
        "handle": str(me.get("name") or me["sub"]),
        "token_expires_at": tokens.expires_at,
    }
    for key in ("redirect_uri", "api_url", "organization"):
        if settings.get(key):
            found[key] = str(settings[key])
    return Authorization(tokens.dump(), found)


async def userinfo(http: httpx.AsyncClient, base: str, token: str, *, now: float) -> dict[str, Any]:
    """OpenID Connect ``/v2/userinfo``: the member behind ``token`` (401 → AuthError)."""
    response = await api.request(
        http, "GET", f"{base}/v2/userinfo", token=token, now=now, rest=False
    )
    me = api.json_object(response, "the member")
    if not isinstance(me.get("sub"), str) or not me["sub"]:
        raise TransientError("LinkedIn did not say which member signed in.")
    return me
