"""What Meta's error replies mean for a delivery, the sandbox address scheme, the keyring secret,
and keeping a token alive — against Meta-shaped replies from ``httpx.MockTransport``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from staffetta.channels import meta_api as api
from staffetta.channels.meta_auth import (
    INSTAGRAM,
    REFRESH_AFTER,
    MetaSecret,
    app_credentials,
    fresh_secret,
    redirect_uri_of,
)
from staffetta.core.clock import FakeClock
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    SecretStoreError,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.oauth import OAuthError

NOW = 1_800_000_000.0
DAY = 86400.0


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


def reply(status: int, error: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
    request = httpx.Request("POST", "https://graph.facebook.com/v25.0/1/feed")
    if error is not None:
        kwargs["json"] = {"error": {"type": "OAuthException", "fbtrace_id": "x", **error}}
    return httpx.Response(status, request=request, **kwargs)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"code": 190, "message": "Invalid OAuth access token"}, AuthError),
        ({"code": 190, "error_subcode": 463, "message": "Session has expired"}, AuthError),
        ({"code": 102, "message": "Session key invalid"}, AuthError),
        ({"code": 10, "message": "Permission denied"}, AuthError),
        ({"code": 200, "message": "(#200) requires pages_manage_posts"}, AuthError),
        ({"code": 4, "message": "Application request limit reached"}, RateLimited),
        ({"code": 17, "message": "User request limit reached"}, RateLimited),
        ({"code": 32, "message": "Page request limit reached"}, RateLimited),
        ({"code": 613, "message": "Calls exceeded the rate limit"}, RateLimited),
        ({"code": 80001, "message": "Too many calls to this Page"}, RateLimited),
        ({"code": 80014, "message": "Too many calls"}, RateLimited),
        ({"code": 9, "error_subcode": 2207042, "message": "Max posts reached"}, RateLimited),
        ({"code": 506, "message": "Duplicate status message"}, api.DuplicatePost),
        ({"code": 1, "message": "An unknown error occurred"}, TransientError),
        ({"code": 2, "message": "Service temporarily unavailable"}, TransientError),
        ({"code": 9007, "error_subcode": 2207027, "message": "Not ready"}, TransientError),
        ({"code": 100, "message": "Invalid parameter", "is_transient": True}, TransientError),
        ({"code": 100, "message": "Invalid parameter"}, PermanentError),
        ({"code": 368, "message": "Temporarily blocked for policies"}, PermanentError),
    ],
)
def test_error_codes(error: dict[str, Any], kind: type[Exception]) -> None:
    classified = api.classify(reply(400, error), "Facebook", NOW)
    assert type(classified) is kind
    assert error["message"] in str(classified)


def test_auth_errors_say_what_to_do() -> None:
    expired = api.classify(reply(400, {"code": 190, "message": "expired"}), "Threads", NOW)
    assert "reconnect the account" in str(expired)
    permission = api.classify(reply(403, {"code": 200, "message": "no"}), "Facebook", NOW)
    assert "lacks a permission" in str(permission)


def test_user_message_is_preferred() -> None:
    error = {"code": 100, "message": "Invalid parameter", "error_user_msg": "Captions are 2,200"}
    assert "Captions are 2,200" in str(api.classify(reply(400, error), "Instagram", NOW))


def test_throttling_waits_for_the_business_use_case_estimate() -> None:
    usage = {"123": [{"type": "pages", "estimated_time_to_regain_access": 12}]}
    response = reply(
        400,
        {"code": 32, "message": "Page request limit reached"},
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    limited = api.classify(response, "Facebook", NOW)
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 720
    bare = api.classify(reply(400, {"code": 4, "message": "x"}), "Facebook", NOW)
    assert isinstance(bare, RateLimited)
    assert bare.retry_after is None
    retry = api.classify(
        reply(400, {"code": 17, "message": "x"}, headers={"Retry-After": "30"}), "Facebook", NOW
    )
    assert isinstance(retry, RateLimited)
    assert retry.retry_after == 30


def test_replies_without_meta_error_object() -> None:
    page = reply(502, text="<html>Bad gateway</html>", headers={"content-type": "text/html"})
    gateway = api.classify(page, "Instagram", NOW)
    assert type(gateway) is TransientError
    assert "<html>" not in str(gateway)
    assert isinstance(api.classify(reply(429, text="slow"), "Threads", NOW), RateLimited)
    legacy = reply(
        400, json={"error_type": "OAuthException", "code": 400, "error_message": "Code used"}
    )
    assert "Code used" in str(api.classify(legacy, "Instagram", NOW))


def test_secrets_echoed_by_meta_are_hidden() -> None:
    token = "EAAtoken-that-must-not-show-1234567890"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {token}"
        assert token not in str(request.url)
        return httpx.Response(400, json={"error": {"code": 100, "message": f"bad {token}"}})

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(PermanentError) as caught:
                await api.call(
                    http, "POST", "https://graph.facebook.com/v25.0/1/feed",
                    platform="Facebook", now=NOW, token=token,
                )  # fmt: skip
            assert token not in str(caught.value)
            assert "[hidden]" in str(caught.value)

    run(scenario)


def test_lost_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(UnknownOutcome):
                await api.call(http, "POST", "https://g/x", platform="Meta", now=NOW)
            with pytest.raises(TransientError) as caught:
                await api.call(http, "GET", "https://g/x", platform="Meta", now=NOW)
            assert not isinstance(caught.value, UnknownOutcome)  # a read publishes nothing

    run(scenario)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("http://127.0.0.1:8900/", "http://127.0.0.1:8900"),
        ("https://meta.example/sandbox", "https://meta.example/sandbox"),
    ],
)
def test_api_url(raw: str, expected: str) -> None:
    assert api.normalise_api_url(raw) == expected
    assert api.url(expected, "graph.threads.net", "/v1.0/me").endswith("graph.threads.net/v1.0/me")


@pytest.mark.parametrize("raw", ["http://meta.example", "ftp://x", "https://x/?a=1"])
def test_bad_api_url(raw: str) -> None:
    with pytest.raises(InputError):
        api.normalise_api_url(raw)


# --- the keyring secret and the sign-in settings -------------------------------------------------


def test_secret_round_trip_and_plain_app_secret() -> None:
    secret = MetaSecret("app-secret-x", "token-y", 1.0, 2.0, "page-z", "42")
    assert MetaSecret.load(secret.dump()) == secret
    assert MetaSecret.load("  just-the-app-secret ") == MetaSecret("just-the-app-secret")
    assert MetaSecret.load(None) == MetaSecret()
    for value in ("app-secret-x", "token-y", "page-z"):
        assert value not in repr(secret)


def test_app_credentials_from_the_typed_or_the_stored_secret() -> None:
    stored = MetaSecret("s3cret-from-keyring", "tok").dump()
    assert app_credentials({"app_id": "123456", "app_secret": stored}, INSTAGRAM) == (
        "123456",
        "s3cret-from-keyring",
    )
    with pytest.raises(OAuthError, match="app id"):
        app_credentials({"app_id": "my app", "app_secret": "x"}, INSTAGRAM)
    with pytest.raises(OAuthError, match="app secret"):
        app_credentials({"app_id": "123456"}, INSTAGRAM)


@pytest.mark.parametrize(
    ("raw", "port", "path"),
    [
        ("", 8765, "/callback"),
        ("http://localhost:9000/meta", 9000, "/meta"),
        ("http://127.0.0.1:1234/cb", 1234, "/cb"),
    ],
)
def test_redirect_addresses(raw: str, port: int, path: str) -> None:
    uri, found_port, found_path = redirect_uri_of({"redirect_uri": raw})
    assert (found_port, found_path) == (port, path)
    assert uri.startswith("http://")


@pytest.mark.parametrize(
    "raw", ["https://example.org/cb", "http://localhost/cb", "http://192.168.1.2:80/cb", "x"]
)
def test_redirect_addresses_refused(raw: str) -> None:
    with pytest.raises(OAuthError, match="on this"):
        redirect_uri_of({"redirect_uri": raw})


# --- keeping a token alive ------------------------------------------------------------------------


class Refresher:
    """A refresh endpoint that answers as told and counts its calls."""

    def __init__(self, answer: httpx.Response) -> None:
        self.answer = answer
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        return self.answer


def refresh(
    secret: MetaSecret, answer: httpx.Response, save: Callable[[str], None] = lambda _s: None
) -> tuple[MetaSecret, Refresher]:
    refresher = Refresher(answer)

    async def scenario() -> MetaSecret:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refresher)) as http:
            return await fresh_secret(http, INSTAGRAM, "", secret, FakeClock(NOW), save)

    return run(scenario), refresher


def renewed_answer() -> httpx.Response:
    return httpx.Response(200, json={"access_token": "new-token", "expires_in": 5184000})


def test_young_token_is_not_refreshed() -> None:
    secret = MetaSecret("a", "old-token", NOW - 2 * DAY, NOW + 58 * DAY)
    found, refresher = refresh(secret, renewed_answer())
    assert found == secret
    assert refresher.calls == []


def test_token_in_its_last_month_is_refreshed_and_saved() -> None:
    saved: list[str] = []
    secret = MetaSecret("app", "old-token", NOW - 40 * DAY, NOW + 20 * DAY)
    found, refresher = refresh(secret, renewed_answer(), saved.append)
    assert found.user_token == "new-token"
    assert found.expires_at == NOW + 5184000
    assert found.app_secret == "app"
    assert MetaSecret.load(saved[0]) == found
    (call,) = refresher.calls
    assert call.url.path == "/refresh_access_token"
    assert call.url.params["grant_type"] == "ig_refresh_token"


def test_token_a_few_hours_old_waits_for_its_first_day() -> None:
    secret = MetaSecret("a", "t", NOW - REFRESH_AFTER / 2, NOW + 10 * DAY)
    _found, refresher = refresh(secret, renewed_answer())
    assert refresher.calls == []


def test_refresh_refused_needs_reconnecting() -> None:
    secret = MetaSecret("a", "t", NOW - 40 * DAY, NOW + 20 * DAY)
    refused = httpx.Response(400, json={"error": {"code": 190, "message": "revoked"}})
    with pytest.raises(AuthError, match="reconnect"):
        refresh(secret, refused)


def test_refresh_failing_for_now_keeps_the_working_token() -> None:
    secret = MetaSecret("a", "t", NOW - 40 * DAY, NOW + 20 * DAY)
    found, _ = refresh(secret, httpx.Response(503, text="down"))
    assert found == secret


def test_keyring_refusing_the_new_token_does_not_stop_the_post() -> None:
    def broken(_secret: str) -> None:
        raise SecretStoreError("The keyring is locked.")

    secret = MetaSecret("a", "t", NOW - 40 * DAY, NOW + 20 * DAY)
    found, _ = refresh(secret, renewed_answer(), broken)
    assert found.user_token == "new-token"


def test_expired_token_is_refused_before_any_request() -> None:
    secret = MetaSecret("a", "t", NOW - 61 * DAY, NOW - DAY)
    with pytest.raises(AuthError, match="expired on") as caught:
        refresh(secret, renewed_answer())
    assert "reconnect the account" in str(caught.value)
