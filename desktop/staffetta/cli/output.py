"""How the CLI shows things: JSON shapes (stable, documented in the README) and plain text."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from staffetta.core.channel import Channel, Fix, Preview
from staffetta.core.events import DELIVERY, PLATFORM_DOWN, PLATFORM_UP, EngineEvent
from staffetta.core.model import Account, Delivery, Post, State
from staffetta.runtime import Runtime

_FINISHED = (State.SENT, State.CANCELLED)


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds}s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "channel": account.channel,
        "name": account.name,
        "handle": account.settings.get("handle", ""),
        "paused": account.paused_reason or None,
        "settings": account.settings,
    }


def account_line(account: Account, label: str) -> str:
    paused = f"  ⚠ needs reconnect: {account.paused_reason}" if account.paused_reason else ""
    handle = account.settings.get("handle", "")
    return f"{account.id:<16} {label:<20} {account.name} {handle}{paused}"


def delivery_json(runtime: Runtime, delivery: Delivery, excerpt: str = "") -> dict[str, Any]:
    now = runtime.clock.now()
    waiting = delivery.state in (State.WAITING, State.SCHEDULED, State.RECONCILING)
    return {
        "id": delivery.id,
        "post_id": delivery.post_id,
        "account": delivery.account_id,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at) if waiting else None,
        "next_attempt_in": round(max(0.0, delivery.next_attempt_at - now), 1) if waiting else None,
        "reason": delivery.last_error or None,
        "remote_id": delivery.remote_id or None,
        "url": delivery.remote_url or None,
        "excerpt": excerpt,
    }


def status_json(runtime: Runtime, *, include_finished: bool = False) -> dict[str, Any]:
    store, now = runtime.store, runtime.clock.now()
    states = None if include_finished else [s for s in State if s not in _FINISHED]
    deliveries = store.deliveries(states=states)
    excerpts: dict[int, str] = {}
    for delivery in deliveries:
        if delivery.post_id not in excerpts:
            post = store.post(delivery.post_id)
            excerpts[delivery.post_id] = _excerpt(post.title or post.body)
    accounts = {a.id: a for a in store.accounts()}
    waiting_by_endpoint: dict[str, int] = {}
    for delivery in deliveries:
        account = accounts.get(delivery.account_id)
        if account and not delivery.state.is_final and account.channel in runtime.channels:
            key = runtime.channels[account.channel].endpoint(account)
            waiting_by_endpoint[key] = waiting_by_endpoint.get(key, 0) + 1
    platforms = []
    for health in store.endpoints():
        platforms.append(
            {
                "endpoint": health.key,
                "state": "down" if health.is_down else "up",
                "down_since": iso(health.down_since),
                "next_check_in": round(max(0.0, (health.next_probe_at or now) - now), 1)
                if health.is_down
                else None,
                "consecutive_failures": health.failures,
                "last_error": health.last_error or None,
                "waiting": waiting_by_endpoint.get(health.key, 0),
            }
        )
    return {
        "generated_at": iso(now),
        "counts": {state.value: n for state, n in sorted(store.counts().items())},
        "accounts": [account_json(a) for a in accounts.values()],
        "platforms": platforms,
        "deliveries": [delivery_json(runtime, d, excerpts[d.post_id]) for d in deliveries],
    }


def status_text(report: dict[str, Any]) -> str:
    lines = []
    counts = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in report["counts"].items())
    lines.append(f"Outbox: {counts or 'empty'}")
    for platform in report["platforms"]:
        if platform["state"] == "down":
            lines.append(
                f"  ✖ {platform['endpoint']}: down since {platform['down_since']} · "
                f"{platform['waiting']} waiting · next check in "
                f"{duration(platform['next_check_in'] or 0)} · {platform['last_error']}"
            )
        else:
            lines.append(f"  ✔ {platform['endpoint']}: up")
    for account in report["accounts"]:
        if account["paused"]:
            lines.append(f"  ⚠ {account['id']} needs reconnecting: {account['paused']}")
    if report["deliveries"]:
        lines.append("")
        lines.append(f"{'ID':>5}  {'POST':<28} {'ACCOUNT':<16} {'STATE':<16} DETAIL")
    for d in report["deliveries"]:
        lines.append(
            f"{d['id']:>5}  {d['excerpt'][:28]:<28} {d['account'][:16]:<16} "
            f"{d['state'].replace('_', ' '):<16} {_detail(d)}"
        )
    return "\n".join(lines)


def _detail(d: dict[str, Any]) -> str:
    if d["state"] == "your_turn":
        return f"post it yourself: staffetta assisted {d['id']}"
    if d["state"] == "sent":
        return str(d["url"] or d["remote_id"] or "")
    parts = []
    if d["next_attempt_in"] is not None and d["state"] != "scheduled":
        parts.append(f"retry in {duration(d['next_attempt_in'])}")
    if d["state"] == "scheduled":
        parts.append(f"at {d['next_attempt_at']}")
    if d["reason"]:
        parts.append(str(d["reason"]))
    return " · ".join(parts)


def _excerpt(text: str) -> str:
    return " ".join(text.split())[:60]


@dataclass(frozen=True, slots=True)
class Split:
    """The thread the "split" fix would make: the text with its ``---`` lines, and its preview."""

    text: str
    preview: Preview


def suggested_split(
    channel: Channel, post: Post, account: Account, preview: Preview
) -> Split | None:
    """What the preview's "split" fix would make of this account's text; None if it offers none."""
    if not channel.supports_threads or not any(p.fix is Fix.SPLIT for p in preview.problems):
        return None
    text = channel.thread_text(post, account)
    split = replace(post, overrides={**post.overrides, account.id: text})
    return Split(text, channel.preview(split, account))


def preview_json(
    account: Account, preview: Preview, suggested: Split | None = None
) -> dict[str, Any]:
    """One account's preview; ``suggested``: the thread the "split" fix would make, if any."""
    found: dict[str, Any] = {
        "account": account.id,
        "channel": preview.channel,
        "handle": preview.handle,
        "count": preview.count,
        "limit": preview.limit,
        "unit": preview.unit,
        "thread": len(preview.parts) > 1,
        "parts": _parts_json(preview),
        "problems": [
            {
                "code": p.code,
                "message": p.message,
                "blocking": p.blocking,
                "fix": p.fix.value if p.fix else None,
            }
            for p in preview.problems
        ],
        "title": preview.title or None,
        "images": [{"path": i.path, "alt": i.alt} for i in preview.images],
    }
    if suggested is not None:
        found["suggested_split"] = {
            "text": suggested.text,
            "parts": _parts_json(suggested.preview),
        }
    return found


