"""WordPress's answers the real test site does not give on demand (5xx, 429, 413, a site without
pretty permalinks, a live https site's approval page), with ``httpx.MockTransport`` as the peer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from staffetta.channels import wordpress_api as api
from staffetta.channels.wordpress import WordPressChannel
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.model import Account, Post
from staffetta.core.oauth import OAuthError

INDEX = {"name": "Blog", "namespaces": ["oembed/1.0", "wp/v2"], "authentication": {}}


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def wp_error(status: int, code: str, message: str, **data: Any) -> httpx.Response:
    body = {"code": code, "message": message, "data": {"status": status, **data}}
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (wp_error(401, "incorrect_password", "Bad password."), AuthError, "Bad password."),
        (wp_error(403, "rest_cannot_create", "Not allowed."), AuthError, "reconnect"),
        (
            wp_error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): status",
                params={"status": "status is not one of publish, draft."},
            ),
            PermanentError,
            "status is not one of publish, draft.",
        ),
        (
            httpx.Response(
                413, text="<html>Too large</html>", headers={"content-type": "text/html"}
            ),
            PermanentError,
            "too large",
        ),
        (httpx.Response(503, headers={"retry-after": "120"}), TransientError, "HTTP 503"),
        (wp_error(429, "too_many", "Slow down"), RateLimited, "Slow down"),
        (wp_error(403, "waf_block", "Blocked by the firewall"), PermanentError, "Blocked"),
    ],
)
async def test_errors_are_classified_with_wordpress_words(
    response: httpx.Response, kind: type[Exception], words: str
) -> None:
    async with client(lambda _r: response) as http:
        with pytest.raises(kind) as caught:
            await api.request(http, "POST", "https://blog.example/wp-json/wp/v2/posts", now=0.0)
    assert words in str(caught.value)
    assert type(caught.value) is kind


async def test_a_lost_answer_to_a_write_is_unknown_and_to_a_read_transient() -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset", request=request)

    async with client(drop) as http:
        with pytest.raises(UnknownOutcome):
            await api.request(http, "POST", "https://blog.example/wp-json/wp/v2/posts", now=0.0)
        with pytest.raises(TransientError):
            await api.request(http, "GET", "https://blog.example/wp-json/wp/v2/posts", now=0.0)


def test_routes_keep_the_rest_route_query_of_sites_without_pretty_permalinks() -> None:
    url = api.route_url("https://b.example/?rest_route=", "/wp/v2/posts", {"slug": "a b"})
    assert url == "https://b.example/?rest_route=%2Fwp%2Fv2%2Fposts&slug=a+b"
    assert api.route_url("https://b.example/wp-json", "/") == "https://b.example/wp-json/"


async def test_the_api_is_found_under_rest_route_or_the_link_header() -> None:
    def plain_permalinks(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("rest_route") == "/":
            return httpx.Response(200, json=INDEX)
        return httpx.Response(404, text="Not found")

    async with client(plain_permalinks) as http:
        root = await api.discover_api_root(http, "https://b.example", now=0.0)
    assert root == "https://b.example/?rest_route="

    def moved(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/":
            return httpx.Response(200, json=INDEX)
        if request.url.path == "/" and not request.url.params:
            link = '<https://b.example/api/>; rel="https://api.w.org/"'
            return httpx.Response(200, text="<html></html>", headers={"link": link})
        return httpx.Response(404)

    async with client(moved) as http:
        assert await api.discover_api_root(http, "https://b.example", now=0.0) == (
            "https://b.example/api"
        )

    async with client(lambda _r: httpx.Response(200, text="<html>no api</html>")) as http:
        with pytest.raises(InputError, match="No WordPress REST API"):
            await api.discover_api_root(http, "https://b.example", now=0.0)


async def test_a_live_https_site_shows_the_password_for_the_user_to_paste() -> None:
    index = {**INDEX, "authentication": {"application-passwords": {"endpoints": {
        "authorization": "https://b.example/wp-admin/authorize-application.php"}}}}  # fmt: skip

    async with client(lambda _r: httpx.Response(200, json=index)) as http:
        opened: list[str] = []
        with pytest.raises(OAuthError, match="copy it into “Application password”"):
            await WordPressChannel().authorize(
                http, {"site_url": "b.example"}, lambda url: opened.append(url)
            )
    [page] = opened
    query = parse_qs(urlsplit(page).query)
    assert query["app_name"] == ["Staffetta"]
    assert "success_url" not in query  # WordPress refuses http:// ones from live sites


async def test_a_site_without_the_approval_page_says_how_to_make_a_password() -> None:
    async with client(lambda _r: httpx.Response(200, json=INDEX)) as http:
        with pytest.raises(OAuthError, match="Application Passwords"):
            await WordPressChannel().authorize(http, {"site_url": "b.example"}, print)


async def test_connecting_without_a_password_or_user_says_what_is_missing() -> None:
    account = Account("wp-1", "wordpress", "Blog", {"site_url": "https://b.example"})
    channel = WordPressChannel()
    async with client(lambda _r: httpx.Response(500)) as http:
        with pytest.raises(AuthError, match="no application password"):
            await channel.verify(http, account, None)
        with pytest.raises(InputError, match="user name"):
            await channel.verify(http, account, "abcd efgh")


def test_preview_warns_about_a_bad_publish_status_and_a_missing_title() -> None:
    account = Account(
        "wp-1", "wordpress", "Blog", {"site_url": "https://b.example", "publish_status": "later"}
    )
    preview = WordPressChannel().preview(Post(body="Body only"), account)
    codes = [p.code for p in preview.problems]
    assert codes == ["settings", "no_title"]
    assert "publish or draft" in preview.problems[0].message
    assert preview.blocking
    assert json.dumps(preview.html)  # rendered
