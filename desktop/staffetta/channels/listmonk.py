"""Listmonk: a self-hosted newsletter server; each post becomes a campaign to chosen lists.

The campaign's subject is the title; its body is the post's Markdown (``content_type`` markdown,
the default) or the body already rendered to HTML (``html``), followed by the images — uploaded
through Listmonk's media API and referenced by the URL it gives them, with their alt text — and
the post's link. Post tags are the campaign's tags.

Listmonk creates every campaign as a draft. Whether Staffetta then starts it (status
``running``: Listmonk e-mails the lists at once) is the account's explicit ``status`` setting;
``draft`` (the default) leaves it for the user to start in Listmonk.

Crash safety, since Listmonk has no idempotency key: the campaign's name carries a marker derived
from the delivery's key (``… [staffetta-<hash>]``), checkpointed with the chosen status before
anything is sent, and the campaign id is checkpointed right after the draft is created. Uploaded
media are checkpointed one by one. An unknown outcome is settled by the id, or else by searching
campaigns for the marker (``GET /api/campaigns?query=``): a draft that exists but was not started
yet is started, never created a second time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from staffetta.channels import listmonk_api as api
from staffetta.channels.email_render import (
    Figure,
    html_body,
    markdown_body,
    newsletter_problems,
    subject_of,
    text_body,
)
from staffetta.channels.owned_common import OwnedPreviewer, normalise_site_url
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

STATUSES = ("draft", "running")
CONTENT_TYPES = ("markdown", "html")
MAX_IMAGES = 20
IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_SIDE = 2400
NAME_SUBJECT_CHARS = 150
SEARCH_PAGE = 50
_FORMATS = ("JPEG", "PNG", "GIF")
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}


class ListmonkChannel(Channel):
    name: ClassVar[str] = "listmonk"
    label: ClassVar[str] = "Listmonk"
    description: ClassVar[str] = (
        "Each post as a campaign on your own Listmonk server, to the lists you choose."
    )
    group: ClassVar[ChannelGroup] = ChannelGroup.OWNED
    fields: ClassVar[tuple[Field, ...]] = (
        Field("url", "Listmonk address", "Where your Listmonk runs, e.g. lists.example.org."),
        Field(
            "api_user",
            "API user",
            "An API user made in Listmonk under Admin → Users, allowed to manage campaigns "
            "and media.",
        ),
        Field(
            "token",
            "API token",
            "The token Listmonk showed when you made the API user. Kept in the system keyring.",
            secret=True,
        ),
        Field(
            "lists",
            "Lists",
            "The ids of the lists to send to, separated by commas (the Lists page shows them).",
        ),
        Field(
            "status",
            "When a post arrives",
            "draft: the campaign waits in Listmonk until you start it. running: Listmonk starts "
            "e-mailing your lists at once — an e-mail cannot be unsent.",
            required=False,
            default="draft",
        ),
        Field(
            "content_type",
            "Format",
            "markdown (Listmonk renders the post) or html (Staffetta renders it).",
            required=False,
            default="markdown",
        ),
        Field(
            "from_email",
            "From",
            "Optional, e.g. Jane <news@example.org>. Empty: Listmonk's own setting.",
            required=False,
        ),
    )

    def __init__(self) -> None:
        self._previews = OwnedPreviewer()

    # --- identity -----------------------------------------------------------------------------
    def endpoint(self, account: Account) -> str:
        try:
            return f"listmonk:{_base(account)}"
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or "")
        if handle:
            return handle
        try:
            return f"{_user(account)}@{urlsplit(_base(account)).netloc}"
        except InputError:
            return account.name

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
            _check(account)
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
            url = _base(account) + "/api/health"
        except InputError as exc:
            raise TransientError(str(exc)) from None
        try:
            response = await http.get(url)
        except httpx.TransportError as exc:
            raise TransientError(f"Could not reach Listmonk: {exc}") from None
        if response.status_code != 200:
            raise TransientError(f"Listmonk's health check answered HTTP {response.status_code}.")

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        """Check the token and that every list exists; the handle is ``user@server``, which
        stays the same when the lists change."""
        base, lists = _check(account)
        user = _user(account)
        if not secret:
            raise InputError("Paste the API user's token.")
        for list_id in lists:
            response = await api.request(
                http,
                "GET",
                f"{base}/api/lists/{list_id}",
                user=user,
                token=secret,
                now=0.0,
                ok=(200, 400, 404),
            )
            if response.status_code != 200:
                raise InputError(
                    f"Listmonk has no list with the id {list_id} "
                    f"({api.error_message(response)}). Check the ids on its Lists page."
                )
        return f"{user}@{urlsplit(base).netloc}"

    # --- delivering ---------------------------------------------------------------------------
    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        try:
            base, lists = _check(ctx.account)
            user, wanted = _user(ctx.account), _status(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        token = _token(ctx)
        if not subject_of(ctx.post):
            raise PermanentError("An e-mail needs a subject: give the post a title.")
        book = dict(ctx.checkpoint)
        if not isinstance(book.get("campaign_name"), str):
            book.update(
                campaign_name=campaign_name(ctx.post, ctx.delivery.idempotency_key), status=wanted
            )
            await ctx.save_checkpoint(dict(book))
        status = book.get("status") if book.get("status") in STATUSES else wanted
        figures = await self._upload_media(ctx, base, user, token, book)
        campaign_id = book.get("campaign_id")
        if isinstance(campaign_id, int):
            response = await api.request(
                ctx.http,
                "GET",
                f"{base}/api/campaigns/{campaign_id}",
                user=user,
                token=token,
                now=ctx.clock.now(),
                ok=(200, 404),
                params={"no_body": "true"},
            )
            if response.status_code == 404:
                del book["campaign_id"]
                await ctx.save_checkpoint(dict(book))
                raise PermanentError(
                    f"The draft campaign Staffetta made (id {campaign_id}) is no longer on "
                    "Listmonk. Retry to create it again, or cancel this post."
                )
            campaign = api.object_of(response, "the campaign")
        else:
            campaign = await self._create(
                ctx, base, user, token, lists, str(book["campaign_name"]), figures
            )
            campaign_id = int(campaign["id"])
            book["campaign_id"] = campaign_id
            await ctx.save_checkpoint(dict(book))  # from here on, a retry starts this draft
        if status == "running" and campaign.get("status") == "draft":
            await api.request(
                ctx.http,
                "PUT",
                f"{base}/api/campaigns/{campaign_id}/status",
                user=user,
                token=token,
                now=ctx.clock.now(),
                json={"status": "running"},
            )
        return PublishResult(str(campaign_id), f"{base}/admin/campaigns/{campaign_id}")

    async def _create(
        self,
        ctx: DeliveryContext,
        base: str,
        user: str,
        token: str,
        lists: list[int],
        name: str,
        figures: list[Figure],
    ) -> dict[str, Any]:
        text = ctx.post.text_for(ctx.account.id)
        content_type = _content_type(ctx.account)
        campaign: dict[str, Any] = {
            "name": name,
            "subject": subject_of(ctx.post),
            "lists": lists,
            "type": "regular",
            "messenger": "email",
            "content_type": content_type,
            "tags": list(ctx.post.tags),
        }
        if content_type == "html":
            campaign["body"] = html_body(text, figures, ctx.post.link)
            campaign["altbody"] = text_body(text, figures, ctx.post.link)
        else:
            campaign["body"] = markdown_body(text, figures, ctx.post.link)
        sender = str(ctx.account.settings.get("from_email") or "").strip()
        if sender:
            campaign["from_email"] = sender
        response = await api.request(
            ctx.http,
            "POST",
            f"{base}/api/campaigns",
            user=user,
            token=token,
            now=ctx.clock.now(),
            json=campaign,
        )
        created = api.object_of(response, "the new campaign")
        if not isinstance(created.get("id"), int):
            raise TransientError("Listmonk accepted the campaign but its reply had no id.")
        return created

    async def _upload_media(
        self, ctx: DeliveryContext, base: str, user: str, token: str, book: dict[str, Any]
    ) -> list[Figure]:
        """Every image uploaded once, in order; each checkpointed as soon as it is."""
        done = [m for m in book.get("media") or [] if isinstance(m, dict) and m.get("url")]
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
            suffix = hashlib.sha256(prepared.data).hexdigest()[:10]
            name = f"staffetta-{suffix}.{_EXTENSIONS.get(prepared.mime, 'img')}"
            response = await api.request(
                ctx.http,
                "POST",
                f"{base}/api/media",
                user=user,
                token=token,
                now=ctx.clock.now(),
                files={"file": (name, prepared.data, prepared.mime)},
            )
            media = api.object_of(response, f"image {number}")
            url = str(media.get("url") or media.get("uri") or "")
            if not url:
                raise TransientError(f"Listmonk's reply to image {number} had no address.")
            if url.startswith("/"):
                url = base + url  # older Listmonk versions answer with a path
            done.append({"id": media.get("id"), "url": url})
            book["media"] = list(done)
            await ctx.save_checkpoint(dict(book))
        return [
            Figure(str(entry["url"]), image.alt)
            for entry, image in zip(done, ctx.post.images, strict=True)
        ]

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        try:
            base, _lists = _check(ctx.account)
            user = _user(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        token = _token(ctx)
        book = dict(ctx.checkpoint)
        name = book.get("campaign_name")
        if not isinstance(name, str):
            return Reconciled(Outcome.NOT_SENT, evidence="No campaign was created yet.")
        campaign = await self._find(ctx, base, user, token, book, name)
        if campaign is None:
            return Reconciled(
                Outcome.NOT_SENT, evidence=f"Listmonk has no campaign named “{name}”."
            )
        if book.get("campaign_id") != campaign["id"]:
            book["campaign_id"] = campaign["id"]
            await ctx.save_checkpoint(book)
        if book.get("status") == "running" and campaign.get("status") == "draft":
            return Reconciled(
                Outcome.NOT_SENT,
                evidence=f"The campaign {campaign['id']} is on Listmonk as a draft: it is "
                "started now, not created again.",
            )
        return Reconciled(
            Outcome.SENT,
            remote_id=str(campaign["id"]),
            url=f"{base}/admin/campaigns/{campaign['id']}",
            evidence=f"The campaign is on Listmonk ({campaign.get('status')}).",
        )

    async def _find(
        self,
        ctx: DeliveryContext,
        base: str,
        user: str,
        token: str,
        book: dict[str, Any],
        name: str,
    ) -> dict[str, Any] | None:
        """Our campaign, by the checkpointed id or else by the marker in its name."""
        now = ctx.clock.now()
        campaign_id = book.get("campaign_id")
        if isinstance(campaign_id, int):
            response = await api.request(
                ctx.http,
                "GET",
                f"{base}/api/campaigns/{campaign_id}",
                user=user,
                token=token,
                now=now,
                ok=(200, 404),
                params={"no_body": "true"},
            )
            if response.status_code == 200:
                return api.object_of(response, "the campaign")
        marker = name.rsplit("[", 1)[-1].rstrip("]")
        page = 1
        while True:
            response = await api.request(
                ctx.http,
                "GET",
                f"{base}/api/campaigns",
                user=user,
                token=token,
                now=now,
                params={"query": marker, "page": page, "per_page": SEARCH_PAGE, "no_body": "true"},
            )
            found = api.data_of(response, "the campaigns")
            results = found.get("results") if isinstance(found, dict) else None
            if not isinstance(results, list) or not results:
                return None
            for campaign in results:
                ours = isinstance(campaign, dict) and campaign.get("name") == name
                if ours and isinstance(campaign.get("id"), int):
                    return dict(campaign)
            total = found.get("total") if isinstance(found, dict) else 0
            if not isinstance(total, int) or page * SEARCH_PAGE >= total:
                return None
            page += 1


def campaign_name(post: Post, idempotency_key: str) -> str:
    """The subject, then a marker from the delivery's key that the search finds again."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:12]
    subject = subject_of(post)
    if len(subject) > NAME_SUBJECT_CHARS:
        subject = subject[: NAME_SUBJECT_CHARS - 1].rstrip() + "…"
    return f"{subject} [staffetta-{digest}]"


