"""Buttondown: a hosted newsletter, written in Markdown.

A post becomes one Buttondown e-mail: the title is the subject, the body is the post's Markdown
(Buttondown's own format) followed by its images — uploaded first with ``POST /v1/images`` and
referenced as ``![alt](url)`` — and the post's link. Tags and the delivery's key go in the
e-mail's ``metadata``.

Whether Buttondown e-mails it to the subscribers at once is the account's explicit ``status``
setting: ``draft`` (the default; the e-mail waits in Buttondown for the user to send) or
``about_to_send`` (sent at once — an e-mail cannot be unsent). The status is fixed in the
checkpoint at the first attempt, so a changed setting never alters a post already on its way.

Crash safety: each uploaded image is checkpointed (Buttondown also answers a byte-identical
upload with the existing image). The e-mail is created with ``X-Idempotency-Key`` = the
delivery's key, so a resend of the same request returns the first answer instead of a second
e-mail. Buttondown does not say how long it keeps keys; within :data:`IDEMPOTENCY_WINDOW` of the
first creation attempt an unknown outcome is settled by resending, later by looking for the
e-mail whose metadata carries the delivery's key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import buttondown_api as api
from staffetta.channels.email_render import (
    Figure,
    markdown_body,
    newsletter_problems,
    subject_of,
)
from staffetta.channels.owned_common import OwnedPreviewer
from staffetta.core.channel import (
    Channel,
    DeliveryContext,
    Field,
    Limits,
    Outcome,
    Preview,
    PublishResult,
    Reconciled,
)
from staffetta.core.errors import AuthError, InputError, PermanentError, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.media import prepare_image
from staffetta.core.model import Account, ChannelGroup, Post

if TYPE_CHECKING:
    import asyncio

    import httpx
else:
    httpx = lazy_module("httpx")
    asyncio = lazy_module("asyncio")

STATUSES = ("draft", "about_to_send")
DELIVERY_KEY = "staffetta_delivery"
# Buttondown documents no lifetime for idempotency keys; Stripe, whose design it follows, keeps
# them a day. An hour keeps a wide margin; after it the e-mail is looked up by its metadata.
IDEMPOTENCY_WINDOW = 3600.0
RECONCILE_MAX_PAGES = 20
MAX_IMAGES = 20
IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_SIDE = 2400
_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")  # what Buttondown accepts
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
# Lists that find our e-mail whatever became of it (Buttondown lists only sent ones by default).
_ALL_STATUSES = ("draft", "about_to_send", "scheduled", "in_flight", "sent", "errored")
_LEADING_RULE = re.compile(r"\A[ \t]*-{3,}[ \t]*(?=\n|\Z)")


class ButtondownChannel(Channel):
    name: ClassVar[str] = "buttondown"
    label: ClassVar[str] = "Buttondown"
    description: ClassVar[str] = (
        "Each post as a Buttondown newsletter: kept as a draft, or sent to your subscribers."
    )
    group: ClassVar[ChannelGroup] = ChannelGroup.OWNED
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "api_key",
            "API key",
            "From buttondown.com/keys. It needs e-mail access; to send e-mails, sending access "
            "too. Kept in the system keyring.",
            secret=True,
        ),
        Field(
            "status",
            "When a post arrives",
            "draft: it waits in Buttondown until you send it. about_to_send: Buttondown e-mails "
            "it to your subscribers at once — an e-mail cannot be unsent.",
            required=False,
            default="draft",
        ),
        Field(
            "api_url",
            "API address",
            "Leave empty for Buttondown itself.",
            required=False,
        ),
    )

    def __init__(self) -> None:
        self._previews = OwnedPreviewer()

    # --- identity -----------------------------------------------------------------------------
    def endpoint(self, account: Account) -> str:
        try:
            return f"buttondown:{_base(account)}"
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        return str(account.settings.get("handle") or account.name)

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=0,
            max_images=MAX_IMAGES,
            max_image_bytes=IMAGE_BYTES,
            max_image_pixels=IMAGE_SIDE * IMAGE_SIDE,
            uses_title=True,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        try:
            _base(account)
            _status(account)
        except InputError as exc:
            trouble = str(exc)
        else:
            trouble = ""
        return self._previews.preview(
            self.name,
            post,
            account,
            self.handle(account),
            max_images=MAX_IMAGES,
            problems=newsletter_problems(post, trouble),
        )

    # --- health and credentials ---------------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        try:
            url = _base(account) + "/ping"
        except InputError as exc:
            raise TransientError(str(exc)) from None
        try:
            response = await http.get(url)
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach Buttondown: {exc}") from None
        if response.status_code != 200:
            raise TransientError(f"Buttondown's ping answered HTTP {response.status_code}.")

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        if not secret:
            raise InputError("Paste your Buttondown API key (from buttondown.com/keys).")
        base = _base(account)
        _status(account)
        response = await api.request(
            http, "GET", f"{base}/accounts/me", api_key=secret, now=0.0, ok=(200,)
        )
        me = api.json_object(response, "your account")
        for key in ("username", "name", "email_address", "email"):
            if isinstance(me.get(key), str) and me[key]:
                return str(me[key])
        return account.name or self.label

    # --- delivering ---------------------------------------------------------------------------
    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        try:
            base = _base(ctx.account)
            wanted = _status(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        key = _key(ctx)
        if not subject_of(ctx.post):
            raise PermanentError("An e-mail needs a subject: give the post a title.")
        book = dict(ctx.checkpoint)
        status = book.get("status") if book.get("status") in STATUSES else wanted
        figures = await self._upload_images(ctx, base, key, book, str(status))
        body = _without_front_matter(
            markdown_body(ctx.post.text_for(ctx.account.id), figures, ctx.post.link)
        )
        metadata = {DELIVERY_KEY: ctx.delivery.idempotency_key}
        if ctx.post.tags:
            metadata["tags"] = ", ".join(ctx.post.tags)
        payload = {
            "subject": subject_of(ctx.post),
            "body": body,
            "status": status,
            "metadata": metadata,
        }
        if not isinstance(book.get("email_started_at"), int | float):
            book.update(status=status, email_started_at=ctx.clock.now())
            await ctx.save_checkpoint(dict(book))
        headers = {"X-Idempotency-Key": ctx.delivery.idempotency_key}
        if status == "about_to_send":
            # The API's own guard against sending by accident; the account's explicit
            # about_to_send setting is the user's confirmation.
            headers["X-Buttondown-Live-Dangerously"] = "true"
        response = await api.request(
            ctx.http,
            "POST",
            f"{base}/emails",
            api_key=key,
            now=ctx.clock.now(),
            json=payload,
            headers=headers,
        )
        email = api.json_object(response, "the new e-mail")
        if not email.get("id"):
            raise TransientError("Buttondown accepted the e-mail but its reply had no id.")
        return PublishResult(str(email["id"]), str(email.get("absolute_url") or ""))

    async def _upload_images(
        self, ctx: DeliveryContext, base: str, key: str, book: dict[str, Any], status: str
    ) -> list[Figure]:
        """Every image uploaded once, in order; each checkpointed as soon as it is."""
        done = [u for u in book.get("images") or [] if isinstance(u, dict) and u.get("url")]
        done = done[: len(ctx.post.images)]
        for number, image in enumerate(ctx.post.images, start=1):
            if number <= len(done):
                continue
            try:
                prepared = await asyncio.to_thread(
                    prepare_image,
                    Path(image.path),
                    max_bytes=IMAGE_BYTES,
                    max_pixels=IMAGE_SIDE * IMAGE_SIDE,
                    max_side=IMAGE_SIDE,
                    allowed=_FORMATS,
                )
            except InputError as exc:
                raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
            name = f"image-{number}.{_EXTENSIONS.get(prepared.mime, 'img')}"
            response = await api.request(
                ctx.http,
                "POST",
                f"{base}/images",
                api_key=key,
                now=ctx.clock.now(),
                files={"image": (name, prepared.data, prepared.mime)},
            )
            uploaded = api.json_object(response, f"image {number}")
            if not uploaded.get("image"):
                raise TransientError(f"Buttondown's reply to image {number} had no address.")
            done.append({"id": str(uploaded.get("id") or ""), "url": str(uploaded["image"])})
            book.update(images=list(done), status=status)
            await ctx.save_checkpoint(dict(book))
        return [
            Figure(str(entry["url"]), image.alt)
            for entry, image in zip(done, ctx.post.images, strict=True)
        ]

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        try:
            base = _base(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        started = ctx.checkpoint.get("email_started_at")
        if not isinstance(started, int | float):
            return Reconciled(
                Outcome.NOT_SENT, evidence="The e-mail had not been sent to Buttondown yet."
            )
        if ctx.clock.now() - started < IDEMPOTENCY_WINDOW:
            return Reconciled(
                Outcome.RETRY_SAFE,
                evidence="Buttondown answers a repeated request with the same idempotency key "
                "with its first answer, so sending again cannot make a second e-mail.",
            )
        return await self._look_up(ctx, base, _key(ctx))

    async def _look_up(self, ctx: DeliveryContext, base: str, key: str) -> Reconciled:
        url: str | None = f"{base}/emails"
        params: list[tuple[str, str]] | None = [("status", s) for s in _ALL_STATUSES]
        for _ in range(RECONCILE_MAX_PAGES):
            assert url is not None
            response = await api.request(
                ctx.http, "GET", url, api_key=key, now=ctx.clock.now(), ok=(200,), params=params
            )
            page = api.json_object(response, "the list of e-mails")
            for email in page.get("results") or []:
                metadata = email.get("metadata") if isinstance(email, dict) else None
                if isinstance(metadata, dict) and (
                    metadata.get(DELIVERY_KEY) == ctx.delivery.idempotency_key
                ):
                    return Reconciled(
                        Outcome.SENT,
                        remote_id=str(email.get("id") or ""),
                        url=str(email.get("absolute_url") or ""),
                        evidence="Found on Buttondown by the delivery's key in its metadata.",
                    )
            url = page.get("next") if isinstance(page.get("next"), str) else None
            params = None  # the next page's address carries them
            if not url:
                return Reconciled(
                    Outcome.NOT_SENT,
                    evidence="No e-mail on Buttondown carries this delivery's key.",
                )
        return Reconciled(
            Outcome.UNKNOWN,
            evidence=f"Looked through {RECONCILE_MAX_PAGES} pages of e-mails on Buttondown "
            "without finding this post or reaching the end; check your Buttondown archive.",
        )


def _base(account: Account) -> str:
    return api.api_base(str(account.settings.get("api_url") or ""))


def _status(account: Account) -> str:
    status = str(account.settings.get("status") or "draft").strip().lower()
    if status not in STATUSES:
        raise InputError(
            f"“{status}” is not something Staffetta can ask Buttondown for: choose draft (kept "
            "for you to send) or about_to_send (e-mailed to your subscribers at once)."
        )
    return status


def _key(ctx: DeliveryContext) -> str:
    if not ctx.secret:
        raise AuthError("This Buttondown account has no API key — reconnect it.")
    return ctx.secret


def _without_front_matter(body: str) -> str:
    """Buttondown reads a body opening with a ``---`` line as YAML front matter (and refuses
    it); the same horizontal rule written ``* * *`` renders alike and is left alone."""
    return _LEADING_RULE.sub("* * *", body, count=1)
