"""Posting to Mastodon as one status or as a thread of replies, and finding a post again.

A thread is the parts of the account's text (``core.thread``) posted in order, each part a reply
(``in_reply_to_id``) to the one before; the images go on the first part. After each part the
delivery's checkpoint records it (``{"parts": [{"id", "url"}, …], "part_started_at": …}``) before
the next one starts, so a resumed delivery carries on after the last part that went out and never
posts one twice.

Each part has its own ``Idempotency-Key``: the delivery's key for the first part, ``key-<index>``
for the others. Mastodon remembers a key for an hour, so within an hour of a part's first attempt
an unknown outcome is settled by sending the part again; later, the account's own statuses are
searched for the part (same text, replying to the previous part).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from staffetta.channels import mastodon_api as api
from staffetta.channels.mastodon_connect import verify_credentials
from staffetta.channels.mastodon_media import upload_media
from staffetta.core.channel import DeliveryContext, Limits, Outcome, PublishResult, Reconciled
from staffetta.core.errors import AuthError, TransientError

IDEMPOTENCY_WINDOW = 55 * 60.0  # Mastodon keeps Idempotency-Key for 1 h; keep a safety margin
RECONCILE_SLACK = 60.0
RECONCILE_MAX_PAGES = 10
PAGE_SIZE = 40


def part_key(idempotency_key: str, index: int) -> str:
    """The ``Idempotency-Key`` of part ``index`` (0-based) of a delivery."""
    return idempotency_key if index == 0 else f"{idempotency_key}-{index}"


def sent_parts(checkpoint: dict[str, Any]) -> list[dict[str, str]]:
    """The thread parts a checkpoint records as posted, in order (unreadable entries end it)."""
    found: list[dict[str, str]] = []
    raw = checkpoint.get("parts")
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or not entry.get("id"):
            break
        found.append({"id": str(entry["id"]), "url": str(entry.get("url") or "")})
    return found


async def publish_parts(
    ctx: DeliveryContext, base: str, parts: Sequence[str], limits: Limits
) -> PublishResult:
    """Post ``parts`` (one status, or a thread), resuming after those already in the checkpoint.

    Returns the first part's id and URL. A failing part raises its error; the parts after it wait
    for the next attempt.
    """
    thread = len(parts) > 1
    done = sent_parts(ctx.checkpoint)[: len(parts)] if thread else []
    for index in range(len(done), len(parts)):
        # The images belong to the first part; once it is out they are attached to it.
        media_ids = await upload_media(ctx, base, limits) if index == 0 else []
        status = await _create_status(
            ctx,
            base,
            parts[index],
            media_ids=media_ids,
            reply_to=done[-1]["id"] if done else None,
            key=part_key(ctx.delivery.idempotency_key, index),
        )
        if not thread:
            return PublishResult(status["id"], status["url"])
        done.append(status)
        # Durable before the next part starts; the time is when that part is first tried.
        await ctx.save_checkpoint({"parts": list(done), "part_started_at": ctx.clock.now()})
    return PublishResult(done[0]["id"], done[0]["url"])


async def _create_status(
    ctx: DeliveryContext,
    base: str,
    text: str,
    *,
    media_ids: list[str],
    reply_to: str | None,
    key: str,
) -> dict[str, str]:
    body: dict[str, Any] = {
        "status": text,
        "visibility": str(ctx.account.settings.get("visibility") or "public"),
    }
    if media_ids:
        body["media_ids"] = media_ids
    if reply_to:
        body["in_reply_to_id"] = reply_to
    if ctx.post.content_warning:
        body["spoiler_text"] = ctx.post.content_warning
    language = ctx.account.settings.get("language")
    if language:
        body["language"] = str(language)
    response = await api.request(
        ctx.http,
        "POST",
        f"{base}/api/v1/statuses",
        now=ctx.clock.now(),
        token=ctx.secret,
        json=body,
        headers={"Idempotency-Key": key},
    )
    status = api.json_object(response, "the new post")
    if not status.get("id"):
        raise TransientError("Mastodon accepted the post but its reply had no id.")
    return {"id": str(status["id"]), "url": str(status.get("url") or status.get("uri") or "")}


async def reconcile_parts(ctx: DeliveryContext, base: str, parts: Sequence[str]) -> Reconciled:
    """Settle an unknown outcome of the part that was in flight (the first one not checkpointed).

    For a thread, a part found on the account is checkpointed and the verdict is NOT_SENT for the
    rest (the engine then resumes after it), or SENT when it was the last part.
    """
    thread = len(parts) > 1
    done = sent_parts(ctx.checkpoint)[: len(parts)] if thread else []
    if thread and len(done) == len(parts):
        return Reconciled(
            Outcome.SENT, done[0]["id"], done[0]["url"], "Every part of the thread went out."
        )
    index = len(done)
    what = f"Part {index + 1} of {len(parts)}" if thread else "The post"
    now = ctx.clock.now()
    started = ctx.delivery.first_attempt_at
    if index > 0:
        started = _number(ctx.checkpoint.get("part_started_at"), started)
    if started is None or now - started < IDEMPOTENCY_WINDOW:
        return Reconciled(
            Outcome.RETRY_SAFE,
            evidence="Mastodon remembers the Idempotency-Key for an hour: resending returns "
            f"the post if it was already created. ({what} was in flight.)",
        )
    found = await _find_status(
        ctx, base, parts[index], reply_to=done[-1]["id"] if done else None, since=started
    )
    if isinstance(found, Reconciled):
        return found
    if found is None:
        return Reconciled(
            Outcome.NOT_SENT,
            evidence=f"{what} is not on the account since the first attempt to send it.",
        )
    if not thread:
        return Reconciled(
            Outcome.SENT, found["id"], found["url"], "Found on the account's timeline."
        )
    done.append(found)
    if len(done) == len(parts):
        await ctx.save_checkpoint({"parts": list(done), "part_started_at": now})
        return Reconciled(
            Outcome.SENT, done[0]["id"], done[0]["url"], f"{what} was found on the account."
        )
    await ctx.save_checkpoint({"parts": list(done), "part_started_at": now})
    return Reconciled(
        Outcome.NOT_SENT,
        evidence=f"{what} was found on the account; the rest of the thread follows it.",
    )


async def _find_status(
    ctx: DeliveryContext, base: str, text: str, *, reply_to: str | None, since: float
) -> dict[str, str] | Reconciled | None:
    """The account's status with ``text`` replying to ``reply_to``, created after ``since``.

    None when there is none; a Reconciled(UNKNOWN) when the search gave up before that time.
    """
    if not ctx.secret:
        raise AuthError("This Mastodon account has no access token — reconnect it.")
    now = ctx.clock.now()
    account_id = str(ctx.account.settings.get("account_id") or "")
    if not account_id:
        me = await verify_credentials(ctx.http, base, ctx.secret, now=now)
        account_id = str(me["id"])
    wanted_text = api.comparable_text(text)
    wanted_cw = api.comparable_text(ctx.post.content_warning)
    oldest = since - RECONCILE_SLACK
    params: dict[str, str | int] = {"limit": PAGE_SIZE, "exclude_reblogs": "true"}
    for _ in range(RECONCILE_MAX_PAGES):
        response = await api.request(
            ctx.http,
            "GET",
            f"{base}/api/v1/accounts/{account_id}/statuses",
            now=now,
            token=ctx.secret,
            params=params,
        )
        page = response.json()
        if not isinstance(page, list) or not page:
            return None
        reached_older = False
        for status in page:
            if not isinstance(status, dict):
                continue
            created = _timestamp(status.get("created_at"))
            if created is not None and created < oldest:
                reached_older = True
                continue
            if _same_post(status, wanted_text, wanted_cw, reply_to):
                return {
                    "id": str(status.get("id", "")),
                    "url": str(status.get("url") or status.get("uri") or ""),
                }
        if reached_older:
            return None
        params = {**params, "max_id": str(page[-1].get("id", ""))}
    return Reconciled(
        Outcome.UNKNOWN,
        evidence=f"Looked through {RECONCILE_MAX_PAGES * PAGE_SIZE} recent posts without "
        "reaching the time of the attempt; check the account's profile.",
    )


def _same_post(
    status: dict[str, Any], wanted_text: str, wanted_cw: str, reply_to: str | None
) -> bool:
    if api.comparable_text(str(status.get("spoiler_text") or "")) != wanted_cw:
        return False
    parent = status.get("in_reply_to_id")
    if (str(parent) if parent else None) != reply_to:
        return False
    source = status.get("text")
    if isinstance(source, str) and api.comparable_text(source) == wanted_text:
        return True
    content = status.get("content")
    return (
        isinstance(content, str) and api.comparable_text(api.html_to_text(content)) == wanted_text
    )


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _number(value: Any, default: float | None) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default
