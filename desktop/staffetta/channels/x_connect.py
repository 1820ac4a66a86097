"""Connecting an X account with the user's own app (OAuth 2.0, PKCE, loopback), and keeping its
tokens fresh.

X access tokens live two hours; with the ``offline.access`` scope a refresh token comes along,
and each refresh returns a new refresh token (the old one stops working). So a refresh is done
shortly *before* the access token expires, and the new pair is handed to ``save``
(``DeliveryContext.update_secret``) at once. A refresh X refuses means the user has to sign in
again: :class:`AuthError`, the account pauses and its posts wait.

"Native App" (public) clients have no secret: the client id goes in the form. Confidential app
types ("Web App, Automated App or Bot") authenticate with HTTP Basic client id + secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from staffetta.channels import x_api as api
from staffetta.channels.x_oauth import (
    AppTokens,
    browser_code,
    grant_error,
    token_request,
    typed_client_secret,
)
from staffetta.core.channel import Authorization
from staffetta.core.errors import AuthError, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.oauth import BrowserOpener, OAuthError

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

log = logging.getLogger(__name__)

REFRESH_MARGIN = 300.0  # refresh this long before the access token's expiry


def client_id_of(settings: dict[str, Any]) -> str:
    client_id = str(settings.get("client_id") or "").strip()
    if not client_id:
        raise OAuthError(
            "Enter your X app's Client ID (developer.x.com → your app → Keys and tokens → "
            "OAuth 2.0 Client ID)."
        )
    return client_id


def _basic(client_id: str, secret: str) -> tuple[str, str] | None:
    return (client_id, secret) if secret else None


async def sign_in(
    http: httpx.AsyncClient,
    settings: dict[str, Any],
    *,
    open_browser: BrowserOpener | None,
    now: float,
    timeout: float = 300.0,  # noqa: ASYNC109 - part of the message shown
) -> Authorization:
    """The browser sign-in; the tokens (and client secret, if any) for the keyring."""
    ends = api.endpoints(str(settings.get("api_url") or ""))
    client_id = client_id_of(settings)
    secret = typed_client_secret(settings)
    code, redirect_uri, pkce = await browser_code(
        ends.authorize,
        {"client_id": client_id, "scope": api.SCOPES},
        settings,
        "X",
        open_browser=open_browser,
        timeout=timeout,
    )
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pkce.verifier,
        "client_id": client_id,
    }
    try:
        status, payload = await token_request(
            http, ends.token, form, "X", basic=_basic(client_id, secret)
        )
    except httpx.TransportError as exc:
        raise OAuthError(f"X could not be reached to finish the sign-in ({exc}).") from None
    if status != 200:
        raise OAuthError(
            f"X did not accept the sign-in ({grant_error(payload)}). Check the Client ID (and "
            "secret) and that the app's callback URL is exactly the sign-in address."
        )
    tokens = AppTokens(client_secret=secret).with_grant(payload, now)
    if not tokens.refresh_token:
        log.info("X gave no refresh token: the offline.access scope was not granted")
    me = await me_of(http, ends.api, tokens.access_token, now=now)
    username = str(me.get("username") or "")
    found: dict[str, Any] = {
        "client_id": client_id,
        "user_id": str(me.get("id") or ""),
        "username": username,
        "handle": f"@{username}",
    }
    for key in ("redirect_uri", "api_url"):
        if settings.get(key):
            found[key] = str(settings[key])
    return Authorization(tokens.dump(), found)


async def me_of(http: httpx.AsyncClient, base: str, token: str, *, now: float) -> dict[str, Any]:
    """``GET /2/users/me``: who the token belongs to (401 → AuthError)."""
    response = await api.request(http, "GET", f"{base}/2/users/me", token=token, now=now)
    data = api.data_of(response, "the account")
    if not data.get("id") or not data.get("username"):
        raise TransientError("X did not say which account this is.")
    return data


class XSession:
    """The account's tokens for one delivery (or check), refreshed before they expire."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        secret: str | None,
        *,
        now: Callable[[], float],
        save: Callable[[str], None] | None,
    ) -> None:
        self.http = http
        self.settings = settings
        self.ends = api.endpoints(str(settings.get("api_url") or ""))
        self.tokens = AppTokens.load(secret)
        self._now = now
        self._save = save
        self.refreshes = 0

    async def token(self) -> str:
        """An access token good for the next minutes, refreshing it first when needed."""
        if not self.tokens.access_token:
            raise AuthError(
                "This X account is not signed in: use “Sign in with your browser” (the client "
                "secret alone does not sign in)."
            )
        expiry = self.tokens.expires_at
        if expiry and expiry - self._now() <= REFRESH_MARGIN:
            await self.refresh()
        return self.tokens.access_token

    @property
    def can_refresh(self) -> bool:
        return bool(self.tokens.refresh_token) and self._save is not None

    async def refresh(self) -> None:
        """Trade the refresh token for new tokens and store them at once."""
        if not self.tokens.refresh_token:
            raise AuthError(
                "X's sign-in for this account has expired and cannot be renewed (no "
                "offline.access) — reconnect it."
            )
        if self._save is None:
            # Renewing would spend the refresh token with nowhere to keep the new one.
            raise AuthError("X's sign-in for this account needs renewing; it will be at the "
                            "next post.")  # fmt: skip
        client_id = client_id_of(self.settings)
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.tokens.refresh_token,
            "client_id": client_id,
        }
        try:
            status, payload = await token_request(
                self.http,
                self.ends.token,
                form,
                "X",
                basic=_basic(client_id, self.tokens.client_secret),
            )
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach X to renew the sign-in: {exc}") from None
        if status == 429 or status >= 500:
            raise TransientError(f"X could not renew the sign-in now (HTTP {status}).")
        if status != 200:
            raise AuthError(
                f"X no longer accepts this account's sign-in ({grant_error(payload)}) — "
                "reconnect it."
            )
        self.tokens = self.tokens.with_grant(payload, self._now())
        self.refreshes += 1
        try:
            self._save(self.tokens.dump())
        except Exception:  # the keyring refused: this delivery still has the fresh token
            log.warning("could not store X's renewed sign-in in the keyring", exc_info=True)

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, signed in; a 401 is answered by one refresh and one more try."""
        url = f"{self.ends.api}{path}"
        token = await self.token()
        try:
            return await api.request(self.http, method, url, token=token, now=self._now(), **kwargs)
        except AuthError:
            if not self.can_refresh:
                raise
        await self.refresh()
        return await api.request(
            self.http, method, url, token=self.tokens.access_token, now=self._now(), **kwargs
        )
