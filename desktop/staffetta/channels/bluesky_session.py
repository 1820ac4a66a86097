"""Bluesky sessions from an app password, kept in the keyring and reused.

``com.atproto.server.createSession`` is itself rate-limited (30 per 5 minutes, 300 a day per
account), so a session is created once and then renewed: the access JWT (2 hours on the reference
PDS) is refreshed with ``refreshSession`` and the **refresh** JWT shortly before it expires (read
from its ``exp``) and whenever the server answers 400 ``ExpiredToken`` — which is how an expired
token comes back, not as a 401. Only when the refresh token is refused too is a new session
created from the app password; only when that is refused does the account need the user.

The account's keyring secret is a JSON object with the app password and the current tokens
(:class:`Credentials`); a plain string is an app password with no session yet (what the user types
when connecting). Tokens never go to settings, the database, logs or messages.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from staffetta.channels import bluesky_api as api
from staffetta.core.channel import retry_after_seconds
from staffetta.core.clock import Clock
from staffetta.core.errors import AuthError, RateLimited, TransientError, UnknownOutcome
from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

log = logging.getLogger(__name__)

# Refresh this long before the access token's ``exp``, so a request never races its expiry.
REFRESH_MARGIN = 120.0
_ANY_STATUS = tuple(range(100, 600))
# createSession/refreshSession refusals that mean "these tokens or this password are no good".
_REFUSED = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"})


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the keyring holds for one Bluesky account."""

    password: str = field(repr=False)
    access_jwt: str = field(default="", repr=False)
    refresh_jwt: str = field(default="", repr=False)
    did: str = ""
    pds_url: str = ""  # the server that issued the tokens

    @classmethod
    def load(cls, secret: str | None) -> Credentials:
        """Read the keyring secret: a JSON object from an earlier session, or an app password."""
        text = (secret or "").strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("app_password"), str):
                return cls(
                    password=data["app_password"],
                    access_jwt=str(data.get("access_jwt") or ""),
                    refresh_jwt=str(data.get("refresh_jwt") or ""),
                    did=str(data.get("did") or ""),
                    pds_url=str(data.get("pds_url") or ""),
                )
        if not text:
            raise AuthError("This Bluesky account has no app password — reconnect it.")
        return cls(password=text)

    def dump(self) -> str:
        return json.dumps(
            {
                "app_password": self.password,
                "access_jwt": self.access_jwt,
                "refresh_jwt": self.refresh_jwt,
                "did": self.did,
                "pds_url": self.pds_url,
            }
        )