def _parts_json(preview: Preview) -> list[dict[str, Any]]:
    return [
        {
            "number": number,
            "text": part.text,
            "count": part.count,
            "fits": not preview.limit or part.count <= preview.limit,
            "entities": [
                {"start": s.start, "end": s.end, "kind": s.kind.value, "value": s.value}
                for s in part.spans
            ],
        }
        for number, part in enumerate(preview.parts, 1)
    ]


def preview_text(account: Account, preview: Preview, suggested: Split | None = None) -> str:
    """One account's preview as lines: the count (per part for a thread), problems, and the
    thread the "split" fix would make (``suggested``)."""
    limit = f" / {preview.limit}" if preview.limit else ""
    head = f"── {account.id} · {preview.channel} {preview.handle}: "
    if len(preview.parts) > 1:
        lines = [head + _thread_summary(preview)]
        lines += _part_lines(preview, "  ")
    else:
        lines = [head + f"{preview.count}{limit} {preview.unit}"]
    for problem in preview.problems:
        marker = "✖" if problem.blocking else "!"
        fix = f" [fix: {problem.fix.value}]" if problem.fix else ""
        lines.append(f"  {marker} {problem.message}{fix}")
    if suggested is not None:
        lines.append(f"  ↳ split: {_thread_summary(suggested.preview)}")
        lines += _part_lines(suggested.preview, "      ")
        lines.append(
            "    To post it so, put a line with only '---' at each split point "
            "(in the body, or in this account's text under 'overrides:')."
        )
    return "\n".join(lines)


