"""Signing in to Meta with the user's own app: OAuth in the browser, long-lived tokens, refresh.

Meta has no public clients: every creator registers an app (developers.facebook.com/apps) and
gives Staffetta its app id and app secret. The secret is needed to turn the short-lived token of
a sign-in (about an hour) into a long-lived one (60 days), so it lives in the keyring with the
tokens, as one JSON object (:class:`MetaSecret`), and never in settings, logs or messages.

The sign-in opens Meta's authorization page in the system browser and waits on a loopback
listener at the exact redirect address registered in the app (Meta redirects only to registered
addresses: ``http://localhost:8765/callback`` by default), checks ``state``, and uses PKCE where
Meta documents it (Facebook Login). Then: code → short-lived token → long-lived token.

- Facebook Login: ``www.facebook.com/<v>/dialog/oauth``, code and ``fb_exchange_token`` at
  ``graph.facebook.com/<v>/oauth/access_token``. Page tokens derived from a long-lived user token
  do not expire.
- Instagram (Instagram Login, professional accounts): ``www.instagram.com/oauth/authorize``,
  code at ``api.instagram.com/oauth/access_token``, ``ig_exchange_token`` and ``ig_refresh_token``
  on ``graph.instagram.com``.
- Threads: ``threads.com/oauth/authorize``, code at ``graph.threads.net/oauth/access_token``,
  ``th_exchange_token`` and ``th_refresh_token`` on ``graph.threads.net``.

Instagram and Threads tokens are refreshed before they lapse (allowed once a token is a day old),
whenever a post goes out in the last :data:`REFRESH_WITHIN` of their life; the new token replaces
the old one in the keyring. An expired or refused token pauses the account until the user
reconnects; its posts wait.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from staffetta.channels import meta_api as api
from staffetta.core.clock import Clock
from staffetta.core.errors import AuthError, DeliveryError, StaffettaError, TransientError
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

log = logging.getLogger(__name__)

DEFAULT_REDIRECT_URI = "http://localhost:8765/callback"
SHORT_LIVED_GUESS = 3600.0  # when Meta does not say how long a short-lived token lives
REFRESH_AFTER = 24 * 3600.0  # Meta refreshes a long-lived token only once it is a day old
REFRESH_WITHIN = 30 * 24 * 3600.0  # refresh when less than this is left of its 60 days
_APP_ID = re.compile(r"\d{5,25}")


@dataclass(frozen=True, slots=True)
class Product:
    """One Meta product's sign-in: where to authorise, exchange and refresh."""

    key: str
    label: str
    authorize_host: str
    authorize_path: str
    code_host: str
    code_path: str
    code_method: str  # GET (Facebook) or POST (Instagram, Threads)
    exchange_host: str
    exchange_path: str
    exchange_grant: str
    refresh_path: str  # "" when the product has no refresh grant
    refresh_grant: str
    scopes: tuple[str, ...]
    pkce: bool


FACEBOOK = Product(
    key="facebook",
    label="Facebook",
    authorize_host="www.facebook.com",
    authorize_path=f"/{api.GRAPH_VERSION}/dialog/oauth",
    code_host=api.FACEBOOK_GRAPH,
    code_path=f"/{api.GRAPH_VERSION}/oauth/access_token",
    code_method="GET",
    exchange_host=api.FACEBOOK_GRAPH,
    exchange_path=f"/{api.GRAPH_VERSION}/oauth/access_token",
    exchange_grant="fb_exchange_token",
    refresh_path="",
    refresh_grant="",
    scopes=("pages_show_list", "pages_read_engagement", "pages_manage_posts"),
    pkce=True,
)
INSTAGRAM = Product(
    key="instagram",
    label="Instagram",
    authorize_host="www.instagram.com",
    authorize_path="/oauth/authorize",
    code_host="api.instagram.com",
    code_path="/oauth/access_token",
    code_method="POST",
    exchange_host=api.INSTAGRAM_GRAPH,
    exchange_path="/access_token",
    exchange_grant="ig_exchange_token",
    refresh_path="/refresh_access_token",
    refresh_grant="ig_refresh_token",
    scopes=("instagram_business_basic", "instagram_business_content_publish"),
    pkce=False,
)
THREADS = Product(
    key="threads",
    label="Threads",
    authorize_host="threads.com",
    authorize_path="/oauth/authorize",
    code_host=api.THREADS_GRAPH,
    code_path="/oauth/access_token",
    code_method="POST",
    exchange_host=api.THREADS_GRAPH,
    exchange_path="/access_token",
    exchange_grant="th_exchange_token",
    refresh_path="/refresh_access_token",
    refresh_grant="th_refresh_token",
    scopes=("threads_basic", "threads_content_publish"),
    pkce=False,
)