class Session:
    """Authenticated XRPC calls for one account on its PDS, renewing tokens as needed.

    ``save`` receives the keyring secret whenever the tokens change (``DeliveryContext
    .update_secret``); nothing else ever sees them.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        pds_url: str,
        identifier: str,
        credentials: Credentials,
        clock: Clock,
        save: Callable[[str], None] = lambda _secret: None,
    ) -> None:
        self.http = http
        self.pds_url = pds_url
        self.identifier = identifier
        self.clock = clock
        self._save = save
        self.credentials = credentials
        if credentials.pds_url and credentials.pds_url != pds_url:
            # The account moved to another server: tokens of the old one mean nothing here.
            self.credentials = Credentials(credentials.password)
        self.handle = ""
        self.creates = 0  # createSession calls made (rate-limited: tests keep an eye on it)
        self.refreshes = 0

    @property
    def did(self) -> str:
        return self.credentials.did

    # --- tokens -----------------------------------------------------------------------------------
    def _fresh(self, token: str) -> bool:
        if not token:
            return False
        expiry = api.jwt_expiry(token)
        return expiry is None or expiry - self.clock.now() > REFRESH_MARGIN

    async def access_token(self) -> str:
        """A usable access JWT: the stored one while it is fresh, else refreshed or created."""
        if self._fresh(self.credentials.access_jwt):
            return self.credentials.access_jwt
        await self.renew()
        return self.credentials.access_jwt

    async def renew(self) -> None:
        """Refresh the session, or create a new one if the refresh token is refused or stale."""
        if self._fresh(self.credentials.refresh_jwt) and await self._refresh():
            return
        await self.create()

    async def create(self) -> None:
        """``createSession`` with the app password (AuthError when Bluesky refuses it)."""
        self.creates += 1
        response = await _sign_in_call(
            self.http,
            self.pds_url,
            "com.atproto.server.createSession",
            now=self.clock.now(),
            json={"identifier": self.identifier, "password": self.credentials.password},
        )
        if response.status_code == 200:
            self._adopt(api.json_object(response, "the sign-in"))
            return
        name, _ = api.error_of(response)
        message = api.error_message(response)
        if response.status_code == 429:
            raise RateLimited(
                f"Bluesky limits how often an account signs in: {message}",
                retry_after_seconds(response, self.clock.now()),
            )
        if response.status_code >= 500:
            raise api.classify_response(response, self.clock.now())
        if name == "AuthFactorTokenRequired":
            raise AuthError(
                "Bluesky asks for an e-mail code for this password: use an app password instead "
                "(Bluesky → Settings → Privacy and security → App passwords) and reconnect."
            )
        raise AuthError(
            f"Bluesky refused the app password for {self.identifier} — create a new one "
            f"(Bluesky → Settings → Privacy and security → App passwords) and reconnect the "
            f"account. (Bluesky said: {message})"
        )

    async def _refresh(self) -> bool:
        """``refreshSession`` with the refresh JWT; False when the server refuses that token."""
        self.refreshes += 1
        response = await _sign_in_call(
            self.http,
            self.pds_url,
            "com.atproto.server.refreshSession",
            now=self.clock.now(),
            token=self.credentials.refresh_jwt,
        )
        if response.status_code == 200:
            self._adopt(api.json_object(response, "the session refresh"))
            return True
        name, _ = api.error_of(response)
        if response.status_code in (400, 401) and (name in _REFUSED or response.status_code == 401):
            return False
        raise api.classify_response(response, self.clock.now())

    def _adopt(self, payload: dict[str, Any]) -> None:
        access, refresh = payload.get("accessJwt"), payload.get("refreshJwt")
        did = payload.get("did")
        if not isinstance(access, str) or not isinstance(refresh, str) or not access:
            raise AuthError(
                "Bluesky answered the sign-in without a session; reconnect the account."
            )
        if payload.get("active") is False:
            status = str(payload.get("status") or "deactivated")
            raise AuthError(
                f"This Bluesky account is {status}: it cannot post until it is active again."
            )
        self.handle = str(payload.get("handle") or "")
        self.credentials = replace(
            self.credentials,
            access_jwt=access,
            refresh_jwt=refresh,
            did=did if isinstance(did, str) and did else self.credentials.did,
            pds_url=self.pds_url,
        )
        try:
            self._save(self.credentials.dump())
        except Exception as exc:  # e.g. the keyring got locked: the post can still go out
            log.warning("could not keep the Bluesky session in the keyring: %s", type(exc).__name__)

    # --- calls ------------------------------------------------------------------------------------
    async def call(
        self,
        method: str,
        nsid: str,
        *,
        ok: tuple[int, ...] = (200,),
        raise_errors: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """One authenticated XRPC call; an expired or refused access token is renewed once.

        Retrying after such a refusal is safe even for a write: the server refused the request at
        authentication, before doing anything. Other error answers raise their classified
        DeliveryError, or are returned as they are with ``raise_errors=False``.
        """
        token = await self.access_token()
        for attempt in range(2):
            response = await api.xrpc(
                self.http,
                method,
                self.pds_url,
                nsid,
                now=self.clock.now(),
                token=token,
                ok=_ANY_STATUS,
                **kwargs,
            )
            if response.status_code in ok:
                return response
            if attempt == 0 and _token_refused(response):
                await self.renew()
                token = self.credentials.access_jwt
                continue
            if not raise_errors:
                return response
            raise api.classify_response(response, self.clock.now())
        raise AssertionError("unreachable")  # pragma: no cover


async def _sign_in_call(
    http: httpx.AsyncClient, pds_url: str, nsid: str, **kwargs: Any
) -> httpx.Response:
    """A session call. Its answer lost on the way back publishes nothing: plain transient."""
    try:
        return await api.xrpc(http, "POST", pds_url, nsid, ok=_ANY_STATUS, **kwargs)
    except UnknownOutcome as exc:
        raise TransientError(str(exc)) from None


def _token_refused(response: httpx.Response) -> bool:
    name, _ = api.error_of(response)
    if response.status_code == 400:
        return name in ("ExpiredToken", "InvalidToken")
    return response.status_code == 401 and name in (
        "",
        "ExpiredToken",
        "InvalidToken",
        "AuthMissing",
    )


async def open_session(
    http: httpx.AsyncClient,
    pds_url: str,
    identifier: str,
    secret: str | None,
    clock: Clock,
    save: Callable[[str], None] = lambda _secret: None,
) -> Session:
    """A session for the account, reusing the stored tokens when they are still good."""
    credentials = Credentials.load(secret)
    return Session(http, pds_url, credentials.did or identifier, credentials, clock, save)


__all__ = ["REFRESH_MARGIN", "Credentials", "Session", "open_session"]
