"""Two-step publishing for Instagram and Threads: a media container, then publishing it.

A post is a *container* created on the account (``POST /{user}/media`` or ``/{user}/threads``;
a carousel is one container per image with ``is_carousel_item=true`` and a parent listing them
as ``children``), which Meta prepares asynchronously (``status_code`` / ``status``:
``IN_PROGRESS``, ``FINISHED``, ``ERROR``, ``EXPIRED`` after 24 hours, ``PUBLISHED``), and which
``POST /{user}/media_publish`` (``threads_publish``) turns into a post, once.

That "once" is the idempotency Meta gives: every step is checkpointed before the next, and the
container id is durable *before* the publish request leaves (``step.publishing``). So after a
crash or a lost answer, the container's own status says what happened: ``PUBLISHED`` means it went
out (the post is then found among the account's recent ones for its id and link), anything else
means it did not, and the same container is published — never a second one.

The checkpoint of one part (a thread has several) lives under ``step``::

    {"children": [ids], "container": id, "created_at": t, "publishing": bool,
     "publish_started_at": t}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from staffetta.channels import meta_api as api
from staffetta.core.clock import Clock
from staffetta.core.errors import DeliveryError, PermanentError, RateLimited, TransientError
from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

# Meta advises patience: poll with growing pauses, ≈ 5 minutes in all, then let the engine retry.
STATUS_DELAYS = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 30.0, 60.0, 60.0, 60.0)
CONTAINER_LIFETIME = 23 * 3600.0  # Meta expires unpublished containers after 24 hours
FIND_SLACK = 120.0
LIMIT_WAIT = 1800.0  # the publishing limit is a moving 24-hour window: look again in a while


@dataclass(frozen=True, slots=True)
class Platform:
    """One API's names for the same steps."""

    label: str
    base: str  # graph base with version, e.g. https://graph.instagram.com/v25.0
    create: str  # "media" / "threads"
    publish: str  # "media_publish" / "threads_publish"
    status_fields: str
    status_key: str
    text_field: str  # "caption" / "text"
    lists: tuple[str, ...]  # where published posts are listed: ("media",) / ("threads", "replies")
    limit: str  # "content_publishing_limit" / "threads_publishing_limit"
    profile_url: str
    typed: bool  # Threads wants media_type IMAGE / TEXT; Instagram only names CAROUSEL


@dataclass(slots=True)
class Session:
    """Authenticated calls for one account of one platform."""

    http: httpx.AsyncClient
    platform: Platform
    user_id: str
    token: str
    clock: Clock

    def address(self, path: str) -> str:
        return f"{self.platform.base}{path}"

    async def get(self, path: str, what: str, **params: Any) -> dict[str, Any]:
        return await api.call_json(
            self.http,
            "GET",
            self.address(path),
            platform=self.platform.label,
            now=self.clock.now(),
            what=what,
            token=self.token,
            params=params,
        )

    async def post(self, path: str, what: str, data: dict[str, Any]) -> dict[str, Any]:
        return await api.call_json(
            self.http,
            "POST",
            self.address(path),
            platform=self.platform.label,
            now=self.clock.now(),
            what=what,
            token=self.token,
            data=data,
        )


@dataclass(frozen=True, slots=True)
class Part:
    """One post to create: its text, images (public addresses with alt text) and extras."""

    text: str
    image_urls: tuple[str, ...] = ()
    alt_texts: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)  # reply_to_id, link_attachment...


Save = Callable[[dict[str, Any]], Awaitable[None]]


async def check_limit(session: Session, *, reply: bool = False) -> None:
    """Wait (RateLimited) while the account's 24-hour publishing quota is used up."""
    fields = "quota_usage,config,reply_quota_usage,reply_config" if reply else "quota_usage,config"
    payload = await session.get(
        f"/{session.user_id}/{session.platform.limit}", "the publishing limit", fields=fields
    )
    data = payload.get("data")
    entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    prefix = "reply_" if reply else ""
    usage = entry.get(f"{prefix}quota_usage")
    config = entry.get(f"{prefix}config")
    total = config.get("quota_total") if isinstance(config, dict) else None
    if isinstance(usage, int) and isinstance(total, int) and total > 0 and usage >= total:
        raise RateLimited(
            f"{session.platform.label} allows {total} posts per 24 hours through its API and this "
            f"account has used them all; the post goes out when the window frees a place.",
            LIMIT_WAIT,
        )


async def publish_part(
    session: Session, part: Part, step: dict[str, Any], save: Save
) -> dict[str, str]:
    """Create (or resume) the part's container and publish it: ``{"id", "url"}`` of the post.

    ``save`` receives the updated ``step`` before every request that follows a change, so a
    crash at any point resumes with the same container.
    """
    now = session.clock.now()
    container = str(step.get("container") or "")
    if container and now - float(step.get("created_at") or now) > CONTAINER_LIFETIME:
        _reset(step)
        await save(step)
        container = ""
    if container and step.get("publishing"):
        status, _message = await container_status(session, container)
        if status == "PUBLISHED":
            return await find_published(session, part, step, container)
        if status in ("EXPIRED", "ERROR"):
            _reset(step)
            await save(step)
            container = ""
    if not container:
        container = await _create(session, part, step, save)
    await _wait_finished(session, container, step, save)
    step.update(publishing=True, publish_started_at=session.clock.now())
    await save(step)  # durable before the publish request leaves
    try:
        published = await session.post(
            f"/{session.user_id}/{session.platform.publish}",
            "the publish request",
            {"creation_id": container},
        )
    except PermanentError:
        # A container Meta already published refuses a second publish: look before failing.
        status, _message = await container_status(session, container)
        if status == "PUBLISHED":
            return await find_published(session, part, step, container)
        raise
    media_id = str(published.get("id") or "")
    if not media_id:
        raise TransientError(f"{session.platform.label} published the post without saying its id.")
    return {"id": media_id, "url": await permalink(session, media_id)}


