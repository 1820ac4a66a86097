"""The composition root: builds the store, channels, secrets and engine the CLI and the GUI share.

Nothing here is global: every caller gets its own ``Runtime`` and closes it. Qt-free.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from staffetta.channels.registry import load_channels
from staffetta.core.channel import Authorization, Channel
from staffetta.core.clock import Clock, SystemClock
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Post
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store

if TYPE_CHECKING:
    import httpx

    from staffetta.core.engine import Engine
    from staffetta.core.events import EngineEvent

# The engine, the HTTP stack and image handling are imported where they are used: a window with
# nothing to deliver reads its outbox and shows previews without ever loading them.


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
        from staffetta.core.engine import Engine

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
        from staffetta.core.media import store_media

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
