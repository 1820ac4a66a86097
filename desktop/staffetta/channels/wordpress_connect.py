"""Connecting a WordPress account: checking a user name + application password, and the browser
approval flow of ``wp-admin/authorize-application.php``.

The site advertises the approval page in its REST index, under
``authentication.application-passwords.endpoints.authorization``, only where application
passwords are available (https, or a site whose environment type is ``local``). Staffetta opens it
with ``app_name``, a fixed ``app_id`` and a ``success_url`` on a one-shot loopback listener
(:class:`staffetta.core.oauth.LoopbackReceiver`); after the user approves, WordPress redirects
there with ``site_url``, ``user_login`` and ``password`` added to the query, or with
``success=false`` when the user declines. A ``state`` value in the success URL ties the answer to
this request, as in OAuth.

WordPress accepts an ``http://`` success URL only from a site in a ``local`` environment; a live
site over https refuses the loopback address ("The URL must be served over a secure
connection"). For such sites Staffetta opens the approval page without a success URL: WordPress
then shows the new password on the page, and the user pastes it into Staffetta.
"""

from __future__ import annotations

import inspect
import uuid
import webbrowser
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from staffetta.channels import wordpress_api as api
from staffetta.channels.owned_common import is_loopback_host, normalise_site_url
from staffetta.core.channel import Authorization
from staffetta.core.errors import AuthError, InputError
from staffetta.core.lazy import lazy_module
from staffetta.core.oauth import (
    BrowserOpener,
    LoopbackReceiver,
    OAuthError,
    new_state,
    run_browser_authorization,
)

if TYPE_CHECKING:
    import asyncio

    import httpx
else:
    httpx = lazy_module("httpx")
    asyncio = lazy_module("asyncio")

APP_NAME = "Staffetta"
# WordPress lists approved applications under this id (a UUID), so the user can revoke them.
APP_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/staffetta/staffetta#wordpress"))


class _ApprovalReceiver(LoopbackReceiver):
    """The loopback listener, reading WordPress's answer instead of an OAuth code.

    What it hands back is ``user_login`` and ``password`` joined by a newline (a user login
    never holds one).
    """

    def _judge(self, params: dict[str, str]) -> str | OAuthError:
        expected = self._expected_state or ""
        if params.get("state") != expected or not expected:
            return OAuthError(
                "The browser's answer did not belong to this sign-in, so it was refused. Start "
                "connecting the account again from Staffetta."
            )
        if params.get("success") == "false":
            return OAuthError(
                "Access was declined in WordPress, so the account was not connected. Connect it "
                "again and choose “Yes, I approve of this connection”."
            )
        user, password = params.get("user_login", ""), params.get("password", "")
        if not user or not password or "\n" in user:
            return OAuthError(
                "WordPress's answer carried no user name or password. Start connecting again."
            )
        return f"{user}\n{password}"


async def fetch_index(http: httpx.AsyncClient, api_root: str, *, now: float) -> dict[str, Any]:
    response = await api.request(http, "GET", api.route_url(api_root, "/"), now=now)
    return api.json_object(response, "the site's API index")


def authorization_endpoint(index: dict[str, Any]) -> str:
    """The approval page the site advertises, or ``""``."""
    auth = index.get("authentication")
    passwords = auth.get("application-passwords") if isinstance(auth, dict) else None
    endpoints = passwords.get("endpoints") if isinstance(passwords, dict) else None
    url = endpoints.get("authorization") if isinstance(endpoints, dict) else None
    return url if isinstance(url, str) else ""


async def connect_in_browser(
    http: httpx.AsyncClient,
    settings: dict[str, Any],
    *,
    open_browser: BrowserOpener | None,
    now: float,
    timeout: float = 300.0,  # noqa: ASYNC109 - the deadline is part of the message we show
    receiver_factory: type[LoopbackReceiver] = _ApprovalReceiver,
) -> Authorization:
    """Approve Staffetta in the browser; the password goes to the keyring, the rest to settings."""
    site = normalise_site_url(str(settings.get("site_url") or ""), "WordPress site")
    api_root = await api.discover_api_root(http, site, now=now)
    endpoint = authorization_endpoint(await fetch_index(http, api_root, now=now))
    if not endpoint:
        raise OAuthError(
            f"{api.host_of(site)} does not offer approving Staffetta in the browser (WordPress "
            "only does over https, and a site may turn application passwords off). In WordPress, "
            "open Users → Profile → Application Passwords, create one named Staffetta, and paste "
            "it here with your user name."
        )
    endpoint_parts = urlsplit(endpoint)
    if endpoint_parts.scheme != "https" and not is_loopback_host(endpoint_parts.hostname or ""):
        raise OAuthError(
            f"{api.host_of(site)} offers its approval page over plain http, which would send "
            "your password unencrypted. Ask the site to use https."
        )
    query = {"app_name": APP_NAME, "app_id": APP_ID}
    if not is_loopback_host(urlsplit(site).hostname or ""):
        # A live site refuses an http:// success URL: let it show the password instead.
        opener = open_browser if open_browser is not None else webbrowser.open
        page = f"{endpoint}?{urlencode(query)}"
        if inspect.iscoroutinefunction(opener):
            await opener(page)
        else:
            await asyncio.to_thread(opener, page)  # webbrowser.open may block while it spawns
        raise OAuthError(
            "WordPress opened in your browser. After you approve Staffetta there, it shows a new "
            "application password: copy it into “Application password” here, fill in your user "
            "name, and choose Connect. (WordPress does not hand passwords back to an app on this "
            "computer unless the site runs over plain http on it.)"
        )
    receiver = receiver_factory()
    await receiver.start()
    try:
        state = new_state()
        success = f"{receiver.redirect_uri}?{urlencode({'state': state})}"
        url = f"{endpoint}?{urlencode({**query, 'success_url': success})}"
        answer = await run_browser_authorization(
            receiver, url, state, open_browser=open_browser, timeout=timeout
        )
    finally:
        await receiver.close()
    user, _, password = answer.partition("\n")
    return Authorization(
        secret=password, settings={"site_url": site, "username": user, "api_root": api_root}
    )


async def who_am_i(
    http: httpx.AsyncClient, api_root: str, user: str, password: str | None, *, now: float
) -> dict[str, Any]:
    """``GET /wp/v2/users/me?context=edit``: the user these credentials belong to."""
    if not user:
        raise InputError("Enter your WordPress user name (the one you log in with).")
    if not password:
        raise AuthError(
            "This WordPress account has no application password — sign in with the browser or "
            "paste one."
        )
    url = api.route_url(api_root, "/wp/v2/users/me", {"context": "edit"})
    response = await api.request(http, "GET", url, now=now, auth=(user, password))
    me = api.json_object(response, "your user")
    if not me.get("id"):
        raise AuthError("WordPress did not say which user this password belongs to.")
    return me
