"""Bluesky (AT Protocol): posts with facets, images and link cards, published idempotently.

- **Connecting** takes a handle (or DID) and an app password. The account's server (PDS) comes
  from its DID document (:mod:`~staffetta.channels.bluesky_identity`), never assumed to be
  bsky.social; the session is kept in the keyring and renewed
  (:mod:`~staffetta.channels.bluesky_session`).
- **Counting** is the lexicon's: at most 300 graphemes *and* 3000 UTF-8 bytes per post.
- **Rich text**: links, mentions (resolved to DIDs when publishing) and hashtags become facets
  with UTF-8 byte offsets; the post's link (or its first link) gets a card built from the page's
  metadata, with its image as thumbnail, unless the account's ``link_card`` is off.
- **Images**: up to 4, with alt text and aspect ratio, re-encoded without metadata under the blob
  limit, each uploaded once (:mod:`~staffetta.channels.bluesky_media`).
- **Idempotency**: every post's record key (a TID) is derived from the delivery itself
  (:func:`~staffetta.channels.bluesky_api.delivery_rkey`), so it is fixed from the moment the post
  is queued. A record key holds one record: a resend can never make a second post, and after an
  unknown outcome ``getRecord`` says whether it went out.
- **Threads**: a text with ``---`` lines is posted as a chain of replies (``reply.root`` and
  ``reply.parent`` strong refs), each part with its own derived record key and checkpointed
  before the next one starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels import bluesky_api as api
from staffetta.channels import bluesky_media as media
from staffetta.channels import bluesky_problems as warn
from staffetta.channels import bluesky_records as records
from staffetta.channels import bluesky_richtext as richtext
from staffetta.channels.bluesky_identity import (
    Identity,
    IdentityError,
    normalise_identifier,
    resolve_identity,
)
from staffetta.channels.bluesky_session import Credentials, Session, open_session
from staffetta.core.channel import (
    Channel,
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
from staffetta.core.clock import Clock, SystemClock
from staffetta.core.errors import (
    AuthError,
    InputError,
    TransientError,
)
from staffetta.core.lazy import lazy_module
from staffetta.core.media import ImageInfo, inspect_image
from staffetta.core.model import Account, ChannelGroup, Post
from staffetta.core.text import grapheme_count, utf8_length
from staffetta.core.thread import thread_parts

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

IDENTITY_CACHE_SECONDS = 600.0
_OFF = frozenset({"off", "false", "no", "0", "none"})


@dataclass
class _Progress:
    """The delivery's checkpoint as this attempt extends it; saved whole, before each next step."""

    ctx: DeliveryContext
    data: dict[str, Any]

    async def save(self) -> None:
        await self.ctx.save_checkpoint(dict(self.data))


