"""Finding a Micropub site's endpoints, and signing in to it with IndieAuth.

Discovery (Micropub §5.3, IndieAuth §4.1): the user's site names its endpoints with
``rel="micropub"``, ``rel="token_endpoint"``, ``rel="authorization_endpoint"`` (or, in current
IndieAuth, ``rel="indieauth-metadata"`` pointing to a JSON document holding the last two), in HTTP
``Link`` headers first and HTML ``<link>``/``<a>`` elements second, relative URLs resolved
against the final URL after redirects.

Sign-in is OAuth 2.0 as IndieAuth profiles it: a public client whose ``client_id`` is a URL —
here the loopback listener's own ``http://127.0.0.1:PORT/`` (IndieAuth allows 127.0.0.1 in a
client id), so the ``redirect_uri`` on the same host and port needs no published metadata — PKCE
S256, ``state``, and ``me`` as a hint. The token endpoint answers ``access_token`` and ``me``;
a ``me`` on another host is accepted only if that site names the same authorization endpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

from staffetta.channels import micropub_api as api
from staffetta.channels.owned_common import normalise_site_url
from staffetta.core.channel import Authorization
from staffetta.core.errors import InputError
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

RELS = ("micropub", "token_endpoint", "authorization_endpoint", "indieauth-metadata")
SCOPES = "create media"
_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_REL = re.compile(r'rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))', re.IGNORECASE)
_MAX_PAGE = 512 * 1024
_READABLE = (200, *range(300, 500))  # 5xx stays transient: try again later


@dataclass(frozen=True, slots=True)
class Endpoints:
    site: str  # the final URL of the user's site, after redirects
    micropub: str
    token: str = ""
    authorization: str = ""

    def settings(self) -> dict[str, str]:
        found = {
            "site_url": self.site,
            "micropub_endpoint": self.micropub,
            "token_endpoint": self.token,
            "authorization_endpoint": self.authorization,
        }
        return {key: value for key, value in found.items() if value}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): value or "" for key, value in attrs}
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        if tag not in ("link", "a") or not values.get("href"):
            return
        for rel in values.get("rel", "").lower().split():
            self.found.setdefault(rel, values["href"])


def links_from_headers(response: httpx.Response) -> dict[str, str]:
    """``rel`` → URL (as written) from every ``Link`` header, first one wins."""
    found: dict[str, str] = {}
    for header in response.headers.get_list("link"):
        for target, params in _LINK_VALUE.findall(header):
            for match in _REL.finditer(params):
                for rel in (match.group(1) or match.group(2)).lower().split():
                    found.setdefault(rel, target.strip())
    return found


def links_from_html(text: str) -> tuple[dict[str, str], str | None]:
    parser = _Links()
    parser.feed(text[:_MAX_PAGE])
    parser.close()
    return parser.found, parser.base


async def discover(http: httpx.AsyncClient, raw_site: str, *, now: float) -> Endpoints:
    """The endpoints ``raw_site`` names; :class:`InputError` when it names no Micropub endpoint."""
    site = normalise_site_url(raw_site, "site")
    url = site if urlsplit(site).path else site + "/"
    response = await api.request(
        http, "GET", url, now=now, ok=_READABLE, follow_redirects=True, accept="text/html"
    )
    if response.status_code != 200:
        raise InputError(
            f"{urlsplit(url).netloc} answered HTTP {response.status_code} for {url}. Check "
            "your site's address."
        )
    final = str(response.url)
    normalise_site_url(final, "site")  # a redirect to plain http elsewhere is refused too
    found = {rel: urljoin(final, href) for rel, href in links_from_headers(response).items()}
    if "html" in response.headers.get("content-type", "html"):
        in_page, base = links_from_html(response.text)
        for rel, href in in_page.items():
            found.setdefault(rel, urljoin(urljoin(final, base or ""), href))
    if "indieauth-metadata" in found and not (
        found.get("authorization_endpoint") and found.get("token_endpoint")
    ):
        meta = await api.request(http, "GET", found["indieauth-metadata"], now=now, ok=(200,))
        document = api.json_object(meta, "the sign-in metadata")
        for key in ("authorization_endpoint", "token_endpoint"):
            if isinstance(document.get(key), str):
                found.setdefault(key, document[key])
    micropub = found.get("micropub", "")
    if not micropub:
        raise InputError(
            f'{urlsplit(final).netloc} does not name a Micropub endpoint (no rel="micropub" '
            "link). Check the address, or turn Micropub on in your site's software."
        )
    endpoints = Endpoints(
        final,
        _secure(micropub, "Micropub endpoint"),
        _secure(found.get("token_endpoint", ""), "token endpoint"),
        _secure(found.get("authorization_endpoint", ""), "authorization endpoint"),
    )
    return endpoints


def _secure(url: str, what: str) -> str:
    if not url:
        return ""
    try:
        normalise_site_url(url, what)
    except InputError as exc:
        raise InputError(f"The site's {what} cannot be used: {exc}") from None
    return url


# --- IndieAuth ------------------------------------------------------------------------------------


def authorization_url(
    endpoints: Endpoints, *, client_id: str, redirect_uri: str, state: str, pkce: Pkce, me: str
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "scope": SCOPES,
        "me": me,
    }
    separator = "&" if "?" in endpoints.authorization else "?"
    return f"{endpoints.authorization}{separator}{urlencode(query)}"


async def sign_in(
    http: httpx.AsyncClient,
    settings: dict[str, Any],
    *,
    open_browser: BrowserOpener | None,
    now: float,
    timeout: float = 300.0,  # noqa: ASYNC109 - the deadline is part of the message we show
) -> Authorization:
    """Discover, authorise in the browser (PKCE + loopback), redeem the code for a token."""
    endpoints = await discover(http, str(settings.get("site_url") or ""), now=now)
    if not endpoints.authorization or not endpoints.token:
        raise OAuthError(
            f"{urlsplit(endpoints.site).netloc} names no IndieAuth authorization and token "
            "endpoints, so Staffetta cannot sign in there. Create a Micropub token in your "
            "site's settings and paste it instead."
        )
    receiver = LoopbackReceiver()
    await receiver.start()
    client_id = f"http://127.0.0.1:{receiver.port}/"
    try:
        pkce, state = Pkce.generate(), new_state()
        url = authorization_url(
            endpoints,
            client_id=client_id,
            redirect_uri=receiver.redirect_uri,
            state=state,
            pkce=pkce,
            me=endpoints.site,
        )
        code = await run_browser_authorization(
            receiver, url, state, open_browser=open_browser, timeout=timeout
        )
    finally:
        await receiver.close()
    response = await api.request(
        http,
        "POST",
        endpoints.token,
        now=now,
        ok=tuple(range(100, 600)),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": receiver.redirect_uri,
            "code_verifier": pkce.verifier,
        },
    )
    if response.status_code != 200:
        raise OAuthError(
            f"{urlsplit(endpoints.token).netloc} did not accept the sign-in "
            f"({api.error_message(response)}). Start connecting the account again."
        )
    answer = api.json_object(response, "the sign-in")
    token, me = answer.get("access_token"), str(answer.get("me") or endpoints.site)
    if not isinstance(token, str) or not token:
        raise OAuthError("The token endpoint answered the sign-in without a token.")
    await _check_me(http, me, endpoints, now=now)
    return Authorization(secret=token, settings={**endpoints.settings(), "me": me})


async def _check_me(http: httpx.AsyncClient, me: str, endpoints: Endpoints, *, now: float) -> None:
    """The profile URL the server returned must be the user's site, or vouch for the same
    authorization endpoint (IndieAuth §5.3.3), or a server could claim anyone's site."""
    if urlsplit(me).netloc == urlsplit(endpoints.site).netloc:
        return
    try:
        theirs = await discover(http, me, now=now)
    except InputError:
        theirs = None
    if theirs is None or theirs.authorization != endpoints.authorization:
        raise OAuthError(
            f"The sign-in came back for {me}, which does not use your site's sign-in server, "
            "so it was refused. Sign in with the address of your own site."
        )
