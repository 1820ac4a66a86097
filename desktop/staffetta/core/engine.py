"""The delivery engine: takes queued deliveries out of the store and gets them to their platforms.

One asyncio loop, one shared ``httpx.AsyncClient``. Accounts are served concurrently, each
strictly in order. Every attempt is recorded before its request leaves, and a delivery whose
outcome is unknown is reconciled by its channel before anything is sent again. A platform that
keeps failing is marked down (circuit breaker): its deliveries stop hitting it, a cheap health probe
runs on the backoff schedule, and the moment it answers the waiting deliveries are released.

The engine never reads the wall clock or a global RNG: both are injected, so tests can run a
six-hour outage in a second by stepping ``run_once`` and a fake clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from staffetta.core.channel import Channel, DeliveryContext, Outcome
from staffetta.core.clock import Clock
from staffetta.core.errors import (
    AuthError,
    DeliveryError,
    NeedsUserAction,
    PermanentError,
    RateLimited,
    SecretStoreError,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.events import DELIVERY, PLATFORM_DOWN, PLATFORM_UP, EngineEvent
from staffetta.core.model import Account, Delivery, State
from staffetta.core.retry import RetryPolicy
from staffetta.core.store import EndpointHealth, Store, new_owner_id

log = logging.getLogger(__name__)

_BLOCKED_POLL = 0.5  # seconds between looks at work another process holds


class SecretReader(Protocol):
    def get(self, account_id: str) -> str | None: ...
    def set(self, account_id: str, secret: str) -> None: ...


class Engine:
    """Sends due deliveries. Construct one per process; it owns no thread of its own."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        secrets: SecretReader,
        http: httpx.AsyncClient,
        clock: Clock,
        rng: random.Random | None = None,
        policy: RetryPolicy | None = None,
        on_event: Callable[[EngineEvent], None] | None = None,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.secrets = secrets
        self.http = http
        self.clock = clock
        self.rng = rng or random.Random()
        self.policy = policy or RetryPolicy()
        self.owner = owner or new_owner_id()
        self._on_event = on_event
        self._running: dict[str, asyncio.Task[None]] = {}  # account id / "probe:" + endpoint
        self._wake: asyncio.Event | None = None

    # --- driving ----------------------------------------------------------------------------------
    async def run_once(self) -> int:
        """Start everything due now and wait until it has finished (used by tests and flush).

        Returns how many account or probe tasks ran.
        """
        started = self._start_due()
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)
            started += self._start_due()
        return started

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; new work started as soon as it is due or ``wake``d."""
        self._wake = asyncio.Event()
        try:
            while not stop.is_set():
                self._start_due()
                await self._idle_until_next(stop)
        finally:
            for task in self._running.values():
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)
            self._running.clear()

    def wake(self) -> None:
        """Look for work now (new post queued, network came back). Call on the engine's loop."""
        if self._wake is not None:
            self._wake.set()

    async def check_now(self) -> None:
        """The machine came online: probe every platform that is down, at once."""
        now = self.clock.now()
        for health in self.store.endpoints():
            if health.is_down:
                self.store.save_endpoint(health._replace(next_probe_at=now))
        self.wake()

    async def flush(self, *, wait: bool = False) -> None:
        """Send everything due now; with ``wait``, also wait out retries until nothing is left
        that the engine can still do on its own (all sent, or needing the user)."""
        while True:
            started = await self.run_once()
            wake_at = self.next_wakeup()
            if wake_at is None or not wait:
                return
            delay = wake_at - self.clock.now()
            if not started:
                # Due but not ours to send right now (another process holds it): look again soon.
                delay = max(delay, _BLOCKED_POLL)
            await self.clock.sleep(max(0.0, delay))

    def next_wakeup(self) -> float | None:
        """The earliest time at which there will be something to do, if any.

        Only each account's head counts (later posts wait behind it), and an account on a platform
        that is down waits for that platform's next probe instead.
        """
        health = self.store.endpoints()
        down = {h.key for h in health if h.is_down}
        times = [h.next_probe_at for h in health if h.is_down and h.next_probe_at is not None]
        accounts = {a.id: a for a in self.store.accounts()}
        for delivery, _owner in self.store.heads():
            if delivery.state is State.YOUR_TURN:
                continue  # waits for the user, not for a time
            endpoint = self._endpoint_of(accounts.get(delivery.account_id))
            if endpoint is not None and endpoint not in down:
                times.append(delivery.next_attempt_at)
        return min(times) if times else None

    def _endpoint_of(self, account: Account | None) -> str | None:
        if account is None or account.channel not in self.channels:
            return None
        return self.channels[account.channel].endpoint(account)

    async def _idle_until_next(self, stop: asyncio.Event) -> None:
        assert self._wake is not None
        wake_at = self.next_wakeup()
        delay = 3600.0 if wake_at is None else max(0.0, wake_at - self.clock.now())
        if not self._running:
            delay = max(delay, _BLOCKED_POLL)  # due work we could not start must not spin
        waiters: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(stop.wait()),
        ]
        waiters += list(self._running.values())
        if delay > 0 or not self._running:
            waiters.append(asyncio.ensure_future(self.clock.sleep(max(delay, 0.001))))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                if waiter not in self._running.values():
                    waiter.cancel()
            self._wake.clear()

    # --- scheduling -------------------------------------------------------------------------------
    def _start_due(self) -> int:
        """Start a task for every due probe and every account with a due head; return how many."""
        before = len(self._running)
        for key, task in list(self._running.items()):
            if task.done():
                del self._running[key]
                if not task.cancelled() and task.exception() is not None:
                    log.error("delivery task crashed", exc_info=task.exception())
        now = self.clock.now()
        accounts = {a.id: a for a in self.store.accounts()}
        for health in self.store.endpoints():
            key = "probe:" + health.key
            due = health.next_probe_at is not None and health.next_probe_at <= now
            if health.is_down and due and key not in self._running:
                account = self._account_on(health.key, accounts)
                if account is not None:
                    self._running[key] = asyncio.ensure_future(self._probe(health, account))
        down = {h.key for h in self.store.endpoints() if h.is_down}
        held: set[str] = set()
        for delivery, _owner in self.store.heads():
            account = accounts.get(delivery.account_id)
            if account is None or delivery.account_id in self._running:
                continue
            if delivery.state is State.YOUR_TURN:
                continue  # the user posts it; the account's later copies wait behind it
            channel = self.channels.get(account.channel)
            if channel is None:
                continue
            if channel.endpoint(account) in down:
                held.add(account.id)
                continue
            if delivery.next_attempt_at <= now:
                task = asyncio.ensure_future(self._serve_account(account, channel))
                self._running[account.id] = task
        if held:
            self._hold_for_outage(held)
        return max(0, len(self._running) - before)

    def _account_on(self, endpoint: str, accounts: Mapping[str, Account]) -> Account | None:
        for account in accounts.values():
            channel = self.channels.get(account.channel)
            if channel is not None and channel.endpoint(account) == endpoint:
                return account
        return None

    def _hold_for_outage(self, account_ids: set[str]) -> None:
        """Show posts queued for a platform that is down as waiting for it (one read; a write
        only when something changes)."""
        movable = (State.QUEUED, State.WAITING)
        waiting = [d for d in self.store.deliveries(states=movable) if d.account_id in account_ids]
        if waiting:
            self.store.set_state([d.id for d in waiting], State.DOWN, only_from=movable)
        for delivery in waiting:
            self._emit(EngineEvent(DELIVERY, delivery.id, delivery.account_id, state=State.DOWN))

    async def _serve_account(self, account: Account, channel: Channel) -> None:
        """Send this account's due deliveries one after another, in order."""
        endpoint = channel.endpoint(account)
        while True:
            delivery = self.store.head(account.id)
            if delivery is None or delivery.state is State.YOUR_TURN:
                return
            if self.store.endpoint(endpoint).is_down:
                return
            if delivery.next_attempt_at > self.clock.now():
                return
            fresh = self.store.account(account.id)
            if fresh is None or fresh.paused_reason:
                return
            previous = self.store.begin_attempt(delivery.id, self.owner, self.policy.lease_seconds)
            if previous is None:
                return  # another process is sending it
            if not await self._deliver(fresh, channel, previous):
                return

    # --- one delivery ---------------------------------------------------------------------------
    async def _deliver(self, account: Account, channel: Channel, previous: Delivery) -> bool:
        """Send one delivery whose attempt was just recorded; ``previous`` is how it stood before.

        True when the account may go on to its next delivery.
        """
        # Anything that was (or may have been) in flight is reconciled before it is sent again.
        unsure = previous.state in (State.SENDING, State.RECONCILING)
        delivery = dataclasses.replace(previous, attempts=previous.attempts + 1)
        try:
            secret = self._secret_for(account, channel)
        except SecretStoreError as exc:
            state = State.RECONCILING if unsure else State.WAITING
            self._finish(delivery, state, str(exc), self._retry_at(delivery, None))
            return False
        ctx = DeliveryContext(
            post=self.store.post(delivery.post_id),
            account=account,
            delivery=previous if unsure else delivery,
            secret=secret,
            http=self.http,
            clock=self.clock,
            save_checkpoint=self._checkpoint_saver(delivery.id),
            update_secret=lambda value: self.secrets.set(account.id, value),
            other_deliveries=lambda: [
                d for d in self.store.deliveries(post_id=delivery.post_id) if d.id != delivery.id
            ],
        )
        endpoint = channel.endpoint(account)
        if unsure:
            if not await self._reconcile(ctx, channel, endpoint):
                return False
            # Reconciling may have checkpointed progress it found (a thread part that went out).
            delivery = dataclasses.replace(
                delivery, checkpoint=self.store.delivery(delivery.id).checkpoint
            )
        ctx.delivery = dataclasses.replace(delivery, state=State.SENDING)
        self._emit(EngineEvent(DELIVERY, delivery.id, account.id, state=State.SENDING))
        try:
            result = await channel.publish(ctx)
        except DeliveryError as exc:
            return self._failed(ctx, exc, endpoint)
        except (httpx.TransportError, OSError) as exc:
            return self._failed(ctx, UnknownOutcome(f"{channel.label}: {exc}"), endpoint)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in a channel must not lose or duplicate the post
            log.exception("channel %s raised unexpectedly", channel.name)
            self._finish(
                ctx.delivery,
                State.UNCONFIRMED,
                f"Staffetta hit an unexpected error while sending ({type(exc).__name__}); "
                f"check {channel.label} and confirm whether it went out.",
            )
            return True
        self._endpoint_ok(endpoint)
        self._finish(ctx.delivery, State.SENT, "", remote_id=result.remote_id, url=result.url)
        return True

    async def _reconcile(self, ctx: DeliveryContext, channel: Channel, endpoint: str) -> bool:
        """Settle an unknown outcome. True when a (re)send may go ahead now."""
        delivery = ctx.delivery
        try:
            verdict = await channel.reconcile(ctx)
        except AuthError as exc:
            self._pause(ctx.account, delivery, str(exc))
            return False
        except DeliveryError as exc:
            self._count_failure(endpoint, str(exc))
            self._finish(delivery, State.RECONCILING, str(exc), self._retry_at(delivery, exc))
            return False
        except (httpx.TransportError, OSError) as exc:
            self._count_failure(endpoint, str(exc))
            self._finish(delivery, State.RECONCILING, str(exc), self._retry_at(delivery, None))
            return False
        if verdict.outcome is Outcome.SENT:
            self._endpoint_ok(endpoint)
            self._finish(delivery, State.SENT, "", remote_id=verdict.remote_id, url=verdict.url)
            return False  # done; the account moves on in the next loop turn
        if verdict.outcome is Outcome.UNKNOWN:
            evidence = verdict.evidence or (
                f"{channel.label} gives no way to check whether the last attempt went out."
            )
            self._finish(delivery, State.UNCONFIRMED, evidence)
            return False
        return True  # NOT_SENT or RETRY_SAFE: send (again)

    def _failed(self, ctx: DeliveryContext, exc: DeliveryError, endpoint: str) -> bool:
        delivery, message = ctx.delivery, str(exc)
        if isinstance(exc, NeedsUserAction):
            # An assisted copy: its turn has come. It keeps its place (later copies for the
            # account wait behind it) until the user says it was posted or skipped.
            self._endpoint_ok(endpoint)
            self._finish(delivery, State.YOUR_TURN, message)
            return False
        if isinstance(exc, AuthError):
            self._pause(ctx.account, delivery, message)
            return False
        if isinstance(exc, PermanentError):
            self._endpoint_ok(endpoint)  # the platform answered: it is up
            self._finish(delivery, State.FAILED, message)
            return True
        if isinstance(exc, UnknownOutcome):
            self._count_failure(endpoint, message)
            # Reconcile right away unless the platform now counts as down.
            self._finish(delivery, State.RECONCILING, message, self.clock.now())
            return False
        if isinstance(exc, RateLimited):
            self._finish(delivery, State.WAITING, message, self._retry_at(delivery, exc))
            return False
        assert isinstance(exc, TransientError)
        down = self._count_failure(endpoint, message)
        state = State.DOWN if down else State.WAITING
        self._finish(delivery, state, message, self._retry_at(delivery, exc))
        return False

    def _retry_at(self, delivery: Delivery, exc: DeliveryError | None) -> float:
        retry_after = exc.retry_after if isinstance(exc, TransientError) else None
        attempts = max(1, delivery.attempts)
        return self.clock.now() + self.policy.retry_delay(attempts, self.rng, retry_after)

    def _pause(self, account: Account, delivery: Delivery, message: str) -> None:
        self.store.finish(delivery.id, State.NEEDS_RECONNECT, detail=message)
        self.store.pause_account(account.id, message)
        self._emit(
            EngineEvent(
                DELIVERY, delivery.id, account.id, state=State.NEEDS_RECONNECT, detail=message
            )
        )

    def _finish(
        self,
        delivery: Delivery,
        state: State,
        detail: str,
        next_at: float | None = None,
        *,
        remote_id: str = "",
        url: str = "",
    ) -> None:
        self.store.finish(
            delivery.id,
            state,
            detail=detail,
            next_attempt_at=next_at,
            remote_id=remote_id,
            remote_url=url,
        )
        self._emit(
            EngineEvent(DELIVERY, delivery.id, delivery.account_id, state=state, detail=detail)
        )

    def _secret_for(self, account: Account, channel: Channel) -> str | None:
        if not any(f.secret for f in channel.fields):
            return None
        return self.secrets.get(account.id)

    def _checkpoint_saver(self, delivery_id: int) -> Callable[[dict[str, Any]], Any]:
        async def save(checkpoint: dict[str, Any]) -> None:
            self.store.save_checkpoint(delivery_id, checkpoint)

        return save

    # --- circuit breakers -----------------------------------------------------------------------
    def _count_failure(self, endpoint: str, message: str) -> bool:
        """One more consecutive failure; opens the breaker at the threshold. True if down."""
        health = self.store.endpoint(endpoint)
        if health.is_down:
            return True
        failures = health.failures + 1
        if failures < self.policy.breaker_threshold:
            self.store.save_endpoint(health._replace(failures=failures, last_error=message))
            return False
        now = self.clock.now()
        self.store.save_endpoint(
            EndpointHealth(
                key=endpoint,
                down_since=now,
                failures=failures,
                probes=0,
                next_probe_at=now + self.policy.probe_delay(0, self.rng),
                last_error=message,
            )
        )
        held = self._deliveries_on(endpoint, (State.QUEUED, State.WAITING))
        self.store.set_state(held, State.DOWN, only_from=(State.QUEUED, State.WAITING))
        log.info("%s marked down after %d failures: %s", endpoint, failures, message)
        self._emit(EngineEvent(PLATFORM_DOWN, endpoint=endpoint, detail=message, count=len(held)))
        return True

    def _endpoint_ok(self, endpoint: str) -> None:
        health = self.store.endpoint(endpoint)
        if health.failures or health.is_down:
            self._release(endpoint)

    def _release(self, endpoint: str) -> int:
        self.store.save_endpoint(EndpointHealth(key=endpoint))
        now = self.clock.now()
        held = self._deliveries_on(endpoint, (State.DOWN, State.WAITING, State.RECONCILING))
        released = self.store.set_state(
            held, State.QUEUED, only_from=[State.DOWN, State.WAITING], next_attempt_at=now
        )
        # Unknown outcomes stay to be reconciled, but now rather than at their backoff time.
        self.store.set_state(
            held, State.RECONCILING, only_from=[State.RECONCILING], next_attempt_at=now
        )
        if released:
            log.info("%s is back: %d deliveries released", endpoint, released)
        self._emit(EngineEvent(PLATFORM_UP, endpoint=endpoint, count=released))
        return released

    def _deliveries_on(self, endpoint: str, states: tuple[State, ...]) -> list[int]:
        ids: list[int] = []
        accounts = {a.id: a for a in self.store.accounts()}
        for delivery in self.store.deliveries(states=states):
            account = accounts.get(delivery.account_id)
            channel = self.channels.get(account.channel) if account else None
            if account and channel and channel.endpoint(account) == endpoint:
                ids.append(delivery.id)
        return ids

    async def _probe(self, health: EndpointHealth, account: Account) -> None:
        channel = self.channels[account.channel]
        try:
            await channel.probe(self.http, account)
        except (DeliveryError, httpx.HTTPError, OSError) as exc:
            probes = health.probes + 1
            self.store.save_endpoint(
                health._replace(
                    probes=probes,
                    last_error=str(exc),
                    next_probe_at=self.clock.now() + self.policy.probe_delay(probes, self.rng),
                )
            )
            return
        self._release(health.key)

    def _emit(self, event: EngineEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a listener's bug must not stop deliveries
            log.exception("engine event listener failed")
