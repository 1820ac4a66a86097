"""The composition root: builds the store, channels, secrets and engine the CLI and the GUI share.

Nothing here is global: every caller gets its own ``Runtime`` and closes it. Qt-free.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from staffetta import __version__
from staffetta.channels.registry import load_channels
from staffetta.core.channel import Authorization, Channel
from staffetta.core.clock import Clock, SystemClock
from staffetta.core.engine import Engine, EngineEvent
from staffetta.core.errors import InputError
from staffetta.core.media import store_media
from staffetta.core.model import Account, Post
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store

USER_AGENT = f"Staffetta/{__version__} (+https://github.com/staffetta/staffetta)"


def new_http_client() -> httpx.AsyncClient:
    """The one HTTP client the engine shares. TLS verification is always on.

    Its connection pool is built at the first request (see :class:`_PoolOnFirstUse`): a window or a
    ``flush`` with nothing to send never pays for loading the TLS certificates.
    """
    return _PoolOnFirstUse(
        timeout=httpx.Timeout(30.0, connect=10.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


class _PoolOnFirstUse(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose direct connection pool is built when it is first needed.

    Building it loads the system's TLS certificates and httpcore (with whatever async libraries
    that finds installed): about 0.15 s of CPU and 5 MB, which the window's engine would otherwise
    spend at every start, usually with nothing to send. The pool is the one httpx would have built
    itself, with the same arguments; proxies from the environment are still honoured (those pools
    are built by httpx as usual).
    """

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
        build = super()._init_transport
        return _BuiltOnFirstRequest(lambda: build(*args, **kwargs))