def _base(account: Account) -> str:
    return normalise_site_url(str(account.settings.get("url") or ""), "Listmonk")


def _check(account: Account) -> tuple[str, list[int]]:
    """The server's address and the list ids; InputError saying what to fix."""
    base = _base(account)
    raw = str(account.settings.get("lists") or "").replace(";", ",")
    ids: list[int] = []
    for piece in raw.split(","):
        text = piece.strip()
        if not text:
            continue
        if not text.isdigit() or int(text) < 1:
            raise InputError(
                f"“{text}” is not a list id: give the numbers shown on Listmonk's Lists page, "
                "separated by commas."
            )
        if int(text) not in ids:
            ids.append(int(text))
    if not ids:
        raise InputError("Choose at least one Listmonk list to send to (its id, e.g. 1).")
    _user(account)
    _status(account)
    _content_type(account)
    return base, ids


def _user(account: Account) -> str:
    user = str(account.settings.get("api_user") or "").strip()
    if not user or ":" in user:
        raise InputError("Enter the name of the Listmonk API user (Admin → Users).")
    return user


def _status(account: Account) -> str:
    status = str(account.settings.get("status") or "draft").strip().lower()
    if status not in STATUSES:
        raise InputError(
            f"“{status}” is not a choice here: draft (the campaign waits for you in Listmonk) "
            "or running (Listmonk e-mails it at once)."
        )
    return status


def _content_type(account: Account) -> str:
    kind = str(account.settings.get("content_type") or "markdown").strip().lower()
    if kind not in CONTENT_TYPES:
        raise InputError(f"The format must be markdown or html, not “{kind}”.")
    return kind


def _token(ctx: DeliveryContext) -> str:
    if not ctx.secret:
        raise AuthError("This Listmonk account has no API token — reconnect it.")
    return ctx.secret
