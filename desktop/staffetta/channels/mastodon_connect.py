"""Connecting a Mastodon account: app registration, OAuth (PKCE + loopback, or out-of-band code),
and verifying a pasted token.

Mastodon has no public clients: each server gets its own app (``POST /api/v1/apps``) whose
``client_secret`` is a secret like any other — returned to the caller for the keyring, never
logged or put in a message. The loopback flow registers the app with the receiver's exact
redirect URI; servers implementing RFC 8252 §7.3 would also accept another port, older ones would
not, so one app per connection is the compatible choice. Tokens do not expire until revoked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from staffetta.channels import mastodon_api as api
from staffetta.core.clock import Clock, SystemClock
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

# What publishing needs: post statuses and media, read our own account and statuses (reconcile).
SCOPES = "read:accounts read:statuses write:media write:statuses"
OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
_ANY_STATUS = tuple(range(100, 600))


@dataclass(frozen=True, slots=True)
class AppRegistration:
    """Staffetta registered as an app on one server. ``client_secret`` is a secret."""

    instance_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...] = ()
    scopes: str = SCOPES


@dataclass(frozen=True, slots=True)
class ConnectedAccount:
    """The result of connecting: the token for the keyring, the rest for ``Account.settings``."""

    token: str = field(repr=False)
    handle: str
    account_id: str
    settings: dict[str, Any]
    app: AppRegistration | None = None


@dataclass(frozen=True, slots=True)
class OobAuthorization:
    """Step one of the out-of-band flow: show ``url`` to the user, then exchange the code."""

    instance_url: str
    app: AppRegistration
    pkce: Pkce = field(repr=False)
    state: str
    url: str


def _clock(clock: Clock | None) -> Clock:
    return clock if clock is not None else SystemClock()


async def register_app(
    http: httpx.AsyncClient,
    instance_url: str,
    redirect_uris: str | list[str] | tuple[str, ...],
    *,
    client_name: str = "Staffetta",
    website: str = "",
    scopes: str = SCOPES,
    clock: Clock | None = None,
) -> AppRegistration:
    """``POST /api/v1/apps``: a client id and secret for this server."""
    base = api.normalise_instance_url(instance_url)
    uris = (redirect_uris,) if isinstance(redirect_uris, str) else tuple(redirect_uris)
    form = {"client_name": client_name, "redirect_uris": "\n".join(uris), "scopes": scopes}
    if website:
        form["website"] = website
    response = await api.request(
        http, "POST", f"{base}/api/v1/apps", now=_clock(clock).now(), ok=_ANY_STATUS, data=form
    )
    if response.status_code != 200:
        raise OAuthError(
            f"{api.host_of(base)} did not let Staffetta register "
            f"({api.error_message(response)}). Check the server address, or paste an access "
            "token instead."
        )
    payload = api.json_object(response, "the app registration")
    client_id, client_secret = payload.get("client_id"), payload.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        raise OAuthError(f"{api.host_of(base)} answered the app registration without credentials.")
    return AppRegistration(base, client_id, client_secret, uris, scopes)


def authorize_url(
    instance_url: str,
    client_id: str,
    redirect_uri: str,
    *,
    state: str,
    code_challenge: str,
    scopes: str = SCOPES,
    force_login: bool = False,
) -> str:
    """The page where the user approves Staffetta (``GET /oauth/authorize``, PKCE S256)."""
    base = api.normalise_instance_url(instance_url)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scopes,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if force_login:
        query["force_login"] = "true"
    return f"{base}/oauth/authorize?{urlencode(query)}"


async def exchange_code(
    http: httpx.AsyncClient,
    app: AppRegistration,
    code: str,
    *,
    redirect_uri: str,
    code_verifier: str,
    clock: Clock | None = None,
) -> str:
    """``POST /oauth/token`` with the code and the PKCE verifier; returns the access token."""
    code = code.strip()
    if not code:
        raise OAuthError("Paste the authorization code the server showed you.")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
        "scope": app.scopes,
    }
    response = await api.request(
        http,
        "POST",
        f"{app.instance_url}/oauth/token",
        now=_clock(clock).now(),
        ok=_ANY_STATUS,
        data=form,
    )
    if response.status_code != 200:
        raise OAuthError(
            f"{api.host_of(app.instance_url)} did not accept the sign-in "
            f"({api.error_message(response)}). Start connecting the account again."
        )
    token = api.json_object(response, "the sign-in").get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuthError(f"{api.host_of(app.instance_url)} answered the sign-in without a token.")
    return token


async def verify_credentials(
    http: httpx.AsyncClient, instance_url: str, token: str, *, now: float
) -> dict[str, Any]:
    """``GET /api/v1/accounts/verify_credentials``: who ``token`` belongs to (401 → AuthError)."""
    base = api.normalise_instance_url(instance_url)
    response = await api.request(
        http, "GET", f"{base}/api/v1/accounts/verify_credentials", now=now, token=token
    )
    me = api.json_object(response, "the account")
    if not me.get("id") or not me.get("username"):
        raise OAuthError(f"{api.host_of(base)} did not say which account this token belongs to.")
    return me


async def connect_with_token(
    http: httpx.AsyncClient, instance_url: str, token: str, *, clock: Clock | None = None
) -> ConnectedAccount:
    """Check a pasted access token and read the account and the server's limits."""
    token = token.strip()
    if not token:
        raise OAuthError("Paste an access token, or leave it empty to sign in with the browser.")
    return await _finish(http, api.normalise_instance_url(instance_url), token, None, clock)