class BlueskyChannel(Channel):
    name: ClassVar[str] = "bluesky"
    label: ClassVar[str] = "Bluesky"
    group: ClassVar[ChannelGroup] = ChannelGroup.SOCIAL
    supports_threads: ClassVar[bool] = True
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "handle",
            "Handle",
            "Your Bluesky handle, like alice.bsky.social (or your own domain), or your DID.",
        ),
        Field(
            "app_password",
            "App password",
            "Create one in Bluesky under Settings → Privacy and security → App passwords. "
            "It is kept in your system's keyring.",
            secret=True,
        ),
        Field(
            "link_card",
            "Link card",
            "“on” to show a card (title, description, picture) for the post's link; “off” for "
            "the link alone.",
            required=False,
            default="on",
        ),
        Field(
            "language",
            "Language",
            "The language the posts are written in (like en or it), for people's feeds.",
            required=False,
        ),
        Field(
            "service",
            "Handle resolver",
            "Advanced: the server that resolves handles (default https://bsky.social).",
            required=False,
            default=api.DEFAULT_SERVICE,
        ),
        Field(
            "plc_url",
            "PLC directory",
            "Advanced: where did:plc accounts are looked up (default https://plc.directory).",
            required=False,
            default=api.DEFAULT_PLC_URL,
        ),
    )

    def __init__(self, clock: Clock | None = None) -> None:
        # For calls that get no DeliveryContext (connect, verify, probe).
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._identities: dict[tuple[str, str, str], tuple[Identity, float]] = {}
        self._image_cache: dict[tuple[str, int, int], ImageInfo | InputError] = {}

    # --- identity -----------------------------------------------------------------------------
    def pds_url(self, account: Account) -> str:
        return str(account.settings.get("pds_url") or "")

    def endpoint(self, account: Account) -> str:
        pds = self.pds_url(account)
        try:
            return api.origin_of(api.normalise_service_url(pds)) if pds else self.name
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        handle = str(account.settings.get("handle") or account.name).strip().lstrip("@")
        return handle if handle.startswith("did:") else f"@{handle}"

    def _identifier(self, account: Account) -> str:
        return str(account.settings.get("did") or account.settings.get("handle") or "")

    async def identity(self, http: httpx.AsyncClient, account: Account) -> Identity:
        """The account's DID and PDS: from its settings when known, else resolved (and cached)."""
        did, pds = str(account.settings.get("did") or ""), self.pds_url(account)
        if did and pds:
            return Identity(did, str(account.settings.get("handle") or ""), pds)
        return await self.resolve(http, account.settings)

    async def resolve(self, http: httpx.AsyncClient, settings: dict[str, Any]) -> Identity:
        identifier = str(settings.get("did") or settings.get("handle") or "")
        service = str(settings.get("service") or api.DEFAULT_SERVICE)
        plc_url = str(settings.get("plc_url") or api.DEFAULT_PLC_URL)
        key = (normalise_identifier(identifier), service, plc_url)
        now = self._clock.now()
        cached = self._identities.get(key)
        if cached is not None and now - cached[1] < IDENTITY_CACHE_SECONDS:
            return cached[0]
        found = await resolve_identity(http, identifier, service=service, plc_url=plc_url, now=now)
        self._identities[key] = (found, now)
        return found

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(
            max_chars=api.MAX_GRAPHEMES,
            unit="characters",
            max_bytes=api.MAX_TEXT_BYTES,
            max_images=api.MAX_IMAGES,
            max_image_bytes=self.image_bytes(account),
            max_image_pixels=media.MAX_PIXELS,
            max_alt_chars=api.MAX_ALT_CHARS,
        )

    def image_bytes(self, account: Account, checkpoint: dict[str, Any] | None = None) -> int:
        """The image blob limit: what the server said when it refused a bigger one (this
        delivery's checkpoint), the account's setting, else the lexicon's."""
        for value in (
            (checkpoint or {}).get("max_image_bytes"),
            account.settings.get("max_image_bytes"),
        ):
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())  # as typed on the command line
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return api.DEFAULT_IMAGE_BYTES

    def fits(self, text: str, account: Account) -> bool:
        posted = richtext.posted_text(text)
        return (
            utf8_length(posted) <= api.MAX_TEXT_BYTES
            and grapheme_count(posted) <= api.MAX_GRAPHEMES
        )

    def parts(self, post: Post, account: Account) -> list[str]:
        """The posts this account publishes: one, or the parts of a thread (with "k/n")."""
        return thread_parts(
            post.text_for(account.id),
            lambda text: self.fits(text, account),
            numbering=post.thread_numbering,
        )

    def preview(self, post: Post, account: Account) -> Preview:
        limits = self.limits(account)
        texts = self.parts(post, account)
        problems = warn.length_problems(texts)
        if not any(text.strip() for text in texts) and not post.images:
            problems.append(Problem("empty", "Write something or add an image.", blocking=True))
        if post.content_warning.strip():
            problems.append(
                Problem(
                    "no_content_warning",
                    "Bluesky has no content warning text: the warning is not shown there.",
                    blocking=False,
                    fix=Fix.CUSTOMISE,
                )
            )
        if len(post.images) > limits.max_images:
            problems.append(
                Problem(
                    "too_many_images",
                    f"{len(post.images)} images — Bluesky takes at most {limits.max_images}.",
                    blocking=True,
                    fix=Fix.REMOVE_IMAGES,
                )
            )
        for number, image in enumerate(post.images, start=1):
            problems.extend(
                warn.image_problems(
                    number, image.path, image.alt, limits, self._inspect(image.path)
                )
            )
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=tuple(
                PreviewPart(
                    text, grapheme_count(richtext.posted_text(text)), richtext.facet_spans(text)
                )
                for text in texts
            ),
            limit=limits.max_chars,
            unit=limits.unit,
            images=post.images,  # on the first part
            problems=tuple(problems),
        )

    def _inspect(self, path: str) -> ImageInfo | InputError:
        """``inspect_image``, remembered per file version: previews run on every keystroke."""
        try:
            stat = os.stat(path)
            key: tuple[str, int, int] | None = (path, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None
        if key is not None and key in self._image_cache:
            return self._image_cache[key]
        try:
            found: ImageInfo | InputError = inspect_image(Path(path))
        except InputError as exc:
            found = exc
        if key is not None:
            if len(self._image_cache) >= 64:
                self._image_cache.pop(next(iter(self._image_cache)))
            self._image_cache[key] = found
        return found

    # --- settings, health, credentials --------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        try:
            pds = self.pds_url(account) or (await self.identity(http, account)).pds_url
        except IdentityError as exc:
            raise TransientError(str(exc)) from None
        try:
            response = await http.get(f"{pds}/xrpc/_health")
        except httpx.TransportError as exc:
            raise TransientError(
                f"Could not reach Bluesky at {api.host_of(pds)}: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise TransientError(
                f"Bluesky at {api.host_of(pds)} reports it is unhealthy "
                f"(HTTP {response.status_code})."
            )

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        """Resolve the account, sign in once with the app password, return its handle."""
        if not secret:
            raise AuthError("Enter an app password for this Bluesky account.")
        found = await self.resolve(http, account.settings)
        session = await open_session(http, found.pds_url, found.did, secret, self._clock)
        await session.create()
        if session.did and session.did != found.did:
            raise AuthError(
                f"The app password belongs to another account ({session.did}) than {found.did}."
            )
        return session.handle or found.handle or found.did

    async def refresh_settings(self, http: httpx.AsyncClient, account: Account) -> dict[str, Any]:
        found = await self.resolve(http, account.settings)
        settings: dict[str, Any] = {"did": found.did, "pds_url": found.pds_url}
        if found.handle:
            settings["handle"] = found.handle
        return settings

    # --- delivering ---------------------------------------------------------------------------
    async def _session(self, ctx: DeliveryContext) -> tuple[Session, Identity]:
        try:
            found = await self.identity(ctx.http, ctx.account)
        except IdentityError as exc:
            raise AuthError(f"{exc} Reconnect the Bluesky account.") from None
        session = await open_session(
            ctx.http, found.pds_url, found.did, ctx.secret, ctx.clock, ctx.update_secret
        )
        return session, found

    def _rkey(self, ctx: DeliveryContext, index: int) -> str:
        delivery = ctx.delivery
        return api.delivery_rkey(delivery.not_before, delivery.id, delivery.idempotency_key, index)

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        if not ctx.secret:
            raise AuthError("This Bluesky account has no app password — reconnect it.")
        session, found = await self._session(ctx)
        parts = self.parts(ctx.post, ctx.account)
        progress = _Progress(ctx, dict(ctx.checkpoint))
        done = records.sent_parts(progress.data)[: len(parts)]
        # An earlier attempt may have posted a part without living to checkpoint it (a crash, or
        # an answer lost on the way back): look before posting it again.
        retried = ctx.delivery.attempts > 1
        for index in range(len(done), len(parts)):
            rkey = self._rkey(ctx, index)
            ref = await records.existing(session, found.did, rkey) if retried else None
            if ref is None:
                ref = await self._post(ctx, session, found.did, rkey, parts, index, done, progress)
            done.append(ref)
            progress.data["parts"] = [dict(p) for p in done]
            await progress.save()
        return self._result(found, done)

    async def _post(
        self,
        ctx: DeliveryContext,
        session: Session,
        did: str,
        rkey: str,
        parts: list[str],
        index: int,
        done: list[dict[str, str]],
        progress: _Progress,
    ) -> dict[str, str]:
        """Create one part's record; blobs the server refused are uploaded again, once each way
        (nothing was posted when a record is refused, so trying again at once is safe)."""
        for attempt in range(3):
            record = await self._record(ctx, session, parts[index], index, done, progress)
            try:
                return await records.create_record(session, did, rkey, record)
            except records.BlobsRefused as refused:
                if index > 0 or attempt == 2:
                    raise refused.error from None
                if refused.max_bytes is not None:
                    if refused.max_bytes >= self.image_bytes(ctx.account, progress.data):
                        raise refused.error from None
                    progress.data["max_image_bytes"] = refused.max_bytes
                media.forget_blobs(progress.data)
                await progress.save()
        raise AssertionError("unreachable")  # pragma: no cover

    def _result(self, found: Identity, done: list[dict[str, str]]) -> PublishResult:
        first = done[0]
        return PublishResult(first["uri"], api.web_url(found.handle or found.did, first["rkey"]))

    async def _record(
        self,
        ctx: DeliveryContext,
        session: Session,
        text: str,
        index: int,
        done: list[dict[str, str]],
        progress: _Progress,
    ) -> dict[str, Any]:
        dids = await records.resolve_mentions(session, richtext.mention_handles(text))
        posted, facets = richtext.build_facets(text, dids)
        record: dict[str, Any] = {
            "$type": api.POST_COLLECTION,
            "text": posted,
            "createdAt": records.iso_time(ctx.clock.now()),
        }
        if facets:
            record["facets"] = facets
        language = str(ctx.account.settings.get("language") or "").strip()
        if language:
            record["langs"] = [language]
        if index == 0:
            embed = await self._embed(ctx, session, text, progress)
            if embed is not None:
                record["embed"] = embed
            tags = richtext.record_tags(ctx.post.tags, text)
            if tags:
                record["tags"] = tags
        if done:
            root, parent = done[0], done[-1]
            record["reply"] = {
                "root": {"uri": root["uri"], "cid": root["cid"]},
                "parent": {"uri": parent["uri"], "cid": parent["cid"]},
            }
        return record

    async def _embed(
        self, ctx: DeliveryContext, session: Session, text: str, progress: _Progress
    ) -> dict[str, Any] | None:
        """Images when the post has some (Bluesky shows one embed), else the link card."""
        if ctx.post.images:
            return await media.image_embed(
                session,
                ctx.post.images,
                progress.data,
                progress.save,
                max_bytes=self.image_bytes(ctx.account, progress.data),
            )
        if str(ctx.account.settings.get("link_card") or "on").strip().lower() in _OFF:
            return None
        return await self._card(ctx, session, text, progress)

    async def _card(
        self, ctx: DeliveryContext, session: Session, text: str, progress: _Progress
    ) -> dict[str, Any] | None:
        """``app.bsky.embed.external``, decided once per delivery (a retry keeps the decision)."""
        if "card" not in progress.data:
            link = richtext.card_link(text, ctx.post.link)
            meta = await richtext.fetch_page_meta(ctx.http, link) if link else None
            card: dict[str, Any] | None = None
            if meta is not None:  # an unreachable page gets no card (the link stays a link)
                card = {"uri": link, "title": meta.title, "description": meta.description}
                image = await richtext.fetch_image(ctx.http, meta.image) if meta.image else None
                thumb = await media.thumbnail_blob(session, image) if image else None
                if thumb is not None:
                    card["thumb"] = thumb
                    progress.data.setdefault("blobs_uploaded_at", ctx.clock.now())
            progress.data["card"] = card
            await progress.save()
        saved = progress.data.get("card")
        if not isinstance(saved, dict):
            return None
        return {"$type": "app.bsky.embed.external", "external": dict(saved)}

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        """Look up each part's record key: every part there means it all went out.

        Parts found are checkpointed, so the resend carries on after them.
        """
        try:
            found = await self.identity(ctx.http, ctx.account)
        except IdentityError as exc:
            raise AuthError(f"{exc} Reconnect the Bluesky account.") from None
        parts = self.parts(ctx.post, ctx.account)
        data = dict(ctx.checkpoint)
        done = records.sent_parts(data)[: len(parts)]
        known = len(done)
        for index in range(len(done), len(parts)):
            rkey = self._rkey(ctx, index)
            ref = await records.get_record(
                ctx.http, found.pds_url, found.did, rkey, ctx.clock.now()
            )
            if ref is None:
                break
            done.append(ref)
        if len(done) > known:
            data["parts"] = [dict(p) for p in done]
            await ctx.save_checkpoint(data)
        if len(done) == len(parts):
            result = self._result(found, done)
            return Reconciled(
                Outcome.SENT,
                remote_id=result.remote_id,
                url=result.url,
                evidence="Bluesky has the post under the record key Staffetta chose for it.",
            )
        where = f"part {len(done) + 1} of {len(parts)}" if len(parts) > 1 else "the post"
        return Reconciled(
            Outcome.NOT_SENT,
            evidence=f"Bluesky has no record under the key Staffetta chose for {where}; "
            "sending it is safe (that key can only ever hold one post).",
        )


__all__ = ["BlueskyChannel", "Credentials"]