class _BuiltOnFirstRequest(httpx.AsyncBaseTransport):
    """A transport built by ``build()`` at the first request (on the client's event loop)."""

    def __init__(self, build: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._build: Callable[[], httpx.AsyncBaseTransport] | None = build
        self._transport: httpx.AsyncBaseTransport | None = None

    @property
    def built(self) -> bool:
        return self._transport is not None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            if self._build is None:
                raise RuntimeError("the HTTP client is closed")
            self._transport = self._build()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        self._build = None
        if self._transport is not None:
            await self._transport.aclose()


@dataclass
class Runtime:
    paths: Paths
    store: Store
    secrets: SecretStore
    channels: Mapping[str, Channel]
    clock: Clock = field(default_factory=SystemClock)
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def open(
        cls,
        paths: Paths | None = None,
        *,
        secrets: SecretStore | None = None,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
    ) -> Runtime:
        paths = (paths or Paths.default()).ensure()
        clock = clock or SystemClock()
        return cls(
            paths=paths,
            store=Store.open(paths.database, clock),
            secrets=secrets or SecretStore(),
            channels=load_channels(),
            clock=clock,
            policy=policy or RetryPolicy(),
        )

    def close(self) -> None:
        self.store.close()

    def channel_for(self, account: Account) -> Channel:
        try:
            return self.channels[account.channel]
        except KeyError:
            raise InputError(
                f"Account {account.id} uses the channel '{account.channel}', which this version "
                f"of Staffetta does not know."
            ) from None

    def account(self, account_id: str) -> Account:
        account = self.store.account(account_id)
        if account is None:
            known = ", ".join(a.id for a in self.store.accounts()) or "none yet"
            raise InputError(f"No account '{account_id}'. Accounts: {known}.")
        return account

    def engine(
        self,
        http: httpx.AsyncClient,
        on_event: Callable[[EngineEvent], None] | None = None,
        rng: random.Random | None = None,
    ) -> Engine:
        return Engine(
            self.store,
            self.channels,
            self.secrets,
            http,
            self.clock,
            rng=rng,
            policy=self.policy,
            on_event=on_event,
        )

    # --- use cases shared by the CLI and the GUI --------------------------------------------------
    def queue(self, post: Post, account_ids: list[str]) -> int:
        """Copy the post's images into the data folder, then queue it for every account at once.

        Nothing is queued if an image cannot be copied: the user gets the reason and loses nothing.
        """
        for account_id in account_ids:
            self.account(account_id)
        stored = tuple(store_media(Path(image.path), self.paths.media) for image in post.images)
        images = tuple(
            dataclasses.replace(copy, alt=original.alt)
            for copy, original in zip(stored, post.images, strict=True)
        )
        return self.store.enqueue(dataclasses.replace(post, images=images), account_ids)

    async def connect(
        self,
        http: httpx.AsyncClient,
        channel_name: str,
        name: str,
        settings: dict[str, Any],
        secret: str | None,
        *,
        verify: bool = True,
    ) -> Account:
        """Check the credentials, then store the account (settings in SQLite, secret in keyring).

        An empty ``name`` becomes the handle the platform reports (or the channel's label).
        """
        channel = self.channels.get(channel_name)
        if channel is None:
            raise InputError(
                f"Unknown channel '{channel_name}'. Channels: {', '.join(sorted(self.channels))}."
            )
        _refuse_secret_settings(channel, settings)
        missing = [
            f.name
            for f in channel.fields
            if f.required and not f.secret and not settings.get(f.name)
        ]
        if missing:
            raise InputError(f"{channel.label} needs: {', '.join(missing)}.")
        needs_secret = any(f.secret and f.required for f in channel.fields)
        if needs_secret and not secret:
            raise InputError(f"{channel.label} needs a secret (token or password).")
        if secret:
            self.secrets.check()  # refuse before anything is stored if there is no keyring
        draft = Account(id="", channel=channel_name, name=name, settings=settings)
        if verify:
            handle = await channel.verify(http, draft, secret)
            settings = {**settings, "handle": handle}
            draft = Account(id="", channel=channel_name, name=name, settings=settings)
            settings.update(await channel.refresh_settings(http, draft))
        name = name.strip() or str(settings.get("handle") or "") or channel.label
        account = self.store.add_account(channel_name, name, settings)
        if secret:
            try:
                self.secrets.set(account.id, secret)
            except Exception:
                self.store.remove_account(account.id)
                raise
        return account

    async def verify_account(self, http: httpx.AsyncClient, account_id: str) -> str:
        """Test a connected account with its platform; returns the handle the platform reports.

        Settings the platform dictates (an instance's limits) are refreshed on the way. Raises the
        channel's error as it is (:class:`AuthError` when the credentials are refused).
        """
        account = self.account(account_id)
        channel = self.channel_for(account)
        secret = self.secrets.get(account.id) if uses_secret(channel) else None
        handle = await channel.verify(http, account, secret)
        refreshed = await channel.refresh_settings(http, account)
        if refreshed:
            self.store.update_account(account.id, settings={**account.settings, **refreshed})
        return handle

    async def reconnect(
        self,
        http: httpx.AsyncClient,
        account_id: str,
        credentials: str | Authorization | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
    ) -> Account:
        """Give an account new credentials, check them with the platform, and resume it.

        ``credentials`` is a pasted secret, what a browser sign-in produced, or ``None`` to try
        the stored secret again. ``settings`` are non-secret settings to change. Nothing is stored
        unless the platform accepts the credentials *for the same account* (signing in as someone
        else is refused, so waiting posts never go to another account); then the secret goes to
        the keyring, the settings to the database, and the posts held for the account are queued
        again, due now.
        """
        account = self.account(account_id)
        channel = self.channel_for(account)
        changes = dict(settings or {})
        _refuse_secret_settings(channel, changes)
        if isinstance(credentials, Authorization):
            secret: str | None = credentials.secret
            changes.update(credentials.settings)
        else:
            secret = (credentials or "").strip() or None
        merged = {**account.settings, **changes}
        new_secret = secret is not None
        if new_secret:
            self.secrets.check()
        elif uses_secret(channel):
            secret = self.secrets.get(account.id)
        draft = dataclasses.replace(account, settings=merged)
        handle = await channel.verify(http, draft, secret)
        before = str(account.settings.get("handle") or "")
        if uses_secret(channel) and before and handle.casefold() != before.casefold():
            raise InputError(
                f"You signed in as {handle}, but this account is {before}. Sign in as {before} "
                f"to reconnect it, or add {handle} as a new account."
            )
        merged["handle"] = handle
        merged.update(
            await channel.refresh_settings(http, dataclasses.replace(account, settings=merged))
        )
        if new_secret:
            assert secret is not None
            self.secrets.set(account.id, secret)
        self.store.update_account(account.id, settings=merged)
        self.store.resume_account(account.id)
        return self.account(account.id)

    def disconnect(self, account_id: str) -> None:
        """Remove the account and its keyring entry; its unsent deliveries are cancelled.

        Accounts of channels that keep no secret are removed without touching the keyring, so
        they can be removed on a machine without one.
        """
        account = self.account(account_id)
        channel = self.channels.get(account.channel)
        if channel is None or uses_secret(channel):
            self.secrets.delete(account_id)
        self.store.remove_account(account_id)


def uses_secret(channel: Channel) -> bool:
    """Whether accounts of ``channel`` keep a secret in the keyring (a token, a password...)."""
    return channel.browser_sign_in or any(f.secret for f in channel.fields)


def _refuse_secret_settings(channel: Channel, settings: Mapping[str, Any]) -> None:
    secret_fields = sorted({f.name for f in channel.fields if f.secret} & settings.keys())
    if secret_fields:
        raise InputError(
            f"{', '.join(secret_fields)} is a secret and is never stored as a setting: give "
            f"it as the account's secret (on the command line: --secret-stdin or "
            f"--secret-env), so it goes to the keyring."
        )