async def connect_with_oauth(
    http: httpx.AsyncClient,
    instance_url: str,
    *,
    open_browser: BrowserOpener | None = None,
    receiver_factory: type[LoopbackReceiver] = LoopbackReceiver,
    timeout: float = 300.0,  # noqa: ASYNC109 - the deadline is part of the message we show
    client_name: str = "Staffetta",
    scopes: str = SCOPES,
    clock: Clock | None = None,
) -> ConnectedAccount:
    """The whole browser sign-in: register, authorise with PKCE + state, exchange, verify."""
    base = api.normalise_instance_url(instance_url)
    receiver = receiver_factory()
    await receiver.start()
    try:
        redirect_uri = receiver.redirect_uri
        app = await register_app(
            http, base, redirect_uri, client_name=client_name, scopes=scopes, clock=clock
        )
        pkce, state = Pkce.generate(), new_state()
        url = authorize_url(
            base,
            app.client_id,
            redirect_uri,
            state=state,
            code_challenge=pkce.challenge,
            scopes=scopes,
        )
        code = await run_browser_authorization(
            receiver, url, state, open_browser=open_browser, timeout=timeout
        )
    finally:
        await receiver.close()
    token = await exchange_code(
        http, app, code, redirect_uri=redirect_uri, code_verifier=pkce.verifier, clock=clock
    )
    return await _finish(http, base, token, app, clock)


async def begin_oob_connect(
    http: httpx.AsyncClient,
    instance_url: str,
    *,
    client_name: str = "Staffetta",
    scopes: str = SCOPES,
    clock: Clock | None = None,
) -> OobAuthorization:
    """Step one without a loopback listener: the URL where the server will show a code."""
    base = api.normalise_instance_url(instance_url)
    app = await register_app(
        http, base, OOB_REDIRECT_URI, client_name=client_name, scopes=scopes, clock=clock
    )
    pkce, state = Pkce.generate(), new_state()
    url = authorize_url(
        base, app.client_id, OOB_REDIRECT_URI, state=state, code_challenge=pkce.challenge,
        scopes=scopes,
    )  # fmt: skip
    return OobAuthorization(base, app, pkce, state, url)


async def connect_with_oob_code(
    http: httpx.AsyncClient, pending: OobAuthorization, code: str, *, clock: Clock | None = None
) -> ConnectedAccount:
    """Step two: exchange the code the user pasted, then verify the account."""
    token = await exchange_code(
        http,
        pending.app,
        code,
        redirect_uri=OOB_REDIRECT_URI,
        code_verifier=pending.pkce.verifier,
        clock=clock,
    )
    return await _finish(http, pending.instance_url, token, pending.app, clock)


async def _finish(
    http: httpx.AsyncClient,
    base: str,
    token: str,
    app: AppRegistration | None,
    clock: Clock | None,
) -> ConnectedAccount:
    now = _clock(clock).now()
    me = await verify_credentials(http, base, token, now=now)
    settings = await api.fetch_instance_settings(http, base, now=now)
    domain = str(settings.get("domain") or api.host_of(base))
    handle = f"@{me['username']}@{domain}"
    settings.update(
        instance_url=base,
        handle=handle,
        account_id=str(me["id"]),
        username=str(me["username"]),
    )
    if app is not None:
        settings["client_id"] = app.client_id  # not a secret; the client secret stays out
    return ConnectedAccount(token, handle, str(me["id"]), settings, app)
