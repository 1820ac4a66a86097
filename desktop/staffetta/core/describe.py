"""What a delivery's state means to the person waiting for it, and what they can do about it.

Pure rules, Qt-free, shared by every view (the outbox list, its details, the health strip, the
tray): a post queued for an account that needs reconnecting needs reconnecting too; a waiting copy
on a platform that is down is "down since …"; a retry whose time has come is "retrying"; what a
user may do with a copy follows what the store allows. Views word these in their own language.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import NamedTuple
from urllib.parse import urlsplit

from staffetta.core.channel import Channel
from staffetta.core.model import Account, State
from staffetta.core.store import EndpointHealth


class Phase(enum.StrEnum):
    """What a chip says, one step finer than :class:`State` where the user sees a difference."""

    QUEUED = "queued"
    SCHEDULED = "scheduled"  # ``at`` = when it goes out
    SENDING = "sending"
    WAITING = "waiting"  # ``at`` = the next try; ``reason`` = why the last one failed
    RETRYING = "retrying"  # a retry is due now: the engine is about to try
    CHECKING = "checking"  # the last outcome is unknown: asking the platform before resending
    DOWN = "down"  # ``since`` = down since (None: held while the platform recovers)
    NEEDS_RECONNECT = "needs_reconnect"
    SENT = "sent"  # ``url`` = where to see it
    FAILED = "failed"  # ``reason`` = the platform's message
    UNCONFIRMED = "unconfirmed"  # ``reason`` = what is known; the user decides
    CANCELLED = "cancelled"
    YOUR_TURN = "your_turn"  # assisted: ``reason`` = what to do; the user posts it by hand

    @property
    def needs_user(self) -> bool:
        return self in (Phase.NEEDS_RECONNECT, Phase.FAILED, Phase.UNCONFIRMED, Phase.YOUR_TURN)

    @property
    def has_countdown(self) -> bool:
        """The chip's words change with time (call again every second)."""
        return self in (Phase.WAITING, Phase.RETRYING)


class Status(NamedTuple):
    phase: Phase
    at: float | None = None
    since: float | None = None
    reason: str = ""
    url: str = ""

    def seconds_left(self, now: float) -> float | None:
        return None if self.at is None else max(0.0, self.at - now)


_BLOCKED_BY_PAUSE = frozenset({State.QUEUED, State.SCHEDULED, State.WAITING, State.DOWN})


def delivery_status(
    state: State,
    *,
    now: float,
    next_attempt_at: float,
    last_error: str = "",
    remote_url: str = "",
    endpoint: EndpointHealth | None = None,
    paused_reason: str = "",
) -> Status:
    """The status of one delivery, given its account's pause and its platform's health."""
    if paused_reason and state in _BLOCKED_BY_PAUSE:
        # Queued after the account was paused: it waits for the reconnect like the others.
        return Status(Phase.NEEDS_RECONNECT, reason=paused_reason)
    down = endpoint is not None and endpoint.is_down
    if state is State.DOWN or (down and state is State.WAITING):
        since = endpoint.down_since if down and endpoint is not None else None
        next_check = endpoint.next_probe_at if down and endpoint is not None else None
        reason = last_error or (endpoint.last_error if endpoint is not None else "")
        return Status(Phase.DOWN, at=next_check, since=since, reason=reason)
    if state is State.WAITING:
        phase = Phase.WAITING if next_attempt_at > now else Phase.RETRYING
        return Status(phase, at=next_attempt_at, reason=last_error)
    if state is State.SCHEDULED:
        return Status(Phase.SCHEDULED, at=next_attempt_at)
    if state is State.RECONCILING:
        return Status(Phase.CHECKING, at=next_attempt_at, reason=last_error)
    if state is State.SENT:
        return Status(Phase.SENT, url=remote_url)
    return Status(_SIMPLE[state], reason=last_error)


_SIMPLE = {
    State.QUEUED: Phase.QUEUED,
    State.SENDING: Phase.SENDING,
    State.NEEDS_RECONNECT: Phase.NEEDS_RECONNECT,
    State.FAILED: Phase.FAILED,
    State.UNCONFIRMED: Phase.UNCONFIRMED,
    State.CANCELLED: Phase.CANCELLED,
    State.YOUR_TURN: Phase.YOUR_TURN,
}


