"""What the Instagram, Facebook Page and Threads channels share: the user's own Meta app, its
sign-in, the keyring secret, health probes and image inspection.

Each account names the app it signs in with (``app_id``; the app secret goes to the keyring with
the tokens, see :mod:`staffetta.channels.meta_auth`) and the redirect address registered in that
app. An optional ``api_url`` points every Meta host at the Staffetta sandbox instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import meta_api as api
from staffetta.channels.meta_auth import DEFAULT_REDIRECT_URI, MetaSecret, Product, fresh_secret
from staffetta.core.channel import Channel, DeliveryContext, Field
from staffetta.core.clock import Clock, SystemClock
from staffetta.core.errors import AuthError, InputError, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.media import ImageInfo, inspect_image
from staffetta.core.model import Account, ChannelGroup

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

CREATE_APP_URL = "https://developers.facebook.com/apps"


class Progress:
    """The delivery's checkpoint as this attempt grows it; every :meth:`save` is durable."""

    def __init__(self, ctx: DeliveryContext) -> None:
        self._ctx = ctx
        self.data: dict[str, Any] = dict(ctx.checkpoint)

    async def save(self, **changes: Any) -> None:
        self.data.update(changes)
        await self._ctx.save_checkpoint(dict(self.data))

    def step(self, key: str = "step") -> dict[str, Any]:
        """A copy of one nested progress record (a container step)."""
        value = self.data.get(key)
        return dict(value) if isinstance(value, dict) else {}


def app_fields(product_help: str, app_id_label: str = "Meta app id") -> tuple[Field, ...]:
    """The bring-your-own-app fields every Meta channel asks for, with the product's help."""
    return (
        Field("app_id", app_id_label, product_help),
        Field(
            "app_secret",
            "App secret",
            "From the same page as the app id. Meta needs it to turn a sign-in into a token "
            "that lasts 60 days; Staffetta keeps it in your system keyring with the tokens.",
            secret=True,
        ),
        Field(
            "redirect_uri",
            "Sign-in address",
            f"Register this exact address as a valid OAuth redirect URI in your app. Leave "
            f"empty for {DEFAULT_REDIRECT_URI}; change the port if another program uses it.",
            required=False,
            default=DEFAULT_REDIRECT_URI,
        ),
    )


API_URL_FIELD = Field(
    "api_url",
    "Meta API server",
    "Leave empty. Only for the Staffetta sandbox.",
    required=False,
)

IMAGE_HOST_FIELDS = (
    Field(
        "public_image_folder",
        "Public image folder",
        "A folder on this computer that your website or file host publishes (for example your "
        "site's static folder, synced or deployed). Meta downloads images from a public web "
        "address, so Staffetta puts each picture there. Not needed for posts without images.",
        required=False,
    ),
    Field(
        "public_image_base_url",
        "Public image address",
        "The https:// address at which that folder can be seen from the internet, like "
        "https://example.org/staffetta-images.",
        required=False,
    ),
)


class MetaChannel(Channel):
    """Base of the three Meta channels (not registered itself)."""

    group: ClassVar[ChannelGroup] = ChannelGroup.SOCIAL
    product: ClassVar[Product]
    graph_host: ClassVar[str]
    browser_sign_in: ClassVar[bool] = True

    def __init__(self, clock: Clock | None = None) -> None:
        # For calls that get no DeliveryContext (verify, probe).
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._image_cache: dict[tuple[str, int, int], ImageInfo | InputError] = {}

    # --- addresses ----------------------------------------------------------------------------
    def api_url(self, account: Account | dict[str, Any]) -> str:
        settings = account.settings if isinstance(account, Account) else account
        return api.normalise_api_url(str(settings.get("api_url") or ""))

    def graph(self, account: Account, path: str) -> str:
        return api.url(self.api_url(account), self.graph_host, path)

    def endpoint(self, account: Account) -> str:
        try:
            return api.origin_key(self.api_url(account), self.graph_host)
        except InputError:
            return self.graph_host

    # --- health -------------------------------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        """Meta has no health endpoint: an unauthenticated ``GET /me`` answers a Graph error
        (no token) while Meta is up, and 5xx, throttling or nothing while it is not."""
        address = self.graph(account, self._me_path())
        label = self.product.label
        try:
            response = await http.get(address, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach {label}: {type(exc).__name__}") from None
        error = api.graph_error(response)
        status = response.status_code
        if status == 200 or (
            status < 500
            and error is not None
            and error.code not in api.TRANSIENT_CODES
            and not error.transient
        ):
            return
        raise TransientError(f"{label} is not answering normally (HTTP {response.status_code}).")

    def _me_path(self) -> str:
        return f"/{api.GRAPH_VERSION}/me"

    # --- the keyring secret -------------------------------------------------------------------
    async def secret_for(self, ctx: DeliveryContext) -> MetaSecret:
        """The account's tokens, refreshed ahead of expiry (the keyring gets the new ones)."""
        secret = MetaSecret.load(ctx.secret)
        return await fresh_secret(
            ctx.http, self.product, self.api_url(ctx.account), secret, ctx.clock, ctx.update_secret
        )

    def loaded(self, secret: str | None) -> MetaSecret:
        found = MetaSecret.load(secret)
        if not found.user_token and not found.page_token:
            raise AuthError(
                f"This {self.product.label} account is not signed in: choose “Sign in with your "
                "browser” (the app secret alone cannot post)."
            )
        if found.expires_at and found.expires_at <= self._clock.now():
            raise AuthError(f"The {self.product.label} sign-in has expired — reconnect it.")
        return found

    # --- images -------------------------------------------------------------------------------
    def inspect(self, path: str) -> ImageInfo | InputError:
        """``inspect_image``, remembered per file version: previews run on every keystroke."""
        try:
            stat = os.stat(path)
            key: tuple[str, int, int] | None = (path, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None
        if key is not None and key in self._image_cache:
            return self._image_cache[key]
        try:
            found: ImageInfo | InputError = inspect_image(Path(path))
        except InputError as exc:
            found = exc
        if key is not None:
            if len(self._image_cache) >= 64:
                self._image_cache.pop(next(iter(self._image_cache)))
            self._image_cache[key] = found
        return found
