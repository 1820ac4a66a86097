"""Mastodon's identity side for the sandbox: accounts, apps, OAuth 2 (with PKCE) and tokens.

Follows docs.joinmastodon.org (methods/apps, methods/oauth, spec/oauth) and Doorkeeper's
behaviour: codes are single-use and live 10 minutes, a loopback redirect URI may change its port
(RFC 8252 §7.3), ``urn:ietf:wg:oauth:2.0:oob`` shows the code on a page, tokens never expire
until revoked. There is no human at the "browser" step, so authorisation is granted at once for
the instance's default user.
"""

from __future__ import annotations

import base64
import hashlib
import html
import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from staffetta.sandbox.platform import Params, Request, Response, with_query

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = 600.0
TOP_SCOPES = ("read", "write", "follow", "push", "profile")

INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication included, "
    "or unsupported authentication method."
)
INVALID_REDIRECT = "The requested redirect uri is malformed or doesn't match client redirect URI."


@dataclass(slots=True)
class Account:
    id: str
    username: str
    created_at: float


@dataclass(slots=True)
class App:
    id: str
    name: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: list[str]
    website: str | None


@dataclass(slots=True)
class Grant:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    account_id: str
    created_at: float


@dataclass(slots=True)
class Token:
    account_id: str | None
    scopes: list[str]
    client_id: str | None
    created_at: float
    revoked: bool = False


