"""Threads (Meta) through the Threads API, with the user's own Meta app.

A post is text (500 characters each, emoji counted by their UTF-8 bytes:
:mod:`staffetta.channels.meta_text`; at most 5 links), optionally one picture or a carousel
(pictures downloaded by Threads from a public address, with alt text:
:mod:`staffetta.channels.meta_images`), and ``post.link`` as the link preview of a text-only
post. Publishing is a container, then ``threads_publish``
(:mod:`staffetta.channels.meta_containers`), after a look at the 24-hour publishing limit (250
posts, replies counted apart).

A text with ``---`` lines is a thread (:mod:`staffetta.core.thread`): each part is its own post,
a reply (``reply_to_id``) to the one before, the pictures on the first. Each published part is
checkpointed (``parts: [{"id", "url"}]``) before the next one is prepared, so a resumed delivery
never posts a part twice; the part in progress keeps its container in ``step``.

Setting up the app: a Meta app with the "Access the Threads API" use case; its *Threads* app id
and secret (not the main app's); the permissions ``threads_basic`` and
``threads_content_publish``; the redirect address registered under the use case's settings; the
Threads account added as a tester while the app is in development.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import meta_api as api
from staffetta.channels import meta_containers as containers
from staffetta.channels import meta_images as images
from staffetta.channels import meta_text as counting
from staffetta.channels.meta_auth import THREADS, sign_in
from staffetta.channels.meta_common import (
    API_URL_FIELD,
    CREATE_APP_URL,
    IMAGE_HOST_FIELDS,
    MetaChannel,
    Progress,
    app_fields,
)
from staffetta.core.channel import (
    Authorization,
    DeliveryContext,
    Field,
    Fix,
    Limits,
    Outcome,
    Preview,
    PreviewPart,
    Problem,
    PublishResult,
    Reconciled,
)
from staffetta.core.errors import (
    DeliveryError,
    InputError,
    PermanentError,
    TransientError,
)
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Account, Post
from staffetta.core.oauth import OAuthError
from staffetta.core.text import entities
from staffetta.core.thread import thread_parts

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

RULES = images.ImageRules(
    platform="Threads",
    formats=("JPEG", "PNG"),
    max_bytes=8 * 1024 * 1024,
    max_images=20,
    max_alt=1000,
)


class ThreadsChannel(MetaChannel):
    name: ClassVar[str] = "threads"
    label: ClassVar[str] = "Threads"
    description: ClassVar[str] = "Your Threads profile, through your own Meta app."
    product = THREADS
    graph_host = api.THREADS_GRAPH
    supports_threads: ClassVar[bool] = True
    fields: ClassVar[tuple[Field, ...]] = (
        *app_fields(
            f"Threads posts through your own Meta app. At {CREATE_APP_URL} create an app with "
            "the “Access the Threads API” use case; in its settings copy the Threads app id "
            "and Threads app secret, add the permissions threads_basic and "
            "threads_content_publish, register the sign-in address below as a redirect "
            "callback URL, and add your Threads account as a tester.",
            "Threads app id",
        ),
        *IMAGE_HOST_FIELDS,
        API_URL_FIELD,
    )

    # --- identity -----------------------------------------------------------------------------
    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or "")
        return handle if handle.startswith("@") else f"@{handle or account.name}"

    def _me_path(self) -> str:
        return f"/{api.THREADS_VERSION}/me"

    def _platform(self, account: Account) -> containers.Platform:
        username = self.handle(account).lstrip("@")
        return containers.Platform(
            label="Threads",
            base=self.graph(account, f"/{api.THREADS_VERSION}"),
            create="threads",
            publish="threads_publish",
            status_fields="status,error_message",
            status_key="status",
            text_field="text",
            lists=("threads", "replies"),
            limit="threads_publishing_limit",
            profile_url=f"https://www.threads.com/@{username}",
            typed=True,
        )

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=counting.THREADS_LIMIT,
            max_images=RULES.max_images,
            max_image_bytes=RULES.max_bytes,
            max_alt_chars=RULES.max_alt,
        )

    def fits(self, text: str, account: Account) -> bool:
        return counting.threads_length(text) <= counting.THREADS_LIMIT

    def parts(self, post: Post, account: Account) -> list[str]:
        """The posts this account publishes: one, or the parts of a thread (with "k/n")."""
        return thread_parts(
            post.text_for(account.id),
            lambda part: self.fits(part, account),
            numbering=post.thread_numbering,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        texts = self.parts(post, account)
        counts = [counting.threads_length(part) for part in texts]
        problems = _length_problems(counts)
        for number, part in enumerate(texts, start=1):
            # The link preview of a text-only post counts too when it is not in the text.
            preview_link = number == 1 and not post.images and post.link
            links = counting.threads_links(f"{part} {post.link}" if preview_link else part)
            if links > counting.THREADS_MAX_LINKS:
                where = f"Part {number}: " if len(texts) > 1 else ""
                problems.append(
                    Problem(
                        "too_many_links",
                        f"{where}{links} links — Threads takes at most "
                        f"{counting.THREADS_MAX_LINKS} in one post.",
                        blocking=True,
                        fix=Fix.CUSTOMISE,
                    )
                )
        if not any(part.strip() for part in texts) and not post.images:
            problems.append(Problem("empty", "Write something or add an image.", blocking=True))
        problems.extend(images.image_problems(post, account, RULES, self.inspect))
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=tuple(
                PreviewPart(part, count, entities(part))
                for part, count in zip(texts, counts, strict=True)
            ),
            limit=counting.THREADS_LIMIT,
            unit="characters",
            images=post.images,
            problems=tuple(problems),
        )

    # --- connecting ---------------------------------------------------------------------------
    async def authorize(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        open_browser: Callable[[str], Any] | None = None,
    ) -> Authorization:
        """Threads sign-in in the browser, then a 60-day token and the profile."""
        signed = await sign_in(
            http, THREADS, settings, clock=self._clock, open_browser=open_browser
        )
        try:
            me = await self._me(http, settings, signed.secret.user_token)
        except DeliveryError as exc:
            raise OAuthError(str(exc)) from None
        return Authorization(
            signed.secret.dump(),
            {
                "app_id": str(settings.get("app_id") or "").strip(),
                "redirect_uri": str(settings.get("redirect_uri") or "").strip(),
                "handle": f"@{me['username']}",
                "user_id": me["id"],
            },
        )

    async def _me(
        self, http: httpx.AsyncClient, settings: dict[str, Any], token: str
    ) -> dict[str, str]:
        base = api.url(self.api_url(settings), self.graph_host, f"/{api.THREADS_VERSION}")
        me = await api.call_json(
            http,
            "GET",
            f"{base}/me",
            platform="Threads",
            now=self._clock.now(),
            what="the profile",
            token=token,
            params={"fields": "id,username"},
        )
        user_id, username = str(me.get("id") or ""), me.get("username")
        if not user_id or not isinstance(username, str):
            raise TransientError("Threads did not say which profile signed in.")
        return {"id": user_id, "username": username}

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        found = self.loaded(secret)
        me = await self._me(http, account.settings, found.user_token)
        return f"@{me['username']}"

    # --- delivering ---------------------------------------------------------------------------
    async def _session(self, ctx: DeliveryContext) -> containers.Session:
        secret = await self.secret_for(ctx)
        user_id = str(ctx.account.settings.get("user_id") or "")
        if not user_id:
            user_id = (await self._me(ctx.http, ctx.account.settings, secret.user_token))["id"]
        return containers.Session(
            ctx.http, self._platform(ctx.account), user_id, secret.user_token, ctx.clock
        )

    def _part(
        self, ctx: DeliveryContext, texts: list[str], index: int, urls: list[str], reply_to: str
    ) -> containers.Part:
        extra: dict[str, str] = {}
        if reply_to:
            extra["reply_to_id"] = reply_to
        first = index == 0
        if first and not ctx.post.images and ctx.post.link:
            extra["link_attachment"] = ctx.post.link
        return containers.Part(
            text=texts[index],
            image_urls=tuple(urls) if first else (),
            alt_texts=tuple(image.alt for image in ctx.post.images) if first else (),
            extra=extra,
        )

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        texts = self.parts(ctx.post, ctx.account)
        if len(ctx.post.images) > RULES.max_images:
            raise PermanentError(
                f"Threads takes at most {RULES.max_images} pictures in one post; this one has "
                f"{len(ctx.post.images)}."
            )
        progress = Progress(ctx)
        done = _sent_parts(progress.data)[: len(texts)]
        if len(done) == len(texts):
            return PublishResult(done[0]["id"], done[0]["url"])
        session = await self._session(ctx)
        step = progress.step()
        urls: list[str] = images.saved_urls(progress.data)
        for index in range(len(done), len(texts)):
            if not step.get("container"):
                await containers.check_limit(session, reply=bool(done))
                if index == 0 and ctx.post.images:
                    try:
                        urls = await images.public_urls(ctx, progress, RULES, self.inspect)
                    except InputError as exc:
                        raise PermanentError(str(exc)) from None

            async def save(changed: dict[str, Any]) -> None:
                await progress.save(step=dict(changed))

            reply_to = done[-1]["id"] if done else ""
            part = self._part(ctx, texts, index, urls, reply_to)
            done.append(await containers.publish_part(session, part, step, save))
            step = {}
            # Durable before the next part is prepared: a resumed delivery starts after it.
            await progress.save(parts=list(done), step={})
        return PublishResult(done[0]["id"], done[0]["url"])

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        texts = self.parts(ctx.post, ctx.account)
        progress = Progress(ctx)
        done = _sent_parts(progress.data)[: len(texts)]
        if len(done) == len(texts):
            return Reconciled(Outcome.SENT, done[0]["id"], done[0]["url"], "Every part went out.")
        index = len(done)
        what = f"Part {index + 1} of {len(texts)}" if len(texts) > 1 else "The post"
        step = progress.step()
        if not step.get("container") or not step.get("publishing"):
            return Reconciled(Outcome.NOT_SENT, evidence=f"{what} was never sent to Threads.")
        session = await self._session(ctx)
        if await containers.settled_status(session, step) != "published":
            return Reconciled(
                Outcome.NOT_SENT,
                evidence=f"Threads says {what.lower()} was not published; it is published now, "
                "from the same container.",
            )
        reply_to = done[-1]["id"] if done else ""
        part = self._part(ctx, texts, index, images.saved_urls(progress.data), reply_to)
        done.append(await containers.find_published(session, part, step, str(step["container"])))
        await progress.save(parts=list(done), step={})
        if len(done) == len(texts):
            return Reconciled(
                Outcome.SENT, done[0]["id"], done[0]["url"], f"Threads says {what} went out."
            )
        return Reconciled(
            Outcome.NOT_SENT,
            evidence=f"{what} went out; the rest of the thread follows it.",
        )


def _sent_parts(checkpoint: dict[str, Any]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    raw = checkpoint.get("parts")
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or not entry.get("id"):
            break
        found.append({"id": str(entry["id"]), "url": str(entry.get("url") or "")})
    return found


def _length_problems(counts: list[int]) -> list[Problem]:
    limit = counting.THREADS_LIMIT
    if len(counts) == 1:
        if counts[0] <= limit:
            return []
        return [
            Problem(
                "too_long",
                f"{counts[0]} / {limit} characters — {counts[0] - limit} over",
                blocking=True,
                fix=Fix.SPLIT,
            ),
            Problem(
                "too_long_customise",
                "Or shorten the text for this account only.",
                blocking=False,
                fix=Fix.CUSTOMISE,
            ),
        ]
    return [
        Problem(
            "too_long",
            f"Part {number} of {len(counts)}: {count} / {limit} characters — {count - limit} over",
            blocking=True,
            fix=Fix.SPLIT,
        )
        for number, count in enumerate(counts, start=1)
        if count > limit
    ]