@dataclass(frozen=True, slots=True)
class MetaSecret:
    """What the keyring holds for one Meta account (one JSON object).

    ``expires_at`` = 0 means the token does not expire (a Facebook Page token) or is unknown.
    """

    app_secret: str = field(default="", repr=False)
    user_token: str = field(default="", repr=False)
    issued_at: float = 0.0
    expires_at: float = 0.0
    page_token: str = field(default="", repr=False)
    page_id: str = ""

    @classmethod
    def load(cls, secret: str | None) -> MetaSecret:
        """The stored JSON object; a plain string is an app secret with no sign-in yet."""
        text = (secret or "").strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict):
                return cls(
                    app_secret=str(data.get("app_secret") or ""),
                    user_token=str(data.get("user_token") or ""),
                    issued_at=_number(data.get("issued_at")),
                    expires_at=_number(data.get("expires_at")),
                    page_token=str(data.get("page_token") or ""),
                    page_id=str(data.get("page_id") or ""),
                )
        return cls(app_secret=text)

    def dump(self) -> str:
        return json.dumps(
            {
                "app_secret": self.app_secret,
                "user_token": self.user_token,
                "issued_at": self.issued_at,
                "expires_at": self.expires_at,
                "page_token": self.page_token,
                "page_id": self.page_id,
            }
        )


def _number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d %B %Y")


# --- the browser sign-in ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A finished sign-in: the long-lived token (in ``secret``) and the user id Meta gave."""

    secret: MetaSecret
    user_id: str = ""


def app_credentials(settings: dict[str, Any], product: Product) -> tuple[str, str]:
    """The app id and app secret typed into the account (the secret never leaves for settings)."""
    app_id = str(settings.get("app_id") or "").strip()
    if not _APP_ID.fullmatch(app_id):
        raise OAuthError(
            f"Enter your {product.label} app id: the number shown in your Meta app's dashboard "
            "(App settings › Basic, or the product's own app id for Instagram and Threads)."
        )
    raw = str(settings.get("app_secret") or "").strip()
    app_secret = MetaSecret.load(raw).app_secret if raw.startswith("{") else raw
    if not app_secret:
        raise OAuthError(
            f"Enter your {product.label} app secret (App settings › Basic in your Meta app): "
            "Meta needs it to give Staffetta a token that lasts 60 days. It is kept in your "
            "system keyring."
        )
    return app_id, app_secret


def redirect_uri_of(settings: dict[str, Any]) -> tuple[str, int, str]:
    """The redirect address registered in the app, its port and path (loopback http only)."""
    uri = str(settings.get("redirect_uri") or "").strip() or DEFAULT_REDIRECT_URI
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        port, parts = None, urlsplit("")
    if (
        parts.scheme != "http"
        or not api.is_loopback(parts.hostname or "")
        or not port
        or parts.query
        or parts.fragment
    ):
        raise OAuthError(
            f"The sign-in address “{uri}” must be a http://localhost:PORT/PATH address on this "
            f"computer, for example {DEFAULT_REDIRECT_URI}, registered as a valid OAuth "
            "redirect URI in your Meta app."
        )
    return uri, port, parts.path or "/"


def authorize_url(
    product: Product,
    api_url: str,
    app_id: str,
    redirect_uri: str,
    *,
    state: str,
    pkce: Pkce | None,
) -> str:
    query = {
        "client_id": app_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": ",".join(product.scopes),
        "state": state,
    }
    if pkce is not None:
        query.update(code_challenge=pkce.challenge, code_challenge_method="S256")
    base = api.url(api_url, product.authorize_host, product.authorize_path)
    return f"{base}?{urlencode(query)}"


async def sign_in(
    http: httpx.AsyncClient,
    product: Product,
    settings: dict[str, Any],
    *,
    clock: Clock,
    open_browser: BrowserOpener | None = None,
    receiver_factory: Callable[..., LoopbackReceiver] = LoopbackReceiver,
    timeout: float = 300.0,  # noqa: ASYNC109 - the deadline is part of the message we show
) -> SignedIn:
    """The whole browser sign-in, up to a long-lived token."""
    app_id, app_secret = app_credentials(settings, product)
    api_url = api.normalise_api_url(str(settings.get("api_url") or ""))
    redirect_uri, port, path = redirect_uri_of(settings)
    pkce = Pkce.generate() if product.pkce else None
    state = new_state()
    receiver = receiver_factory(path=path, port=port)
    await receiver.start()
    try:
        address = authorize_url(product, api_url, app_id, redirect_uri, state=state, pkce=pkce)
        code = await run_browser_authorization(
            receiver, address, state, open_browser=open_browser, timeout=timeout
        )
    finally:
        await receiver.close()
    # Instagram appends "#_" to the code it hands out.
    code = code.removesuffix("#_")
    short, user_id = await exchange_code(
        http, product, api_url, app_id, app_secret, code, redirect_uri, pkce, clock
    )
    return SignedIn(
        await long_lived(http, product, api_url, app_id, app_secret, short, clock), user_id
    )