def text_param(params: Params, name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def scope_allows(granted: list[str], needed: str) -> bool:
    """``write`` covers ``write:statuses``; ``profile`` alone allows verify_credentials."""
    top = needed.split(":", 1)[0]
    return needed in granted or top in granted


def valid_scope(scope: str) -> bool:
    if scope in TOP_SCOPES:
        return True
    top, _, sub = scope.partition(":")
    return top in {"read", "write", "admin"} and bool(sub)


def redirect_matches(requested: str, registered: str) -> bool:
    """Exact match, except that loopback IP URIs may use any port (Doorkeeper's URIChecker)."""
    if requested == registered:
        return True
    a, b = urlsplit(requested), urlsplit(registered)
    if not (_loopback(a.hostname) and _loopback(b.hostname)):
        return False
    return (a.scheme, a.username, a.hostname, a.path, a.query, a.fragment) == (
        b.scheme,
        b.username,
        b.hostname,
        b.path,
        b.query,
        b.fragment,
    )


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _valid_redirect(uri: str) -> bool:
    if uri == OOB:
        return True
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or parts.scheme.lower() in {"javascript", "data"}:
        return False
    return not (parts.scheme in {"http", "https"} and not parts.hostname)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def oauth_error(status: int, error: str, description: str) -> Response:
    return Response.json(status, {"error": error, "error_description": description})


def error_page(status: int, message: str) -> Response:
    page = (
        "<!DOCTYPE html><html><head><title>An error has occurred</title></head><body>"
        f'<h1>An error has occurred</h1><p class="error">{html.escape(message)}</p></body></html>'
    )
    return Response.text(status, page, "text/html; charset=utf-8")


@dataclass(slots=True)
class MastodonAuth:
    """Accounts, registered apps, authorisation codes and tokens of one instance."""

    default_username: str = "demo"
    accounts: dict[str, Account] = field(default_factory=dict)  # by username
    apps: dict[str, App] = field(default_factory=dict)  # by client_id
    grants: dict[str, Grant] = field(default_factory=dict)  # by code
    tokens: dict[str, Token] = field(default_factory=dict)  # by token
    _next_id: int = 1

    def reset(self) -> None:
        self.accounts.clear()
        self.apps.clear()
        self.grants.clear()
        self.tokens.clear()

    def account(self, username: str, now: float) -> Account:
        found = self.accounts.get(username)
        if found is None:
            found = Account(str(self._next_id), username, now)
            self._next_id += 1
            self.accounts[username] = found
        return found

    def account_by_id(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.id == account_id), None)

    def issue_token(self, username: str, now: float, scopes: list[str] | None = None) -> str:
        account = self.account(username, now)
        token = secrets.token_urlsafe(32)
        self.tokens[token] = Token(
            account.id, scopes or ["read", "write", "follow", "push"], None, now
        )
        return token

    def revoke_all(self) -> None:
        for token in self.tokens.values():
            token.revoked = True

    def authenticate(self, request: Request, scope: str) -> Account | Response:
        """The account behind the request's bearer token, or the error response to send."""
        found = self.tokens.get(request.bearer_token() or "")
        if found is None or found.revoked:
            return Response.json(401, {"error": "The access token is invalid"})
        if not scope_allows(found.scopes, scope):
            return Response.json(403, {"error": "This action is outside the authorized scopes"})
        account = self.account_by_id(found.account_id) if found.account_id else None
        if account is None:
            return Response.json(422, {"error": "This method requires an authenticated user"})
        return account

    # --- POST /api/v1/apps ----------------------------------------------------------------

    def register_app(self, request: Request) -> Response:
        params = request.params()
        name = text_param(params, "client_name").strip()
        raw = params.get("redirect_uris", "")
        uris = [str(u) for u in raw] if isinstance(raw, list) else str(raw).split()
        scopes = (text_param(params, "scopes") or "read").split()
        if not name:
            return invalid("Application name can't be blank")
        if not uris:
            return invalid("Redirect URI can't be blank")
        if not all(_valid_redirect(uri) for uri in uris):
            return invalid("Redirect URI must be an absolute URI.")
        if not all(valid_scope(scope) for scope in scopes):
            return invalid("Scopes must be a subset of the scopes known to this server")
        app = App(
            id=str(self._next_id),
            name=name,
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
            redirect_uris=uris,
            scopes=scopes,
            website=text_param(params, "website") or None,
        )
        self._next_id += 1
        self.apps[app.client_id] = app
        entity = self.app_entity(app)
        entity.update(
            client_id=app.client_id, client_secret=app.client_secret, client_secret_expires_at=0
        )
        return Response.json(200, entity)

    def app_entity(self, app: App) -> dict[str, Any]:
        return {
            "id": app.id,
            "name": app.name,
            "website": app.website,
            "scopes": app.scopes,
            "redirect_uri": "\n".join(app.redirect_uris),
            "redirect_uris": app.redirect_uris,
            "vapid_key": "BSandboxVapidKeyNotUsedForPushInTheStaffettaSandbox=",
        }

    # --- GET /oauth/authorize -------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        params = request.query
        app = self.apps.get(text_param(params, "client_id"))
        if app is None:
            return error_page(400, INVALID_CLIENT)
        redirect_uri = text_param(params, "redirect_uri")
        if not redirect_uri and len(app.redirect_uris) == 1:
            redirect_uri = app.redirect_uris[0]
        if not _valid_redirect(redirect_uri) or not any(
            redirect_matches(redirect_uri, registered) for registered in app.redirect_uris
        ):
            return error_page(400, INVALID_REDIRECT)
        state = text_param(params, "state")
        scopes = (text_param(params, "scope") or "read").split()
        challenge = text_param(params, "code_challenge") or None
        method = text_param(params, "code_challenge_method")
        error = ""
        if text_param(params, "response_type") != "code":
            error = "unsupported_response_type"
        elif not all(s in app.scopes or s.split(":")[0] in app.scopes for s in scopes):
            error = "invalid_scope"
        elif challenge is not None and method not in {"", "S256"}:
            error = "invalid_request"
        if error:
            if redirect_uri == OOB:
                return error_page(400, error)
            extra = {"state": state} if state else {}
            return Response.redirect(with_query(redirect_uri, {"error": error, **extra}))
        code = secrets.token_urlsafe(32)
        user = self.account(self.default_username, request.now)
        self.grants[code] = Grant(
            app.client_id, redirect_uri, scopes, challenge, user.id, request.now
        )
        if redirect_uri == OOB:
            page = (
                "<!DOCTYPE html><html><head><title>Authorization code</title></head><body>"
                "<p>Copy this authorization code and paste it to the application.</p>"
                f'<code id="oob-code">{html.escape(code)}</code></body></html>'
            )
            return Response.text(200, page, "text/html; charset=utf-8")
        query = {"code": code, **({"state": state} if state else {})}
        return Response.redirect(with_query(redirect_uri, query))

    # --- POST /oauth/token and /oauth/revoke ----------------------------------------------

    def _client(self, request: Request, params: Params) -> App | None:
        client_id, client_secret = (
            text_param(params, "client_id"),
            text_param(params, "client_secret"),
        )
        scheme, _, value = request.header("authorization").partition(" ")
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value.strip()).decode()
            except ValueError:
                return None
            client_id, _, client_secret = decoded.partition(":")
        app = self.apps.get(client_id)
        if app is None or not secrets.compare_digest(app.client_secret, client_secret):
            return None
        return app

    def token(self, request: Request) -> Response:
        params = request.params()
        grant_type = text_param(params, "grant_type")
        if grant_type not in {"authorization_code", "client_credentials"}:
            return oauth_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        app = self._client(request, params)
        if app is None:
            return oauth_error(401, "invalid_client", INVALID_CLIENT)
        if grant_type == "client_credentials":
            scopes = (text_param(params, "scope") or "read").split()
            return self._grant_token(None, scopes, app, request.now)
        code = text_param(params, "code")
        grant = self.grants.get(code)
        if (
            grant is None
            or grant.client_id != app.client_id
            or request.now - grant.created_at > CODE_LIFETIME
            or text_param(params, "redirect_uri") != grant.redirect_uri
        ):
            return oauth_error(400, "invalid_grant", INVALID_GRANT)
        if grant.challenge is not None:
            verifier = text_param(params, "code_verifier")
            if not verifier or not secrets.compare_digest(
                pkce_challenge(verifier), grant.challenge
            ):
                return oauth_error(400, "invalid_grant", INVALID_GRANT)
        del self.grants[code]
        return self._grant_token(grant.account_id, grant.scopes, app, request.now)

    def _grant_token(
        self, account_id: str | None, scopes: list[str], app: App, now: float
    ) -> Response:
        token = secrets.token_urlsafe(32)
        self.tokens[token] = Token(account_id, scopes, app.client_id, now)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "created_at": int(now),
        }
        return Response.json(200, body)

    def revoke(self, request: Request) -> Response:
        params = request.params()
        app = self._client(request, params)
        found = self.tokens.get(text_param(params, "token"))
        if app is None or (found is not None and found.client_id not in {None, app.client_id}):
            return oauth_error(
                403, "unauthorized_client", "You are not authorized to revoke this token"
            )
        if found is not None:
            found.revoked = True
        return Response.json(200, {})

    def verify_app(self, request: Request) -> Response:
        found = self.tokens.get(request.bearer_token() or "")
        app = self.apps.get(found.client_id or "") if found and not found.revoked else None
        if app is None:
            return Response.json(401, {"error": "The access token is invalid"})
        return Response.json(200, self.app_entity(app))


def api_error(status: int, message: str) -> Response:
    return Response.json(status, {"error": message})


def invalid(message: str) -> Response:
    return api_error(422, f"Validation failed: {message}")


def not_found() -> Response:
    return api_error(404, "Record not found")