def countdown(seconds: float) -> str:
    """``1:42``, ``12:05``, ``1:02:03``: whole seconds, rounded up so 0:00 means due."""
    total = max(0, math.ceil(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


# --- what the user may do -------------------------------------------------------------------------


class Action(enum.StrEnum):
    OPEN = "open"  # see the published post
    RETRY_NOW = "retry_now"
    CANCEL = "cancel"
    EDIT = "edit"  # edit the text and queue it again
    WENT_OUT = "went_out"  # unconfirmed: it did go out
    SEND_AGAIN = "send_again"  # unconfirmed: it did not, send it again
    COPY_AND_OPEN = "copy_and_open"  # your turn: text (and image) to the clipboard, open the app
    POSTED = "posted"  # your turn: the user posted it by hand
    SKIP = "skip"  # your turn: the user will not post it


_RETRYABLE = frozenset({State.WAITING, State.DOWN, State.FAILED, State.SCHEDULED})
# What ``Store.cancel`` accepts (a copy being sent right now can't be stopped).
_CANCELLABLE = frozenset(
    {
        State.QUEUED,
        State.SCHEDULED,
        State.WAITING,
        State.DOWN,
        State.RECONCILING,
        State.NEEDS_RECONNECT,
        State.FAILED,
        State.UNCONFIRMED,
        State.YOUR_TURN,
    }
)
# Editing makes a new copy; an unknown outcome (reconciling, unconfirmed) is settled first, so
# the edit can never sit beside a copy that already went out.
_EDITABLE = frozenset(
    {
        State.QUEUED,
        State.SCHEDULED,
        State.WAITING,
        State.DOWN,
        State.NEEDS_RECONNECT,
        State.FAILED,
        State.CANCELLED,
        State.YOUR_TURN,
    }
)


def actions_for(state: State, remote_url: str = "") -> tuple[Action, ...]:
    """The actions that make sense for a delivery in ``state``, in the order to offer them."""
    actions: list[Action] = []
    if state is State.SENT and remote_url:
        actions.append(Action.OPEN)
    if state is State.UNCONFIRMED:
        actions += [Action.WENT_OUT, Action.SEND_AGAIN]
    if state is State.YOUR_TURN:
        # Skipping is its cancel; editing stops it first, like any copy still to go out.
        return (Action.COPY_AND_OPEN, Action.POSTED, Action.SKIP, Action.EDIT)
    if state in _RETRYABLE:
        actions.append(Action.RETRY_NOW)
    if state in _EDITABLE:
        actions.append(Action.EDIT)
    if state in _CANCELLABLE:
        actions.append(Action.CANCEL)
    return tuple(actions)


def edit_cancels_first(state: State) -> bool:
    """Editing a copy that may still go out stops it first, so the edit never doubles it."""
    return state in _EDITABLE and state in _CANCELLABLE


# --- platform health ------------------------------------------------------------------------------


class Level(enum.StrEnum):
    OK = "ok"
    TROUBLE = "trouble"  # failures counted, not (yet) down
    DOWN = "down"
    NEEDS_YOU = "needs_you"  # an account on it needs reconnecting


class PlatformStatus(NamedTuple):
    """One platform endpoint in use: its health and how many copies wait for it."""

    endpoint: str
    channel: str  # the channel name of its first account (for its icon)
    label: str  # "Mastodon", or "Mastodon (mastodon.social)" when two servers are in use
    waiting: int = 0
    down_since: float | None = None
    next_check_at: float | None = None
    failures: int = 0
    last_error: str = ""
    paused: tuple[str, ...] = ()  # names of its accounts that need reconnecting

    @property
    def level(self) -> Level:
        if self.down_since is not None:
            return Level.DOWN
        if self.paused:
            return Level.NEEDS_YOU
        if self.failures:
            return Level.TROUBLE
        return Level.OK


def platforms_in_use(
    accounts: Iterable[Account],
    channels: Mapping[str, Channel],
    health: Iterable[EndpointHealth],
    pending_by_account: Mapping[str, int],
) -> list[PlatformStatus]:
    """One entry per endpoint that a connected account publishes to, in account order."""
    by_key = {h.key: h for h in health}
    groups: dict[str, list[Account]] = {}
    labels: dict[str, str] = {}
    for account in accounts:
        channel = channels.get(account.channel)
        if channel is None:
            continue
        key = channel.endpoint(account)
        groups.setdefault(key, []).append(account)
        labels[key] = channel.label
    repeated = {label for label in labels.values() if list(labels.values()).count(label) > 1}
    statuses = []
    for key, members in groups.items():
        label = labels[key]
        if label in repeated:
            label = f"{label} ({endpoint_detail(key)})"
        h = by_key.get(key, EndpointHealth(key))
        statuses.append(
            PlatformStatus(
                endpoint=key,
                channel=members[0].channel,
                label=label,
                waiting=sum(pending_by_account.get(a.id, 0) for a in members),
                down_since=h.down_since,
                next_check_at=h.next_probe_at if h.is_down else None,
                failures=h.failures,
                last_error=h.last_error,
                paused=tuple(a.name for a in members if a.paused_reason),
            )
        )
    return statuses


def endpoint_detail(key: str) -> str:
    """The part of an endpoint key that tells two of the same platform apart (host, folder)."""
    if "://" in key:
        return urlsplit(key).netloc or key
    _, _, rest = key.partition(":")
    return PurePath(rest).name or rest or key