async def exchange_code(
    http: httpx.AsyncClient,
    product: Product,
    api_url: str,
    app_id: str,
    app_secret: str,
    code: str,
    redirect_uri: str,
    pkce: Pkce | None,
    clock: Clock,
) -> tuple[str, str]:
    """The code from the browser → a short-lived token (and the user id, where Meta says it)."""
    form = {
        "client_id": app_id,
        "client_secret": app_secret,
        "redirect_uri": redirect_uri,
        "code": code,
    }
    if product.code_method == "POST":
        form["grant_type"] = "authorization_code"
    if pkce is not None:
        form["code_verifier"] = pkce.verifier
    address = api.url(api_url, product.code_host, product.code_path)
    kwargs: dict[str, Any] = {"params": form} if product.code_method == "GET" else {"data": form}
    payload = await _oauth_call(
        http, product, product.code_method, address, (app_secret, code), clock, **kwargs
    )
    # Instagram's newer replies wrap the answer in {"data": [...]}.
    data = payload.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        payload = data[0]
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuthError(f"{product.label} answered the sign-in without a token. Try again.")
    return token, str(payload.get("user_id") or "")


async def long_lived(
    http: httpx.AsyncClient,
    product: Product,
    api_url: str,
    app_id: str,
    app_secret: str,
    short_token: str,
    clock: Clock,
) -> MetaSecret:
    """Exchange a short-lived token for a long-lived one (this is what needs the app secret)."""
    params = {"grant_type": product.exchange_grant, "client_secret": app_secret}
    if product is FACEBOOK:
        params.update(client_id=app_id, fb_exchange_token=short_token)
    else:
        params["access_token"] = short_token
    address = api.url(api_url, product.exchange_host, product.exchange_path)
    now = clock.now()
    payload = await _oauth_call(
        http, product, "GET", address, (app_secret, short_token), clock, params=params
    )
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuthError(f"{product.label} did not give a long-lived token. Try again.")
    lifetime = _number(payload.get("expires_in"))
    return MetaSecret(
        app_secret=app_secret,
        user_token=token,
        issued_at=now,
        expires_at=now + lifetime if lifetime > 0 else 0.0,
    )


async def _oauth_call(
    http: httpx.AsyncClient,
    product: Product,
    method: str,
    address: str,
    hide: tuple[str, ...],
    clock: Clock,
    **kwargs: Any,
) -> dict[str, Any]:
    try:
        return await api.call_json(
            http,
            method,
            address,
            platform=product.label,
            now=clock.now(),
            what="the sign-in",
            hide=hide,
            **kwargs,
        )
    except DeliveryError as exc:
        if isinstance(exc, TransientError):
            raise OAuthError(f"{exc} Try connecting again in a moment.") from None
        raise OAuthError(
            f"{product.label} did not accept the sign-in: {exc} Check the app id and app secret "
            "and that the redirect address is registered in your app, then try again."
        ) from None


# --- keeping a token alive ----------------------------------------------------------------------


async def fresh_secret(
    http: httpx.AsyncClient,
    product: Product,
    api_url: str,
    secret: MetaSecret,
    clock: Clock,
    save: Callable[[str], None],
) -> MetaSecret:
    """``secret`` with a token that will still work: refreshed ahead of its expiry, saved.

    Raises AuthError when the token has expired or Meta refuses to refresh it (the user must
    reconnect). A refresh that fails for a passing reason is tried again next time while the
    old token still works.
    """
    if not secret.user_token:
        raise AuthError(f"This {product.label} account has not been signed in — reconnect it.")
    now = clock.now()
    if secret.expires_at and secret.expires_at <= now:
        raise AuthError(
            f"The {product.label} sign-in expired on {when(secret.expires_at)} — reconnect the "
            "account; its posts wait until then."
        )
    due = (
        product.refresh_grant
        and secret.expires_at
        and secret.expires_at - now < REFRESH_WITHIN
        and now - secret.issued_at >= REFRESH_AFTER
    )
    if not due:
        return secret
    try:
        payload = await api.call_json(
            http,
            "GET",
            api.url(api_url, product.exchange_host, product.refresh_path),
            platform=product.label,
            now=now,
            what="the token refresh",
            hide=(secret.user_token,),
            params={"grant_type": product.refresh_grant, "access_token": secret.user_token},
        )
    except AuthError:
        raise
    except DeliveryError as exc:
        log.info("%s token refresh postponed: %s", product.label, exc)
        return secret
    token = payload.get("access_token")
    lifetime = _number(payload.get("expires_in"))
    if not isinstance(token, str) or not token:
        return secret
    renewed = replace(
        secret,
        user_token=token,
        issued_at=now,
        expires_at=now + lifetime if lifetime > 0 else secret.expires_at,
    )
    try:
        save(renewed.dump())
    except StaffettaError as exc:
        # The old token keeps working until its expiry: the post must not wait for the keyring.
        log.warning("could not store the refreshed %s token: %s", product.label, exc)
    return renewed
