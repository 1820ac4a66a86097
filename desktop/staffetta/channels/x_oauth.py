"""OAuth 2.0 with the user's own developer app, as X and LinkedIn do it: shared pieces.

Both platforms redirect only to an address registered in the app, so the loopback listener
(``core.oauth.LoopbackReceiver``) listens on the registered port; PKCE (S256) and ``state`` are
always used. What the keyring keeps for such an account is one JSON object
(:class:`AppTokens`): the app's client secret when the platform needs it, and the tokens.
Nothing here puts a secret into settings, logs or messages.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from staffetta.core.lazy import lazy_module
from staffetta.core.oauth import (
    BrowserOpener,
    LoopbackReceiver,
    OAuthError,
    Pkce,
    new_state,
    run_browser_authorization,
)

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
SIGN_IN_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class AppTokens:
    """The keyring secret of an account connected through the user's own app."""

    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    expires_at: float = 0.0  # epoch seconds; 0 = unknown
    refresh_expires_at: float = 0.0
    client_secret: str = field(default="", repr=False)

    @classmethod
    def load(cls, secret: str | None) -> AppTokens:
        """The stored JSON object; a plain string is a client secret typed with no sign-in yet."""
        text = (secret or "").strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict):
                return cls(
                    access_token=str(data.get("access_token") or ""),
                    refresh_token=str(data.get("refresh_token") or ""),
                    expires_at=_number(data.get("expires_at")),
                    refresh_expires_at=_number(data.get("refresh_expires_at")),
                    client_secret=str(data.get("client_secret") or ""),
                )
        return cls(client_secret=text)

    def dump(self) -> str:
        data: dict[str, Any] = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "refresh_expires_at": self.refresh_expires_at,
        }
        if self.client_secret:
            data["client_secret"] = self.client_secret
        return json.dumps(data)

    def with_grant(self, grant: dict[str, Any], now: float) -> AppTokens:
        """These tokens after a token endpoint's answer (a refresh token is kept when the
        answer brings no new one)."""
        access = grant.get("access_token")
        if not isinstance(access, str) or not access:
            raise OAuthError("The platform answered the sign-in without an access token.")
        expires_in = _number(grant.get("expires_in"))
        refresh_in = _number(grant.get("refresh_token_expires_in"))
        refresh = grant.get("refresh_token")
        return replace(
            self,
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) and refresh else self.refresh_token,
            expires_at=now + expires_in if expires_in else 0.0,
            refresh_expires_at=now + refresh_in if refresh_in else self.refresh_expires_at,
        )


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    try:
        return float(value) if value not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0


def typed_client_secret(settings: dict[str, Any], name: str = "client_secret") -> str:
    """The client secret ``authorize`` was given: typed by the user, or on a reconnect the
    stored secret (an :class:`AppTokens` object) standing in for it."""
    return AppTokens.load(str(settings.get(name) or "")).client_secret


def redirect_of(settings: dict[str, Any], platform: str) -> tuple[str, int, str]:
    """The redirect address registered in the app: (address, port, path). Loopback http only,
    with a port: the listener must be able to take it."""
    uri = str(settings.get("redirect_uri") or "").strip() or DEFAULT_REDIRECT_URI
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        parts, port = urlsplit(""), None
    if (
        parts.scheme != "http"
        or parts.hostname not in ("127.0.0.1", "localhost", "::1")
        or not port
        or parts.query
        or parts.fragment
    ):
        raise OAuthError(
            f"The sign-in address “{uri}” must be an address on this computer with a port, like "
            f"{DEFAULT_REDIRECT_URI}, registered with your {platform} app as its redirect URL."
        )
    return uri, port, parts.path or "/"


async def browser_code(
    authorize_url: str,
    query: dict[str, str],
    settings: dict[str, Any],
    platform: str,
    *,
    open_browser: BrowserOpener | None,
    timeout: float = SIGN_IN_TIMEOUT,  # noqa: ASYNC109 - part of the message shown
) -> tuple[str, str, Pkce]:
    """Run the browser step: (authorization code, redirect address used, PKCE verifier)."""
    uri, port, path = redirect_of(settings, platform)
    pkce, state = Pkce.generate(), new_state()
    receiver = LoopbackReceiver(port=port, path=path)
    await receiver.start()
    try:
        full = {
            "response_type": "code",
            **query,
            "redirect_uri": uri,
            "state": state,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
        }
        url = f"{authorize_url}?{urlencode(full)}"
        code = await run_browser_authorization(
            receiver, url, state, open_browser=open_browser, timeout=timeout
        )
    finally:
        await receiver.close()
    return code, uri, pkce


async def token_request(
    http: httpx.AsyncClient,
    url: str,
    form: dict[str, str],
    platform: str,
    *,
    basic: tuple[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST to a token endpoint: (status, JSON object). Transport failures raise
    ``httpx.TransportError`` for the caller to classify."""
    headers = {"Accept": "application/json"}
    if basic:
        pair = f"{basic[0]}:{basic[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    response = await http.post(url, data=form, headers=headers)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    return response.status_code, payload if isinstance(payload, dict) else {}


def grant_error(payload: dict[str, Any]) -> str:
    """A token endpoint's refusal in its own words (never the request's contents)."""
    error = str(payload.get("error") or "").strip()
    description = str(payload.get("error_description") or payload.get("message") or "").strip()
    if error and description:
        return f"{error}: {description}"
    return error or description or "no reason given"
