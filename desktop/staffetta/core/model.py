"""The domain: posts, accounts and deliveries, as plain immutable values.

Nothing here touches the disk or the network; the store persists these values and the engine moves
deliveries between states.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Image:
    """An image attached to a post.

    ``path`` is where the bytes are: the user's file while composing, the content-addressed copy in
    the data folder once queued (so deleting the original never breaks a queued post).
    """

    path: str
    alt: str = ""
    sha256: str = ""
    mime: str = ""


@dataclass(frozen=True, slots=True)
class Post:
    """One post as the user wrote it, before any channel adapts it."""

    body: str
    title: str = ""
    images: tuple[Image, ...] = ()
    link: str = ""
    tags: tuple[str, ...] = ()
    # account id -> the text that account gets instead of ``body``
    overrides: dict[str, str] = field(default_factory=dict)
    # content warning / spoiler text where a channel supports one
    content_warning: str = ""
    # epoch seconds; None = as soon as possible
    scheduled_at: float | None = None
    # when a channel splits the text into a thread, end each part with "1/n"
    thread_numbering: bool = True

    def text_for(self, account_id: str) -> str:
        """The text a given account publishes: its override if the user wrote one."""
        return self.overrides.get(account_id, self.body)


class ChannelGroup(enum.StrEnum):
    OWNED = "owned"
    SOCIAL = "social"


def needs_owned_channel(groups: Iterable[ChannelGroup]) -> bool:
    """The owned-first rule: a post bound only for rented (social) channels deserves a nudge.

    On a social platform a creator is a tenant; a site or a newsletter keeps them reachable when a
    platform goes down. No selection at all is not nudged (there is nothing to publish yet).
    """
    chosen = set(groups)
    return bool(chosen) and ChannelGroup.OWNED not in chosen


@dataclass(frozen=True, slots=True)
class Account:
    """A connected account. ``settings`` are non-secret values only; secrets live in the keyring."""

    id: str
    channel: str
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    paused_reason: str = ""  # non-empty when the account needs the user (reconnect)


class State(enum.StrEnum):
    """Where one (post, account) delivery stands."""

    QUEUED = "queued"  # due now, nothing tried yet
    SCHEDULED = "scheduled"  # due at a later time the user chose
    SENDING = "sending"  # an attempt is in flight (leased by one engine)
    WAITING = "waiting"  # a transient failure; retried at next_attempt_at
    DOWN = "down"  # the platform's circuit is open; released when its probe succeeds
    NEEDS_RECONNECT = "needs_reconnect"  # the account's credentials were refused
    RECONCILING = "reconciling"  # the last attempt's outcome is unknown; asking the platform
    SENT = "sent"
    FAILED = "failed"  # the platform refused the content: permanent, with its message
    UNCONFIRMED = "unconfirmed"  # the platform gives no way to know: the user decides
    CANCELLED = "cancelled"
    YOUR_TURN = "your_turn"  # assisted: the user posts it by hand, then says posted or skip

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def needs_user(self) -> bool:
        return self in (State.NEEDS_RECONNECT, State.FAILED, State.UNCONFIRMED, State.YOUR_TURN)


_FINAL = frozenset({State.SENT, State.FAILED, State.UNCONFIRMED, State.CANCELLED})

# States in which a delivery holds its place in its account's queue: a later post to the same
# account does not overtake it. Final states and a paused account's deliveries do not block.
# YOUR_TURN blocks too (an assisted copy keeps its place until the user has posted it), but the
# engine never sends it: see SENDABLE_STATES.
BLOCKING_STATES = frozenset(
    {
        State.QUEUED,
        State.SCHEDULED,
        State.SENDING,
        State.WAITING,
        State.DOWN,
        State.RECONCILING,
        State.YOUR_TURN,
    }
)
# The blocking states the engine may start an attempt from.
SENDABLE_STATES = BLOCKING_STATES - {State.YOUR_TURN}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One copy of a post bound for one account, as the store knows it."""

    id: int
    post_id: int
    account_id: str
    state: State
    idempotency_key: str
    not_before: float  # the earliest time it may go out (enqueue time, or the schedule)
    next_attempt_at: float
    attempts: int = 0
    first_attempt_at: float | None = None
    last_attempt_at: float | None = None
    remote_id: str = ""
    remote_url: str = ""
    last_error: str = ""
    checkpoint: dict[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0
