"""Finding a Micropub site's endpoints the many ways sites write them, and reading Micropub's
errors, with ``httpx.MockTransport`` as the site."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from staffetta.channels import micropub_api as api
from staffetta.channels.micropub_discovery import discover, links_from_headers
from staffetta.core.errors import AuthError, InputError, PermanentError, TransientError


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def test_link_headers_with_several_rels_quoted_or_not() -> None:
    response = httpx.Response(
        200,
        headers=[
            ("link", '<https://a.example/mp>; rel="micropub", <https://a.example/t>; rel=token_end'
                     'point'),
            ("link", '</auth>; rel="authorization_endpoint me"; title="x"'),
        ],
    )  # fmt: skip
    assert links_from_headers(response) == {
        "micropub": "https://a.example/mp",
        "token_endpoint": "https://a.example/t",
        "authorization_endpoint": "/auth",
        "me": "/auth",
    }


async def test_headers_win_over_html_and_relative_links_follow_base_and_redirects() -> None:
    page = (
        '<html><head><base href="/blog/">'
        '<link rel="micropub" href="html-micropub">'
        '<link rel="token_endpoint" href="tokens">'
        '</head><body><a rel="authorization_endpoint" href="https://id.example/auth">me</a>'
        "</body></html>"
    )

    def site(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/":
            return httpx.Response(301, headers={"location": "https://www.a.example/home"})
        return httpx.Response(
            200,
            text=page,
            headers={"content-type": "text/html", "link": '</mp>; rel="micropub"'},
        )

    async with client(site) as http:
        found = await discover(http, "a.example", now=0.0)
    assert found.site == "https://www.a.example/home"
    assert found.micropub == "https://www.a.example/mp"  # the header, not the page
    assert found.token == "https://www.a.example/blog/tokens"
    assert found.authorization == "https://id.example/auth"


async def test_indieauth_metadata_names_the_sign_in_endpoints() -> None:
    def site(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(
                200,
                json={
                    "issuer": "https://a.example/",
                    "authorization_endpoint": "https://a.example/authorize",
                    "token_endpoint": "https://a.example/token",
                },
            )
        links = (
            '<https://a.example/micropub>; rel="micropub", '
            '<https://a.example/.well-known/oauth-authorization-server>; rel="indieauth-metadata"'
        )
        return httpx.Response(200, text="<html></html>", headers={"link": links})

    async with client(site) as http:
        found = await discover(http, "https://a.example", now=0.0)
    assert (found.authorization, found.token) == (
        "https://a.example/authorize",
        "https://a.example/token",
    )


async def test_plain_http_endpoints_elsewhere_are_refused() -> None:
    def site(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"link": '<http://a.example/mp>; rel="micropub"'})

    async with client(site) as http:
        with pytest.raises(InputError, match="https"):
            await discover(http, "https://a.example", now=0.0)


async def test_a_failing_site_is_transient_not_a_wrong_address() -> None:
    async with client(lambda _r: httpx.Response(502)) as http:
        with pytest.raises(TransientError):
            await discover(http, "https://a.example", now=0.0)


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (401, {"error": "unauthorized"}, AuthError, "reconnect"),
        (401, {"error": "insufficient_scope", "error_description": "Needs create"}, AuthError,
         "allow both"),
        (403, {"error": "forbidden"}, AuthError, "forbidden"),
        (400, {"error": "invalid_request", "error_description": "Missing content"},
         PermanentError, "Missing content (invalid_request)"),
        (500, {"error": "oops"}, TransientError, "HTTP 500"),
    ],
)  # fmt: skip
async def test_micropub_errors_are_classified_with_the_sites_words(
    status: int, body: dict[str, str], kind: type[Exception], words: str
) -> None:
    async with client(lambda _r: httpx.Response(status, json=body)) as http:
        with pytest.raises(kind) as caught:
            await api.request(http, "POST", "https://a.example/micropub", now=0.0, token="t")
    assert words in str(caught.value)
    assert "Bearer" not in str(caught.value)
