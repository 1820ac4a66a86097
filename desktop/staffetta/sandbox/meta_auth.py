"""Meta's identity side for the sandbox: apps, the sign-in pages, codes and tokens of Facebook
Login, Instagram Login and Threads, and Meta's error replies.

As developers.facebook.com describes them: the authorization page asks the user to allow the app
(the sandbox shows a small page with an Allow and a Cancel link, which a test's scripted browser
follows) and redirects to a redirect URI registered in the app — exactly, except that loopback
``http://localhost`` addresses are accepted while the app has none registered, as Meta does for
apps in development mode; codes are single-use and live 10 minutes; Facebook checks a PKCE
verifier when the authorization carried a challenge; short-lived tokens live an hour; the
exchange for a 60-day token needs the app secret; Instagram and Threads tokens can be refreshed
once they are a day old and not expired; Page tokens made from a long-lived user token never
expire. Expired and revoked tokens get error 190 (subcodes 463 and 460).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from staffetta.sandbox.platform import Request, Response, with_query

CODE_LIFETIME = 600.0
SHORT_LIFETIME = 3600.0
LONG_LIFETIME = 60 * 86400.0
REFRESH_MIN_AGE = 86400.0
DEFAULT_APP_ID = "1234567890123456"
DEFAULT_APP_SECRET = "sandbox-app-secret-0123456789abcdef"  # noqa: S105 - a sandbox value

# product -> scopes a sign-in must ask for
SCOPES = {
    "facebook": {"pages_show_list", "pages_read_engagement", "pages_manage_posts"},
    "instagram": {"instagram_business_basic", "instagram_business_content_publish"},
    "threads": {"threads_basic", "threads_content_publish"},
}


def graph_error(
    status: int,
    message: str,
    code: int,
    *,
    kind: str = "OAuthException",
    subcode: int | None = None,
    user_message: str | None = None,
    transient: bool = False,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """Meta's error envelope."""
    error: dict[str, Any] = {
        "message": message,
        "type": kind,
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_message is not None:
        error["error_user_title"] = "Request failed"
        error["error_user_msg"] = user_message
    return Response.json(status, {"error": error}, headers)


def param_error(
    message: str, subcode: int | None = None, user_message: str | None = None
) -> Response:
    return graph_error(400, message, 100, subcode=subcode, user_message=user_message)


def text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def _stamp(when: float) -> str:
    return time.strftime("%A, %d-%b-%y %H:%M:%S PDT", time.gmtime(when))


@dataclass(slots=True)
class User:
    """One person with a Facebook profile, a Page, a professional Instagram account and Threads."""

    name: str
    fb_id: str
    page_id: str
    page_name: str
    ig_id: str
    threads_id: str
    account_type: str = "BUSINESS"


@dataclass(slots=True)
class App:
    app_id: str
    secret: str
    redirect_uris: list[str] = field(default_factory=list)  # empty: any loopback http address


@dataclass(slots=True)
class Grant:
    app_id: str
    redirect_uri: str
    product: str
    challenge: str | None
    user: str
    created_at: float


@dataclass(slots=True)
class Token:
    product: str  # facebook, page, instagram, threads, or "any" (minted for the demo)
    user: str
    app_id: str
    issued_at: float
    expires_at: float  # 0 = never
    long_lived: bool
    revoked: bool = False


# which tokens each graph host accepts
HOST_PRODUCTS = {
    "graph.facebook.com": {"facebook", "page", "any"},
    "graph.instagram.com": {"instagram", "any"},
    "graph.threads.net": {"threads", "any"},
}


@dataclass(slots=True)
class MetaAuth:
    """Apps, people, codes and tokens of one sandbox Meta."""

    default_username: str = "demo"
    apps: dict[str, App] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    _serial: int = 0

    def reset(self) -> None:
        self.apps = {DEFAULT_APP_ID: App(DEFAULT_APP_ID, DEFAULT_APP_SECRET)}
        self.users.clear()
        self.grants.clear()
        self.tokens.clear()

    def user(self, name: str) -> User:
        found = self.users.get(name)
        if found is None:
            self._serial += 1
            n = self._serial
            found = User(
                name=name,
                fb_id=str(10_000_000_000_000 + n),
                page_id=str(20_000_000_000_000 + n),
                page_name=f"{name.capitalize()} Page",
                ig_id=str(17_841_400_000_000_000 + n),
                threads_id=str(25_000_000_000_000_000 + n),
            )
            self.users[name] = found
        return found

    def issue(
        self, product: str, user: str, now: float, *, long_lived: bool, app_id: str = ""
    ) -> str:
        token = ("EAA" if product in ("facebook", "page", "any") else product[:2].upper()) + (
            secrets.token_urlsafe(40)
        )
        lifetime = LONG_LIFETIME if long_lived else SHORT_LIFETIME
        expires = 0.0 if product == "page" and long_lived else now + lifetime
        self.tokens[token] = Token(
            product, user, app_id or DEFAULT_APP_ID, now, expires, long_lived
        )
        return token

    def revoke_all(self) -> None:
        for token in self.tokens.values():
            token.revoked = True

    # --- checking a token ---------------------------------------------------------------------

    def token_of(self, request: Request) -> str:
        bearer = request.bearer_token()
        if bearer:
            return bearer
        scheme, _, value = request.header("authorization").partition(" ")
        if scheme.lower() == "oauth" and value.strip():
            return value.strip()
        return text(request.params(), "access_token")

    def authenticate(self, request: Request, host: str) -> tuple[Token, User] | Response:
        value = self.token_of(request)
        if not value:
            return graph_error(
                400,
                "An active access token must be used to query information about the current user.",
                2500,
            )
        token = self.tokens.get(value)
        if token is None or token.product not in HOST_PRODUCTS.get(host, set()):
            return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        if token.revoked:
            return graph_error(
                400,
                "Error validating access token: The session has been invalidated because the "
                "user changed their password or Facebook has changed the session for security "
                "reasons.",
                190,
                subcode=460,
            )
        if token.expires_at and request.now >= token.expires_at:
            return graph_error(
                400,
                f"Error validating access token: Session has expired on "
                f"{_stamp(token.expires_at)}. The current time is {_stamp(request.now)}.",
                190,
                subcode=463,
            )
        return token, self.user(token.user)

    # --- the authorization page ---------------------------------------------------------------

    def authorize(self, request: Request, product: str) -> Response:
        params = request.query
        app = self.apps.get(text(params, "client_id"))
        if app is None:
            return _page(
                400, "Invalid App ID", "The provided app ID does not look like a valid app ID."
            )
        redirect_uri = text(params, "redirect_uri")
        if not _redirect_allowed(app, redirect_uri):
            return _page(
                400,
                "URL blocked",
                "This redirect failed because the redirect URI is not allowlisted in the app's "
                "Client OAuth Settings. Make sure that the client and web OAuth logins are on "
                "and add all your app domains as valid OAuth redirect URIs.",
            )
        state = text(params, "state")
        extra = {"state": state} if state else {}
        scopes = {s for s in text(params, "scope").replace(" ", ",").split(",") if s}
        if text(params, "response_type") != "code":
            return Response.redirect(
                with_query(redirect_uri, {"error": "unsupported_response_type", **extra})
            )
        if not SCOPES[product] <= scopes:
            missing = ", ".join(sorted(SCOPES[product] - scopes))
            return _page(400, "Invalid Scopes", f"The sign-in did not ask for: {missing}.")
        decision = text(params, "decision")
        if not decision:
            return self._consent_page(request, product, scopes)
        if decision != "allow":
            return Response.redirect(
                with_query(
                    redirect_uri,
                    {
                        "error": "access_denied",
                        "error_reason": "user_denied",
                        "error_description": "Permissions error",
                        **extra,
                    },
                )
            )
        challenge = text(params, "code_challenge") or None
        if challenge and text(params, "code_challenge_method") not in ("", "S256"):
            return Response.redirect(
                with_query(redirect_uri, {"error": "invalid_request", **extra})
            )
        code = ("AQ" if product != "threads" else "TH") + secrets.token_urlsafe(32)
        user = self.user(self.default_username)
        self.grants[code] = Grant(
            app.app_id, redirect_uri, product, challenge if product == "facebook" else None,
            user.name, request.now,
        )  # fmt: skip
        location = with_query(redirect_uri, {"code": code, **extra})
        if product == "instagram":
            location += "#_"  # Instagram's habit; clients strip it
        return Response.redirect(location)

    def _consent_page(self, request: Request, product: str, scopes: set[str]) -> Response:
        base = request.base_url + request.path
        raw = _query_without_decision(request)
        allow = html.escape(f"{base}?{raw}&decision=allow")
        deny = html.escape(f"{base}?{raw}&decision=deny")
        names = html.escape(", ".join(sorted(scopes)))
        body = (
            "<!DOCTYPE html><html><head><title>Allow access</title></head><body>"
            f"<h1>{html.escape(product.capitalize())}: allow Staffetta?</h1>"
            f"<p>The app asks for: {names}.</p>"
            f'<p><a id="allow" href="{allow}">Allow</a> <a id="deny" href="{deny}">Cancel</a></p>'
            "</body></html>"
        )
        return Response.text(200, body, "text/html; charset=utf-8")

    # --- code and token exchanges -------------------------------------------------------------

    def _app(self, params: dict[str, Any]) -> App | None:
        app = self.apps.get(text(params, "client_id"))
        if app is None or not secrets.compare_digest(app.secret, text(params, "client_secret")):
            return None
        return app

    def exchange_code(self, request: Request, product: str) -> Response:
        params = request.params()
        if product == "facebook" and text(params, "grant_type") == "fb_exchange_token":
            return self.long_lived(request, product)
        if product != "facebook" and text(params, "grant_type") != "authorization_code":
            return _oauth_error(product, "Unsupported grant_type")
        app = self._app(params)
        if app is None:
            return _oauth_error(product, "Error validating client secret.", code=1)
        code = text(params, "code")
        grant = self.grants.pop(code, None)
        if (
            grant is None
            or grant.app_id != app.app_id
            or grant.product != product
            or request.now - grant.created_at > CODE_LIFETIME
        ):
            return _oauth_error(product, "This authorization code has expired or been used.")
        if text(params, "redirect_uri") != grant.redirect_uri:
            return _oauth_error(
                product, "Error validating verification code. Please make sure your redirect_uri "
                "is identical to the one you used in the OAuth dialog request",
            )  # fmt: skip
        if grant.challenge is not None:
            verifier = text(params, "code_verifier")
            digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            if not verifier or not secrets.compare_digest(expected, grant.challenge):
                return _oauth_error(product, "Invalid code verifier.")
        token = self.issue(product, grant.user, request.now, long_lived=False, app_id=app.app_id)
        user = self.user(grant.user)
        if product == "facebook":
            body: dict[str, Any] = {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": int(SHORT_LIFETIME),
            }
        elif product == "instagram":
            body = {
                "access_token": token,
                "user_id": user.ig_id,
                "permissions": sorted(SCOPES[product]),
            }
        else:
            body = {"access_token": token, "user_id": user.threads_id}
        return Response.json(200, body)

    def long_lived(self, request: Request, product: str) -> Response:
        params = request.params()
        wanted = {"facebook": "fb_exchange_token", "instagram": "ig_exchange_token"}.get(
            product, "th_exchange_token"
        )
        if text(params, "grant_type") != wanted:
            return param_error("Unsupported grant_type")
        short = text(params, "fb_exchange_token" if product == "facebook" else "access_token")
        found = self.tokens.get(short)
        app = self.apps.get(found.app_id) if found else None
        if app is None or not secrets.compare_digest(app.secret, text(params, "client_secret")):
            return graph_error(400, "Error validating client secret.", 1, kind="OAuthException")
        assert found is not None
        if found.revoked or (found.expires_at and request.now >= found.expires_at):
            return graph_error(400, "Error validating access token: Session has expired.", 190)
        token = self.issue(product, found.user, request.now, long_lived=True, app_id=app.app_id)
        return Response.json(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": int(LONG_LIFETIME - 56)},
        )

    def refresh(self, request: Request, product: str) -> Response:
        params = request.params()
        grant = "ig_refresh_token" if product == "instagram" else "th_refresh_token"
        if text(params, "grant_type") != grant:
            return param_error("Unsupported grant_type")
        value = text(params, "access_token")
        found = self.tokens.get(value)
        if found is None or found.product not in (product, "any") or found.revoked:
            return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        if found.expires_at and request.now >= found.expires_at:
            return graph_error(
                400, "Error validating access token: Session has expired.", 190, subcode=463
            )
        if request.now - found.issued_at < REFRESH_MIN_AGE:
            return param_error("The access token cannot be refreshed before it is 24 hours old.")
        found.revoked = True  # the refreshed token replaces it
        token = self.issue(product, found.user, request.now, long_lived=True, app_id=found.app_id)
        return Response.json(
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": int(LONG_LIFETIME)},
        )

    def page_token(self, user_token: Token, now: float) -> str:
        """A Page token for ``user_token``'s user: never expiring when that token is long-lived."""
        token = self.issue("page", user_token.user, now, long_lived=user_token.long_lived)
        if not user_token.long_lived:
            self.tokens[token].expires_at = user_token.expires_at
        return token


def _query_without_decision(request: Request) -> str:
    """The authorization request's query, re-encoded (the sandbox keeps it parsed)."""
    pairs = [
        (key, value)
        for key, values in request.query.items()
        if key != "decision"
        for value in (values if isinstance(values, list) else [values])
    ]
    return urlencode(pairs)


def _redirect_allowed(app: App, uri: str) -> bool:
    if app.redirect_uris:
        return uri in app.redirect_uris
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")


def _page(status: int, title: str, message: str) -> Response:
    body = (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body>"
        f'<h1>{html.escape(title)}</h1><p class="error">{html.escape(message)}</p></body></html>'
    )
    return Response.text(status, body, "text/html; charset=utf-8")


def _oauth_error(product: str, message: str, *, code: int = 100) -> Response:
    if product == "instagram":  # api.instagram.com keeps Instagram's older error shape
        return Response.json(
            400, {"error_type": "OAuthException", "code": 400, "error_message": message}
        )
    return graph_error(400, message, code, subcode=36007 if code == 100 else None)
