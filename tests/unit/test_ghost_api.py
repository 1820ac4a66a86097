"""Ghost's Admin API key, the token signed with it, and Ghost's errors in the engine's terms
(channels/ghost_api.py). The real Ghost checks the tokens in tests/integration/test_ghost_real.py;
here, what the token holds and how each answer Ghost gives is read."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from staffetta.channels import ghost_api as api
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)

KEY_ID = "6756f4e1a2b3c4d5e6f70809"
SECRET_HEX = "a1" * 32
KEY = f"{KEY_ID}:{SECRET_HEX}"


def decode(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_key_is_parsed_from_what_ghost_shows_even_with_stray_spaces() -> None:
    key = api.AdminKey.parse(f"  {KEY_ID}:{SECRET_HEX.upper()}\n")
    assert key.id == KEY_ID
    assert key.secret == bytes.fromhex(SECRET_HEX)
    assert SECRET_HEX not in repr(key)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Paste the Admin API key"),
        ("a1b2c3d4e5f6a7b8c9d0e1f2a3", "not a Ghost Admin API key"),  # a Content API key
        (f"{KEY_ID}:not-hex", "not a Ghost Admin API key"),
        (f"{KEY_ID}:abc", "not a Ghost Admin API key"),  # odd number of hex digits
    ],
)
def test_what_is_not_an_admin_key_is_refused_saying_what_to_paste(text: str, words: str) -> None:
    with pytest.raises(InputError, match=words) as refused:
        api.AdminKey.parse(text)
    assert "not-hex" not in str(refused.value)


def test_the_token_is_hs256_with_the_key_id_the_admin_audience_and_five_minutes() -> None:
    key = api.AdminKey.parse(KEY)
    token = api.admin_token(key, now=1_700_000_000.7)
    head, body, signature = token.split(".")
    assert decode(head) == {"alg": "HS256", "typ": "JWT", "kid": KEY_ID}
    assert decode(body) == {"iat": 1_700_000_000, "exp": 1_700_000_300, "aud": "/admin/"}
    # Signed with the secret's bytes (hex-decoded), as Ghost verifies it — not the hex text.
    expected = hmac.new(bytes.fromhex(SECRET_HEX), f"{head}.{body}".encode(), hashlib.sha256)
    assert base64.urlsafe_b64encode(expected.digest()).rstrip(b"=").decode() == signature
    assert "=" not in token
    wrong = hmac.new(SECRET_HEX.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(wrong).rstrip(b"=").decode() != signature


def test_every_request_gets_a_fresh_token_and_the_api_version() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"posts": []})

    async def call(now: float) -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            url = api.admin_url("https://blog.example.org/sub", "posts", {"limit": 1})
            await api.request(http, "GET", url, now=now, key=api.AdminKey.parse(KEY))

    asyncio.run(call(1_700_000_000))
    asyncio.run(call(1_700_000_100))
    assert [str(r.url) for r in seen] == [
        "https://blog.example.org/sub/ghost/api/admin/posts/?limit=1"
    ] * 2
    tokens = [r.headers["authorization"].removeprefix("Ghost ") for r in seen]
    assert [decode(t.split(".")[1])["iat"] for t in tokens] == [1_700_000_000, 1_700_000_100]
    assert {r.headers["accept-version"] for r in seen} == {"v5.0"}


def ghost_error(status: int, message: str, **extra: Any) -> httpx.Response:
    error = {"message": message, "context": None, "type": "Error", **extra}
    return httpx.Response(status, json={"errors": [error]})


def test_a_refused_key_is_an_auth_error_in_ghost_words() -> None:
    error = api.classify_response(
        ghost_error(401, "Unknown Admin API Key", code="UNKNOWN_ADMIN_API_KEY"), 0
    )
    assert isinstance(error, AuthError)
    assert str(error).endswith("(Ghost said: Unknown Admin API Key)")
    assert "reconnect" in str(error)


def test_an_expired_token_points_at_the_computer_clock() -> None:
    error = api.classify_response(
        ghost_error(401, "Invalid token: jwt expired", code="INVALID_JWT"), 0
    )
    assert isinstance(error, AuthError)
    assert "clock" in str(error)


def test_a_token_without_key_id_is_refused_with_400_and_still_means_reconnect() -> None:
    error = api.classify_response(
        ghost_error(400, "Admin API kid missing.", code="MISSING_ADMIN_API_KID"), 0
    )
    assert isinstance(error, AuthError)


def test_a_role_that_may_not_publish_is_an_auth_error() -> None:
    error = api.classify_response(
        ghost_error(403, "You do not have permission to perform this action"), 0
    )
    assert isinstance(error, AuthError)
    assert "permission" in str(error)


def test_a_validation_error_is_permanent_and_names_the_field() -> None:
    response = ghost_error(
        422,
        "Validation error, cannot save post.",
        context="Value in [posts.title] exceeds maximum length of 255 characters.",
    )
    error = api.classify_response(response, 0)
    assert isinstance(error, PermanentError)
    assert "posts.title" in str(error)


def test_server_trouble_waits_and_a_rate_limit_keeps_its_retry_after() -> None:
    trouble = api.classify_response(ghost_error(503, "Service Unavailable"), 0)
    assert isinstance(trouble, TransientError)
    assert not isinstance(trouble, RateLimited)
    limited = api.classify_response(
        httpx.Response(429, headers={"Retry-After": "42"}, text="Too many"), 0
    )
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 42


def test_an_update_collision_is_read_again_later_not_a_failure() -> None:
    error = api.classify_response(
        ghost_error(409, "Saving failed! Someone else is editing this post."), 0
    )
    assert isinstance(error, TransientError)


def test_an_html_error_page_is_not_quoted_at_the_user() -> None:
    page = httpx.Response(
        404, headers={"Content-Type": "text/html"}, text="<html><body>Not here</body></html>"
    )
    error = api.classify_response(page, 0)
    assert isinstance(error, PermanentError)
    assert "<html>" not in str(error)
    assert "Not Found" in str(error)


def test_a_redirect_names_the_address_to_enter_instead() -> None:
    moved = httpx.Response(301, headers={"Location": "https://admin.example.org/ghost/api/admin/"})
    error = api.classify_response(moved, 0)
    assert isinstance(error, PermanentError)
    assert "https://admin.example.org/ghost/api/admin/" in str(error)


def test_a_garbled_answer_to_a_write_is_an_unknown_outcome_and_to_a_read_transient() -> None:
    def garbled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    async def call(method: str) -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(garbled)) as http:
            url = api.admin_url("https://blog.example.org", "posts")
            await api.request(http, method, url, now=0, key=api.AdminKey.parse(KEY))

    with pytest.raises(UnknownOutcome, match="could not be read"):
        asyncio.run(call("POST"))
    with pytest.raises(TransientError, match="could not be read"):
        asyncio.run(call("GET"))
