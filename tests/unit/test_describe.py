"""What a delivery's state means to the user and what they may do: rules the views share."""

from __future__ import annotations

import pytest

from staffetta.channels.registry import load_channels
from staffetta.core.describe import (
    Action,
    Level,
    Phase,
    actions_for,
    countdown,
    delivery_status,
    edit_cancels_first,
    endpoint_detail,
    platforms_in_use,
)
from staffetta.core.model import Account, State
from staffetta.core.store import EndpointHealth

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (0.2, "0:01"), (59.5, "1:00"), (102, "1:42"), (725, "12:05"), (3723, "1:02:03")],
)
def test_countdown(seconds: float, text: str) -> None:
    assert countdown(seconds) == text


def test_waiting_counts_down_then_reads_retrying() -> None:
    status = delivery_status(
        State.WAITING, now=NOW, next_attempt_at=NOW + 102, last_error="HTTP 503"
    )
    assert (status.phase, status.seconds_left(NOW), status.reason) == (
        Phase.WAITING,
        102,
        "HTTP 503",
    )
    due = delivery_status(State.WAITING, now=NOW + 103, next_attempt_at=NOW + 102)
    assert due.phase is Phase.RETRYING


def test_down_says_since_when_while_the_platform_is_down() -> None:
    health = EndpointHealth("m", down_since=NOW - 60, next_probe_at=NOW + 90, last_error="refused")
    status = delivery_status(State.DOWN, now=NOW, next_attempt_at=NOW, endpoint=health)
    assert (status.phase, status.since, status.at, status.reason) == (
        Phase.DOWN,
        NOW - 60,
        NOW + 90,
        "refused",
    )
    # A waiting copy on a platform that went down meanwhile is down too.
    waiting = delivery_status(State.WAITING, now=NOW, next_attempt_at=NOW + 5, endpoint=health)
    assert waiting.phase is Phase.DOWN
    # Held as down, but the platform is already back: no "since".
    released = delivery_status(
        State.DOWN, now=NOW, next_attempt_at=NOW, endpoint=EndpointHealth("m")
    )
    assert (released.phase, released.since) == (Phase.DOWN, None)


def test_a_copy_queued_for_a_paused_account_needs_the_reconnect_too() -> None:
    status = delivery_status(
        State.QUEUED, now=NOW, next_attempt_at=NOW, paused_reason="token revoked"
    )
    assert (status.phase, status.reason) == (Phase.NEEDS_RECONNECT, "token revoked")
    # A copy that already went out stays sent.
    sent = delivery_status(
        State.SENT, now=NOW, next_attempt_at=NOW, remote_url="https://x/1", paused_reason="x"
    )
    assert (sent.phase, sent.url) == (Phase.SENT, "https://x/1")


@pytest.mark.parametrize(
    ("state", "actions"),
    [
        (State.QUEUED, (Action.EDIT, Action.CANCEL)),
        (State.SCHEDULED, (Action.RETRY_NOW, Action.EDIT, Action.CANCEL)),
        (State.SENDING, ()),
        (State.WAITING, (Action.RETRY_NOW, Action.EDIT, Action.CANCEL)),
        (State.DOWN, (Action.RETRY_NOW, Action.EDIT, Action.CANCEL)),
        (State.RECONCILING, (Action.CANCEL,)),
        (State.NEEDS_RECONNECT, (Action.EDIT, Action.CANCEL)),
        (State.SENT, (Action.OPEN,)),
        (State.FAILED, (Action.RETRY_NOW, Action.EDIT, Action.CANCEL)),
        (State.UNCONFIRMED, (Action.WENT_OUT, Action.SEND_AGAIN, Action.CANCEL)),
        (State.CANCELLED, (Action.EDIT,)),
        (State.YOUR_TURN, (Action.COPY_AND_OPEN, Action.POSTED, Action.SKIP, Action.EDIT)),
    ],
)
def test_actions_follow_what_the_store_allows(state: State, actions: tuple[Action, ...]) -> None:
    assert actions_for(state, "https://x/1" if state is State.SENT else "") == actions


def test_editing_stops_a_copy_that_could_still_go_out() -> None:
    assert edit_cancels_first(State.WAITING)
    assert edit_cancels_first(State.FAILED)  # no longer nags once its edit is queued
    assert not edit_cancels_first(State.CANCELLED)
    assert actions_for(State.SENT, "") == ()  # nothing to open without a link


def test_platforms_in_use_group_accounts_by_endpoint() -> None:
    channels = load_channels()
    accounts = [
        Account("site-1", "static_site", "Blog", {"folder": "/srv/site/content/posts"}),
        Account("m-1", "mastodon", "Me", {"instance_url": "https://mastodon.social"}),
        Account("m-2", "mastodon", "Work", {"instance_url": "https://mastodon.social"}),
        Account("m-3", "mastodon", "Art", {"instance_url": "https://fosstodon.org"}, "revoked"),
    ]
    health = [
        EndpointHealth("https://mastodon.social", down_since=NOW, next_probe_at=NOW + 120),
        EndpointHealth("https://fosstodon.org", failures=1, last_error="timeout"),
    ]
    statuses = platforms_in_use(accounts, channels, health, {"m-1": 2, "m-2": 1, "site-1": 0})
    assert [(s.label, s.waiting, s.level) for s in statuses] == [
        ("Static site folder", 0, Level.OK),
        ("Mastodon (mastodon.social)", 3, Level.DOWN),
        ("Mastodon (fosstodon.org)", 0, Level.NEEDS_YOU),
    ]
    assert statuses[1].next_check_at == NOW + 120
    assert statuses[2].paused == ("Art",)


def test_endpoint_detail() -> None:
    assert endpoint_detail("https://mastodon.social") == "mastodon.social"
    assert endpoint_detail("static_site:/srv/blog/content") == "content"
    assert endpoint_detail("bluesky") == "bluesky"
