"""Posting to X as one post or a thread of replies, and finding a post again.

A thread is the parts of the account's text (``core.thread``), each a reply
(``reply.in_reply_to_tweet_id``) to the one before; the images go on the first. After each part
the checkpoint records it (``{"parts": [{"id", "url"}, …], "part_started_at"}``) before the next
one starts, so a resumed delivery never posts a part twice.

X has no idempotency key, but it refuses a text identical to a recent post of the account
(403 "duplicate content"). Both that refusal and an attempt whose answer was lost are settled the
same way: the account's recent posts (``GET /2/users/:id/tweets``) are searched for the part —
same text once X's link shortening is undone, replying to the same post. Found: it went out.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import regex

from staffetta.channels import x_api as api
from staffetta.channels.x_connect import XSession, me_of
from staffetta.channels.x_media import upload_images
from staffetta.core.channel import DeliveryContext, Outcome, PublishResult, Reconciled
from staffetta.core.errors import PermanentError, UnknownOutcome

SLACK = 120.0  # look this far before the attempt (clock differences)
PAGE_SIZE = 100
MAX_PAGES = 5
_URL = regex.compile(r"\bhttps?://\S+|(?<![\w@#])(?:[\w-]+\.)+[a-z]{2,}(?:/\S*)?", regex.I)
_SPACE = regex.compile(r"\s+")


def sent_parts(checkpoint: dict[str, Any]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    raw = checkpoint.get("parts")
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or not entry.get("id"):
            break
        found.append({"id": str(entry["id"]), "url": str(entry.get("url") or "")})
    return found


def comparable(text: str) -> str:
    """Text as it can be compared with what X returns: entities undone, every link one token
    (X returns t.co links), whitespace folded, NFC."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    return str(_SPACE.sub(" ", _URL.sub("<link>", text))).strip()


async def publish_parts(
    ctx: DeliveryContext, session: XSession, parts: Sequence[str], limits: api.RateLimits
) -> PublishResult:
    thread = len(parts) > 1
    done = sent_parts(ctx.checkpoint)[: len(parts)]
    username = str(ctx.account.settings.get("username") or "")
    for index in range(len(done), len(parts)):
        media_ids = await upload_images(ctx, session) if index == 0 else []
        reply_to = done[-1]["id"] if done else None
        body: dict[str, Any] = {"text": parts[index]}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        try:
            response = await session.call(
                "POST",
                "/2/tweets",
                json=body,
                limits=limits,
                limit_key=(ctx.account.id, "POST /2/tweets"),
            )
            post_id = str(api.data_of(response, "the new post").get("id") or "")
            if not post_id:
                raise UnknownOutcome("X accepted the post but its answer had no id.")
            entry = {"id": post_id, "url": api.post_url(session.ends.web, username, post_id)}
        except api.DuplicateContent as refusal:
            found = await find_post(ctx, session, parts[index], reply_to, since=None)
            if not isinstance(found, dict):
                # X says it is there, but it cannot be found: the user decides (see reconcile).
                await ctx.save_checkpoint({**ctx.checkpoint, "duplicate_refused": str(refusal)})
                raise UnknownOutcome(str(refusal)) from None
            entry = found
        done.append(entry)
        if not thread:
            return PublishResult(entry["id"], entry["url"])
        await ctx.save_checkpoint(
            {**ctx.checkpoint, "parts": list(done), "part_started_at": ctx.clock.now()}
        )
    return PublishResult(done[0]["id"], done[0]["url"])


async def reconcile_parts(
    ctx: DeliveryContext, session: XSession, parts: Sequence[str]
) -> Reconciled:
    """Settle the part that was in flight (the first one not checkpointed)."""
    done = sent_parts(ctx.checkpoint)[: len(parts)]
    if len(parts) > 1 and len(done) == len(parts):
        return Reconciled(Outcome.SENT, done[0]["id"], done[0]["url"], "Every part went out.")
    index = len(done)
    what = f"Part {index + 1} of {len(parts)}" if len(parts) > 1 else "The post"
    refused = str(ctx.checkpoint.get("duplicate_refused") or "")
    since = ctx.delivery.first_attempt_at
    if index > 0:
        since = _number(ctx.checkpoint.get("part_started_at"), since)
    # After a duplicate refusal the earlier copy may predate this delivery: search all recent.
    reply_to = done[-1]["id"] if done else None
    found = await find_post(ctx, session, parts[index], reply_to, since=None if refused else since)
    if isinstance(found, Reconciled):
        return found
    if found is None:
        if refused:
            return Reconciled(
                Outcome.UNKNOWN,
                evidence=f"X refused {what.lower()} as a duplicate of a recent post, but it is "
                "not among the account's recent posts. Check the profile, then say whether it "
                "went out.",
            )
        return Reconciled(
            Outcome.NOT_SENT,
            evidence=f"{what} is not among the account's posts since the attempt (and X refuses "
            "an identical repeat, so sending it again cannot double it).",
        )
    done.append(found)
    progress = {k: v for k, v in ctx.checkpoint.items() if k != "duplicate_refused"}
    if len(parts) == 1:
        return Reconciled(Outcome.SENT, found["id"], found["url"], "Found on the account.")
    await ctx.save_checkpoint({**progress, "parts": list(done), "part_started_at": ctx.clock.now()})
    if len(done) == len(parts):
        return Reconciled(Outcome.SENT, done[0]["id"], done[0]["url"], f"{what} was found.")
    return Reconciled(Outcome.NOT_SENT, evidence=f"{what} was found; the rest follows it.")


async def find_post(
    ctx: DeliveryContext,
    session: XSession,
    text: str,
    reply_to: str | None,
    *,
    since: float | None,
) -> dict[str, str] | Reconciled | None:
    """The account's recent post with ``text`` replying to ``reply_to`` (created after ``since``
    when given); None when there is none; Reconciled(UNKNOWN) when X will not let us look."""
    settings = ctx.account.settings
    user_id = str(settings.get("user_id") or "")
    if not user_id:
        token = await session.token()
        me = await me_of(ctx.http, session.ends.api, token, now=ctx.clock.now())
        user_id = str(me["id"])
    params: dict[str, Any] = {
        "max_results": PAGE_SIZE,
        "tweet.fields": "created_at,referenced_tweets",
    }
    if since is not None:
        params["start_time"] = _iso(since - SLACK)
    wanted = comparable(text)
    for _ in range(MAX_PAGES):
        try:
            response = await session.call("GET", f"/2/users/{user_id}/tweets", params=params)
        except PermanentError as exc:  # e.g. the app's plan cannot read posts
            return Reconciled(
                Outcome.UNKNOWN,
                evidence=f"X would not list the account's recent posts ({exc}); check the "
                "profile, then say whether it went out.",
            )
        payload = api.json_object(response, "the account's posts")
        for post in payload.get("data") or []:
            if isinstance(post, dict) and _same(post, wanted, reply_to):
                post_id = str(post.get("id") or "")
                username = str(settings.get("username") or "")
                return {"id": post_id, "url": api.post_url(session.ends.web, username, post_id)}
        meta = payload.get("meta")
        page = meta.get("next_token") if isinstance(meta, dict) else None
        if not page:
            return None
        params = {**params, "pagination_token": str(page)}
    return None


def _same(post: dict[str, Any], wanted: str, reply_to: str | None) -> bool:
    if comparable(str(post.get("text") or "")) != wanted:
        return False
    parent = None
    for ref in post.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            parent = str(ref.get("id"))
    return parent == reply_to


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: Any, default: float | None) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default
