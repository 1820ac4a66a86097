"""Desktop notifications: only news the user wants to hear, a few at a time.

* After a platform comes back, the posts it released that go out make ONE notification:
  "3 posts went out on Mastodon after it came back".
* Something needs the user: an account to reconnect, a post the platform refused, a post whose
  fate is unknown. Several at once make one notification.
* Routine successes only with the "notify on every sent post" setting.

Everything goes through :class:`Notifier`, whose ``notified`` signal and ``shown`` list say what
was shown; the tray (or, without a tray, the status bar) displays it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from staffetta.core.events import EngineEvent
from staffetta.core.model import State
from staffetta.ui.context import AppContext
from staffetta.ui.preferences import Preferences
from staffetta.ui.tray import platform_names

COALESCE_MS = 800  # events this close together make one notification
# A recovery whose released posts have not all gone out after this long is reported as it stands
# (some may be waiting again, or were cancelled).
RECOVERY_SETTLE_MS = 20_000


@dataclass(frozen=True)
class Notification:
    title: str
    message: str


@dataclass
class _Recovery:
    """Posts released when an endpoint came back, and how many of them went out since."""

    platform: str
    released: int
    deadline: float  # time.monotonic() after which it is reported as it stands
    sent: int = 0


@dataclass
class _Batch:
    sent: dict[str, int] = field(default_factory=dict)  # platform -> posts sent
    needs: list[tuple[State, str, str]] = field(default_factory=list)  # state, platform, detail


class Notifier(QObject):
    """Turns engine events into a few meaningful notifications. ``show(title, message)`` is how
    they reach the desktop; ``shown`` keeps every one (tests and the status bar read it)."""

    notified = Signal(str, str)

    def __init__(
        self,
        ctx: AppContext,
        show: Callable[[str, str], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._show = show
        self._prefs = Preferences(ctx.settings)
        self.shown: list[Notification] = []
        self._recoveries: dict[str, _Recovery] = {}
        self._batch = _Batch()
        self._seen: set[tuple[int, State]] = set()
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self._flush_batch)
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.timeout.connect(self._settle_due)
        # account id -> endpoint, endpoint -> platform name: read again when accounts change
        self._platforms: tuple[dict[str, str], dict[str, str]] | None = None
        ctx.bridge.platformUp.connect(self.on_platform_up)
        ctx.bridge.deliveryChanged.connect(self.on_delivery_changed)
        ctx.bridge.accountsChanged.connect(self._forget_platforms)

    def notify(self, title: str, message: str) -> None:
        note = Notification(title, message)
        self.shown.append(note)
        if self._show is not None:
            self._show(title, message)
        self.notified.emit(title, message)

    # --- engine events -------------------------------------------------------------------------
    def on_platform_up(self, event: EngineEvent) -> None:
        if event.count <= 0:
            return
        name = self._names(event.endpoint).get(event.endpoint, event.endpoint)
        previous = self._recoveries.pop(event.endpoint, None)
        if previous is not None:
            self._finish_recovery(previous)
        deadline = time.monotonic() + RECOVERY_SETTLE_MS / 1000
        self._recoveries[event.endpoint] = _Recovery(name, event.count, deadline)
        self._schedule_settle()

    def on_delivery_changed(self, event: EngineEvent) -> None:
        state = event.state
        if state is None:
            return
        if state is State.SENT:
            endpoint = self._endpoint(event.account_id) if self._recoveries else None
            recovery = self._recoveries.get(endpoint) if endpoint is not None else None
            if recovery is not None and endpoint is not None:
                recovery.sent += 1
                if recovery.sent >= recovery.released:
                    self._recoveries.pop(endpoint)
                    self._finish_recovery(recovery)
                    self._schedule_settle()
                return
            if self._prefs.notify_sent:
                name = self._platform_of(event.account_id)
                self._batch.sent[name] = self._batch.sent.get(name, 0) + 1
                self._coalesce.start()
            return
        if state.needs_user and (event.delivery_id, state) not in self._seen:
            self._seen.add((event.delivery_id, state))
            name = self._platform_of(event.account_id)
            self._batch.needs.append((state, name, event.detail))
            self._coalesce.start()

    # --- recoveries ---------------------------------------------------------------------------
    def _schedule_settle(self) -> None:
        """Wake up when the earliest recovery still open is due to be reported as it stands."""
        if not self._recoveries:
            self._settle_timer.stop()
            return
        due = min(r.deadline for r in self._recoveries.values())
        self._settle_timer.start(max(0, int((due - time.monotonic()) * 1000) + 1))

    def _settle_due(self) -> None:
        now = time.monotonic()
        for endpoint, recovery in list(self._recoveries.items()):
            if recovery.deadline <= now:
                del self._recoveries[endpoint]
                self._finish_recovery(recovery)
        self._schedule_settle()

    def _finish_recovery(self, recovery: _Recovery) -> None:
        if recovery.sent <= 0:
            return
        self.notify(
            self.tr("{platform} is back").format(platform=recovery.platform),
            self.tr(
                "%n post(s) went out on {platform} after it came back.", "", recovery.sent
            ).format(platform=recovery.platform),
        )

    # --- needs you / sent -----------------------------------------------------------------------
    def _flush_batch(self) -> None:
        batch, self._batch = self._batch, _Batch()
        if batch.needs:
            self._notify_needs(batch.needs)
        if batch.sent:
            total = sum(batch.sent.values())
            platforms = ", ".join(sorted(batch.sent))
            self.notify(
                self.tr("Sent"),
                self.tr("%n post(s) went out on {platforms}.", "", total).format(
                    platforms=platforms
                ),
            )

    def _notify_needs(self, needs: list[tuple[State, str, str]]) -> None:
        if len(needs) > 1:
            self.notify(
                self.tr("%n post(s) need you", "", len(needs)),
                self.tr("Open the outbox to see what happened and what you can do."),
            )
            return
        state, platform, detail = needs[0]
        if state is State.NEEDS_RECONNECT:
            title = self.tr("Reconnect your {platform} account").format(platform=platform)
            message = self.tr(
                "{platform} refused Staffetta's sign-in. Your posts for it wait until you "
                "reconnect the account."
            ).format(platform=platform)
        elif state is State.YOUR_TURN:
            title = self.tr("Your turn: post on {platform}").format(platform=platform)
            message = self.tr(
                "A post is ready for you to publish on {platform} yourself. Open the outbox and "
                "choose “Copy & open”."
            ).format(platform=platform)
        elif state is State.FAILED:
            title = self.tr("{platform} refused a post").format(platform=platform)
            message = detail or self.tr("Open the outbox to see why and to edit or retry it.")
        else:
            title = self.tr("Did your post go out on {platform}?").format(platform=platform)
            message = self.tr(
                "Staffetta could not tell whether it was published. Check {platform}, then tell "
                "Staffetta in the outbox."
            ).format(platform=platform)
        self.notify(title, message)

    # --- platforms (engine events name accounts; users know platforms) ------------------------
    def _forget_platforms(self) -> None:
        self._platforms = None

    def _platform_map(self, *, fresh: bool = False) -> tuple[dict[str, str], dict[str, str]]:
        """Read from the store once, not once per event: a flush sends hundreds of events."""
        if self._platforms is None or fresh:
            runtime = self._ctx.runtime
            endpoints = {}
            for account in runtime.store.accounts():
                channel = runtime.channels.get(account.channel)
                if channel is not None:
                    endpoints[account.id] = channel.endpoint(account)
            self._platforms = (endpoints, platform_names(runtime))
        return self._platforms

    def _endpoint(self, account_id: str) -> str | None:
        endpoints, _names = self._platform_map()
        if account_id not in endpoints:  # added by another process (the CLI) meanwhile
            endpoints, _names = self._platform_map(fresh=True)
        return endpoints.get(account_id)

    def _names(self, endpoint: str) -> dict[str, str]:
        names = self._platform_map()[1]
        return names if endpoint in names else self._platform_map(fresh=True)[1]

    def _platform_of(self, account_id: str) -> str:
        endpoint = self._endpoint(account_id)
        if endpoint is None:
            return account_id
        return self._names(endpoint).get(endpoint, endpoint)