def _thread_summary(preview: Preview) -> str:
    """``thread of 3 — 1/3 480 / 500, 2/3 312 / 500, 3/3 120 / 500 characters``."""
    total = len(preview.parts)
    limit = f" / {preview.limit}" if preview.limit else ""
    counts = ", ".join(
        f"{number}/{total} {part.count}{limit}" for number, part in enumerate(preview.parts, 1)
    )
    return f"thread of {total} — {counts} {preview.unit}"


def _part_lines(preview: Preview, indent: str) -> list[str]:
    total = len(preview.parts)
    lines = []
    for number, part in enumerate(preview.parts, 1):
        over = " ✖ over" if preview.limit and part.count > preview.limit else ""
        lines.append(f"{indent}{number}/{total}{over}: {_ends(part.text)}")
    return lines


def _ends(text: str) -> str:
    """How a part starts and ends, on one line: where the split points are."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 72 else f"{flat[:48].rstrip()} … {flat[-20:].lstrip()}"


class Progress:
    """Prints what the engine does while flushing: one line per outcome, or a live counter."""

    def __init__(self, runtime: Runtime, *, quiet: bool = False) -> None:
        self._runtime = runtime
        self._quiet = quiet
        self._tty = sys.stdout.isatty()
        self.sent = self.waiting = self.needs_you = 0

    def on_event(self, event: EngineEvent) -> None:
        if event.kind == PLATFORM_DOWN:
            self._line(f"✖ {event.endpoint} is down; its posts wait. ({event.detail})")
        elif event.kind == PLATFORM_UP and event.count:
            self._line(f"✔ {event.endpoint} is back: {event.count} waiting posts released.")
        elif event.kind == DELIVERY and event.state is not None:
            self._delivery(event)

    def _delivery(self, event: EngineEvent) -> None:
        state = event.state
        if state is State.SENT:
            self.sent += 1
            delivery = self._runtime.store.delivery(event.delivery_id)
            where = delivery.remote_url or delivery.remote_id
            self._line(f"sent      #{event.delivery_id} → {event.account_id} {where}", routine=True)
        elif state in (State.WAITING, State.DOWN, State.RECONCILING):
            self.waiting += 1
            label = state.value.replace("_", " ")
            self._line(
                f"{label:<9} #{event.delivery_id} → {event.account_id}: {event.detail}",
                routine=True,
            )
        elif state is State.YOUR_TURN:
            self.needs_you += 1
            self._line(
                f"your turn #{event.delivery_id} → {event.account_id}: post it yourself "
                f"(staffetta assisted {event.delivery_id})"
            )
        elif state is not None and state.needs_user:
            self.needs_you += 1
            label = state.value.replace("_", " ")
            self._line(f"{label:<9} #{event.delivery_id} → {event.account_id}: {event.detail}")

    def _line(self, text: str, *, routine: bool = False) -> None:
        if self._quiet or (routine and self._tty and self.sent > 50):
            if self._tty and not self._quiet:
                print(f"\r{self.sent} sent…", end="", flush=True)
            return
        print(text, flush=True)

    def finish(self) -> None:
        counts = self._runtime.store.counts()
        if self._tty and self.sent > 50 and not self._quiet:
            print()
        pending = sum(
            n
            for s, n in counts.items()
            if not s.is_final and not s.needs_user and s is not State.SCHEDULED
        )
        needs = sum(n for s, n in counts.items() if s.needs_user)
        scheduled = counts.get(State.SCHEDULED, 0)
        print(
            f"Done: {self.sent} sent this run · {pending} still waiting · "
            f"{scheduled} scheduled · {needs} need you."
        )
