"""Bluesky's identity side for the sandbox: accounts, app passwords, DIDs and JWT sessions.

Modelled on the reference PDS (``@atproto/pds``): ``createSession`` takes a handle or DID and a
password and returns an access JWT (2 hours) and a refresh JWT (90 days), both HS256;
``refreshSession`` takes the refresh JWT and rotates it. An expired access token is refused with
**400** ``ExpiredToken``, a bad one with 400 ``InvalidToken``, a missing one with 401
``AuthMissing``, a wrong password with 401 ``AuthenticationRequired``. ``createSession`` is
limited per account (30 per 5 minutes on bsky.social), answered with ``RateLimit-*`` headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass, field
from typing import Any

from staffetta.sandbox.platform import Request, Response

ACCESS_TTL = 2 * 3600.0
REFRESH_TTL = 90 * 24 * 3600.0
SESSION_LIMIT = 30
SESSION_WINDOW = 300.0
HANDLE_DOMAIN = "test"


def xrpc_error(
    status: int, error: str, message: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response.json(status, {"error": error, "message": message}, headers)


def invalid_request(message: str, error: str = "InvalidRequest") -> Response:
    return xrpc_error(400, error, message)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(slots=True)
class Account:
    did: str
    handle: str
    password: str
    app_passwords: dict[str, str] = field(default_factory=dict)  # name -> password
    session_starts: list[float] = field(default_factory=list)


def did_for(instance: str, username: str) -> str:
    digest = hashlib.sha256(f"{instance}/{username}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower().rstrip("=")[:24]


class BlueskyAuth:
    """Accounts and sessions of one sandbox PDS."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.key = secrets.token_bytes(32)
        self.accounts: dict[str, Account] = {}  # did -> account
        self.refresh_ids: set[str] = set()  # refresh JWT ids still valid
        self.access_ttl = ACCESS_TTL
        self.sessions_created = 0
        self.sessions_refreshed = 0

    def reset(self) -> None:
        self.key = secrets.token_bytes(32)
        self.accounts.clear()
        self.refresh_ids.clear()
        self.access_ttl = ACCESS_TTL
        self.sessions_created = 0
        self.sessions_refreshed = 0

    # --- accounts ---------------------------------------------------------------------------
    def account(self, username: str) -> Account:
        handle = f"{username}.{HANDLE_DOMAIN}"
        did = did_for(self.instance, username)
        if did not in self.accounts:
            self.accounts[did] = Account(did, handle, secrets.token_urlsafe(12))
        return self.accounts[did]

    def by_identifier(self, identifier: str) -> Account | None:
        ident = identifier.strip().lower().lstrip("@")
        for account in self.accounts.values():
            if ident in (account.did, account.handle):
                return account
        return None

    def new_app_password(self, username: str, name: str = "") -> str:
        account = self.account(username)
        raw = secrets.token_hex(8)
        password = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        account.app_passwords[name or f"app-{len(account.app_passwords) + 1}"] = password
        return password

    def revoke_all(self) -> None:
        """Every app password and session dies; tokens signed before now are refused."""
        for account in self.accounts.values():
            account.app_passwords.clear()
        self.refresh_ids.clear()
        self.key = secrets.token_bytes(32)

    # --- tokens -----------------------------------------------------------------------------
    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        header = _b64(json.dumps({"typ": typ, "alg": "HS256"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self.key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def _claims(self, token: str) -> dict[str, Any] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = hmac.new(self.key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        return claims if isinstance(claims, dict) else None

    def _session(self, account: Account, now: float) -> dict[str, Any]:
        refresh_id = secrets.token_urlsafe(16)
        self.refresh_ids.add(refresh_id)
        iat = int(now)
        access = self._sign(
            {
                "scope": "com.atproto.appPass",
                "sub": account.did,
                "iat": iat,
                "exp": int(now + self.access_ttl),
            },
            "at+jwt",
        )
        refresh = self._sign(
            {
                "scope": "com.atproto.refresh",
                "sub": account.did,
                "jti": refresh_id,
                "iat": iat,
                "exp": int(now + REFRESH_TTL),
            },
            "refresh+jwt",
        )
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "did": account.did,
            "handle": account.handle,
            "active": True,
        }

    def create_session(self, request: Request, params: dict[str, Any]) -> Response:
        identifier = str(params.get("identifier") or "")
        password = str(params.get("password") or "")
        if not identifier or not password:
            return invalid_request("Input must have the properties identifier and password")
        account = self.by_identifier(identifier)
        headers: list[tuple[str, str]] = []
        if account is not None:
            window = [t for t in account.session_starts if request.now - t < SESSION_WINDOW]
            window.append(request.now)
            account.session_starts = window
            reset = math.ceil(window[0] + SESSION_WINDOW)
            headers = [
                ("RateLimit-Limit", str(SESSION_LIMIT)),
                ("RateLimit-Remaining", str(max(0, SESSION_LIMIT - len(window)))),
                ("RateLimit-Reset", str(reset)),
                ("RateLimit-Policy", f"{SESSION_LIMIT};w={int(SESSION_WINDOW)}"),
            ]
            if len(window) > SESSION_LIMIT:
                return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)
        if account is None or password not in account.app_passwords.values():
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions_created += 1
        return Response.json(200, self._session(account, request.now), headers)

    def refresh_session(self, request: Request) -> Response:
        token = request.bearer_token()
        if token is None:
            return xrpc_error(401, "AuthMissing", "Authentication Required")
        claims = self._claims(token)
        if claims is None or claims.get("scope") != "com.atproto.refresh":
            return invalid_request("Token could not be verified", "InvalidToken")
        if float(claims.get("exp", 0)) <= request.now:
            return invalid_request("Token has expired", "ExpiredToken")
        refresh_id = str(claims.get("jti") or "")
        account = self.accounts.get(str(claims.get("sub")))
        if refresh_id not in self.refresh_ids or account is None:
            return invalid_request("Token has been revoked", "ExpiredToken")
        self.refresh_ids.discard(refresh_id)  # rotated: a refresh JWT works once
        self.sessions_refreshed += 1
        return Response.json(200, self._session(account, request.now))

    def authenticate(self, request: Request) -> Account | Response:
        """The account of a request's access JWT, or the error the reference PDS gives."""
        token = request.bearer_token()
        if token is None:
            return xrpc_error(401, "AuthMissing", "Authentication Required")
        claims = self._claims(token)
        if claims is None or claims.get("scope") not in (
            "com.atproto.appPass",
            "com.atproto.access",
        ):
            return invalid_request("Token could not be verified", "InvalidToken")
        if float(claims.get("exp", 0)) <= request.now:
            return invalid_request("Token has expired", "ExpiredToken")
        account = self.accounts.get(str(claims.get("sub")))
        if account is None:
            return xrpc_error(403, "AccountNotFound", "Account not found")
        return account