async def _create(session: Session, part: Part, step: dict[str, Any], save: Save) -> str:
    children = [str(c) for c in step.get("children", []) if c]
    carousel = len(part.image_urls) > 1
    if carousel:
        for index in range(len(children), len(part.image_urls)):
            item = {"image_url": part.image_urls[index], "is_carousel_item": "true"}
            if session.platform.typed:
                item["media_type"] = "IMAGE"
            if part.alt_texts[index].strip():
                item["alt_text"] = part.alt_texts[index].strip()
            child = await session.post(
                f"/{session.user_id}/{session.platform.create}", f"image {index + 1}", item
            )
            children.append(_id(child, session.platform.label, f"image {index + 1}"))
            step["children"] = list(children)
            await save(step)
    data: dict[str, Any] = dict(part.extra)
    text_field = session.platform.text_field
    if part.text:
        data[text_field] = part.text
    if carousel:
        data.update(media_type="CAROUSEL", children=",".join(children))
    elif part.image_urls:
        data["image_url"] = part.image_urls[0]
        if session.platform.typed:
            data["media_type"] = "IMAGE"
        if part.alt_texts[0].strip():
            data["alt_text"] = part.alt_texts[0].strip()
    elif session.platform.typed:
        data["media_type"] = "TEXT"
    created = await session.post(f"/{session.user_id}/{session.platform.create}", "the post", data)
    container = _id(created, session.platform.label, "the post")
    step.update(container=container, created_at=session.clock.now(), publishing=False)
    await save(step)
    return container


def _id(payload: dict[str, Any], label: str, what: str) -> str:
    value = str(payload.get("id") or "")
    if not value:
        raise TransientError(f"{label}'s reply for {what} had no id.")
    return value


def _reset(step: dict[str, Any]) -> None:
    for key in ("children", "container", "created_at", "publishing", "publish_started_at"):
        step.pop(key, None)


async def container_status(session: Session, container: str) -> tuple[str, str]:
    payload = await session.get(
        f"/{container}", "the post's status", fields=session.platform.status_fields
    )
    raw = str(payload.get(session.platform.status_key) or "").upper()
    message = str(payload.get("error_message") or payload.get("status") or "")
    # Instagram's status_code is one word; its "status" adds a sentence after it.
    return raw.split(":", 1)[0].split(" ", 1)[0], message


async def _wait_finished(
    session: Session, container: str, step: dict[str, Any], save: Save
) -> None:
    label = session.platform.label
    for delay in (0.0, *STATUS_DELAYS):
        if delay:
            await session.clock.sleep(delay)
        status, message = await container_status(session, container)
        if status in ("FINISHED", "PUBLISHED"):
            return
        if status == "ERROR":
            _reset(step)
            await save(step)  # a retry after the user's fix starts with a fresh container
            raise PermanentError(f"{label} could not prepare the post: {message or 'ERROR'}")
        if status == "EXPIRED":
            _reset(step)
            await save(step)
            raise TransientError(f"{label} let the prepared post expire; it is prepared again.", 1)
    raise TransientError(f"{label} is still preparing the post; it will be published shortly.")


async def permalink(session: Session, media_id: str) -> str:
    """The post's public link (the profile when Meta does not give one)."""
    try:
        payload = await session.get(f"/{media_id}", "the post's link", fields="permalink")
    except DeliveryError:
        return session.platform.profile_url
    link = payload.get("permalink")
    return link if isinstance(link, str) and link else session.platform.profile_url


async def find_published(
    session: Session, part: Part, step: dict[str, Any], container: str
) -> dict[str, str]:
    """The post a PUBLISHED container became: same text, published since the attempt began.

    Meta said it went out, so it did; when it cannot be found among the recent posts, the
    container id stands in for its id and the profile for its link.
    """
    since = float(step.get("publish_started_at") or 0.0) - FIND_SLACK
    wanted = part.text.strip()
    text_field = session.platform.text_field
    for listing in session.platform.lists:
        payload = await session.get(
            f"/{session.user_id}/{listing}",
            "the recent posts",
            fields=f"id,{text_field},timestamp,permalink",
            limit="25",
        )
        data = payload.get("data")
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict):
                continue
            created = api.timestamp(item.get("timestamp"))
            if created is not None and created < since:
                continue
            if str(item.get(text_field) or "").strip() == wanted:
                link = item.get("permalink")
                return {
                    "id": str(item.get("id") or container),
                    "url": link if isinstance(link, str) and link else session.platform.profile_url,
                }
    return {"id": container, "url": session.platform.profile_url}


async def settled_status(session: Session, step: dict[str, Any]) -> str:
    """For reconcile: ``"published"`` when the part's container went out, ``"not_sent"`` when
    it certainly did not (publishing it, or a new one, is safe)."""
    container = str(step.get("container") or "")
    if not container or not step.get("publishing"):
        return "not_sent"
    status, _message = await container_status(session, container)
    return "published" if status == "PUBLISHED" else "not_sent"
