"""Assisted channels: destinations with no publishing API (WhatsApp Channels, personal Instagram).

Staffetta cannot post there, so the user does, with everything prepared: the text rendered for
that app, the first image, and the page or app to open (:meth:`Channel.handover`). The copy goes
through the outbox like every other: it waits for its schedule and, when the destination is down
(the 2021 outage took WhatsApp and Instagram down with Facebook), for the destination to come
back — ``publish`` first checks that the destination answers, a transient failure otherwise, so
the engine's backoff and circuit breaker apply. Then, instead of sending, it raises
:class:`NeedsUserAction`: the engine marks the copy *your turn*, which keeps its place in the
account's queue (later copies for the account wait behind it) and notifies the user, who pastes
it and says "I posted it" (sent, with the link if given) or "Skip" (cancelled).

Nothing here ever sends the post, so an interrupted attempt is simply tried again: ``reconcile``
answers "not sent".
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote, urlsplit

from staffetta.channels import assisted_text
from staffetta.core.channel import (
    Channel,
    DeliveryContext,
    Field,
    Fix,
    Handover,
    Limits,
    Outcome,
    Preview,
    PreviewPart,
    Problem,
    PublishResult,
    Reconciled,
)
from staffetta.core.errors import InputError, NeedsUserAction, TransientError
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Account, ChannelGroup, Post
from staffetta.core.text import entities, find_hashtags, find_mentions, grapheme_count

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")

_OFF = ("off", "none", "no")


class AssistedChannel(Channel):
    """A destination the user posts to by hand. Subclasses set the class attributes and may
    refine :meth:`render` and :meth:`problems`."""

    group: ClassVar[ChannelGroup] = ChannelGroup.SOCIAL
    destination: ClassVar[str]  # in words: "WhatsApp"
    flavour: ClassVar[str] = assisted_text.PLAIN
    max_chars: ClassVar[int] = 0
    default_check_url: ClassVar[str]
    default_open_url: ClassVar[str]

    # --- identity -----------------------------------------------------------------------------
    def check_url(self, account: Account) -> str:
        """What is asked before the copy's turn comes, to tell whether the destination is up
        ("" = no check)."""
        value = str(account.settings.get("check_url") or "").strip()
        if value.lower() in _OFF:
            return ""
        return _web_url(value or self.default_check_url, "check_url")

    def endpoint(self, account: Account) -> str:
        try:
            url = self.check_url(account)
        except InputError:
            return self.name
        if not url:
            return self.name
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def handle(self, account: Account) -> str:
        return str(account.settings.get("handle") or account.name)

    # --- composing ----------------------------------------------------------------------------
    def limits(self, account: Account) -> Limits:
        return Limits(max_chars=self.max_chars, max_images=1)

    def render(self, post: Post, account: Account) -> str:
        """The text to paste: the account's text in the app's own formatting, and the post's
        link at the end when the text does not already hold it."""
        text = assisted_text.render(post.text_for(account.id), self.flavour).strip()
        link = post.link.strip()
        if link and link not in text:
            text = f"{text}\n\n{link}" if text else link
        return text

    def problems(self, post: Post, account: Account, text: str) -> list[Problem]:
        found: list[Problem] = []
        if not text.strip() and not post.images:
            found.append(Problem("empty", "Write something or add an image.", blocking=True))
        if len(post.images) > 1:
            found.append(
                Problem(
                    "assisted_images",
                    f"Only the first image is copied for you; add the other {len(post.images) - 1}"
                    f" in {self.destination} yourself.",
                    blocking=False,
                )
            )
        return found

    def preview(self, post: Post, account: Account) -> Preview:
        text = self.render(post, account)
        count = grapheme_count(text)
        return Preview(
            channel=self.name,
            account_name=account.name,
            handle=self.handle(account),
            parts=(PreviewPart(text, count, entities(text)),),
            limit=self.max_chars,
            unit="characters",
            images=post.images[:1],
            problems=tuple(self.problems(post, account, text)),
        )

    # --- handing over -------------------------------------------------------------------------
    def open_url(self, account: Account, text: str) -> str:
        configured = str(account.settings.get("open_url") or "").strip()
        return configured or self.default_open_url

    def handover(self, post: Post, account: Account) -> Handover:
        text = self.render(post, account)
        image = post.images[0].path if post.images else ""
        return Handover(text, image, self.open_url(account, text), self.destination)

    # --- health and delivering ------------------------------------------------------------------
    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:
        url = self.check_url(account)
        if not url:
            return
        try:
            response = await http.get(url)
        except httpx.TransportError as exc:
            raise TransientError(
                f"{self.destination} cannot be reached ({type(exc).__name__}); your turn comes "
                "when it is back."
            ) from None
        if response.status_code >= 500:
            raise TransientError(
                f"{self.destination} is having trouble (HTTP {response.status_code}); your turn "
                "comes when it is back."
            )

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        self.check_url(account)  # a bad address is refused now, not at the copy's turn
        return self.handle(account)

    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        await self.probe(ctx.http, ctx.account)
        raise NeedsUserAction(
            f"Your turn: post it on {self.destination} yourself (the text is ready to copy), "
            "then mark it posted, or skip it. Later posts to this account wait until then."
        )

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        return Reconciled(Outcome.NOT_SENT, evidence="Staffetta never posts here by itself.")


class WhatsAppChannel(AssistedChannel):
    name: ClassVar[str] = "whatsapp"
    label: ClassVar[str] = "WhatsApp Channel"
    destination: ClassVar[str] = "WhatsApp"
    flavour: ClassVar[str] = assisted_text.WHATSAPP
    default_check_url: ClassVar[str] = "https://web.whatsapp.com/"
    default_open_url: ClassVar[str] = "https://wa.me/"
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "open_url",
            "Channel link",
            "WhatsApp has no way for apps to post to a channel, so Staffetta prepares each post "
            "and you paste it. Paste your channel's link (WhatsApp → Updates → your channel → "
            "Channel link, like https://whatsapp.com/channel/…) to open it for you; leave empty "
            "to open WhatsApp's share page with the text already filled in.",
            required=False,
        ),
        Field(
            "check_url",
            "Status check",
            "Leave empty. Staffetta asks this address before your turn comes, so during a "
            "WhatsApp outage the reminder waits until WhatsApp is back; “off” skips the check.",
            required=False,
        ),
    )

    def open_url(self, account: Account, text: str) -> str:
        configured = str(account.settings.get("open_url") or "").strip()
        if configured:
            return configured
        # wa.me's share link opens WhatsApp with the text filled in (the user picks where).
        return f"{self.default_open_url}?text={quote(text, safe='')}"


INSTAGRAM_CAPTION = 2200  # characters, as Instagram's own limits say
INSTAGRAM_HASHTAGS = 30
INSTAGRAM_MENTIONS = 20


class InstagramAssistedChannel(AssistedChannel):
    name: ClassVar[str] = "instagram_assisted"
    label: ClassVar[str] = "Instagram (personal, assisted)"
    destination: ClassVar[str] = "Instagram"
    max_chars: ClassVar[int] = INSTAGRAM_CAPTION
    default_check_url: ClassVar[str] = "https://www.instagram.com/"
    default_open_url: ClassVar[str] = "https://www.instagram.com/"
    fields: ClassVar[tuple[Field, ...]] = (
        Field(
            "open_url",
            "Open with",
            "Instagram lets apps post only to professional accounts, so for a personal account "
            "Staffetta prepares the caption and the picture and you post them. Leave empty to "
            "open instagram.com (choose Create and paste); instagram:// opens the app where "
            "it is installed.",
            required=False,
        ),
        Field(
            "check_url",
            "Status check",
            "Leave empty. Staffetta asks this address before your turn comes, so during an "
            "Instagram outage the reminder waits until Instagram is back; “off” skips the check.",
            required=False,
        ),
    )

    def limits(self, account: Account) -> Limits:
        return Limits(max_chars=INSTAGRAM_CAPTION, max_images=1, requires_image=True)

    def render(self, post: Post, account: Account) -> str:
        text = super().render(post, account)
        present = {span.value.casefold() for span in find_hashtags(text)}
        wanted = dict.fromkeys(t.strip().lstrip("#") for t in post.tags if t.strip())
        missing = [t for t in wanted if t.casefold() not in present and " " not in t]
        if missing:
            tags = " ".join(f"#{tag}" for tag in missing)
            text = f"{text}\n\n{tags}" if text else tags
        return text

    def problems(self, post: Post, account: Account, text: str) -> list[Problem]:
        found = super().problems(post, account, text)
        if not post.images:
            found.append(
                Problem(
                    "needs_image",
                    "Instagram posts need a picture.",
                    blocking=True,
                    fix=Fix.ADD_IMAGE,
                )
            )
        count = grapheme_count(text)
        if count > INSTAGRAM_CAPTION:
            found.append(
                Problem(
                    "too_long",
                    f"{count} / {INSTAGRAM_CAPTION} characters — {count - INSTAGRAM_CAPTION} over",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        tags, mentions = len(find_hashtags(text)), len(find_mentions(text))
        if tags > INSTAGRAM_HASHTAGS:
            found.append(
                Problem(
                    "too_many_hashtags",
                    f"{tags} hashtags — Instagram takes at most {INSTAGRAM_HASHTAGS}.",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        if mentions > INSTAGRAM_MENTIONS:
            found.append(
                Problem(
                    "too_many_mentions",
                    f"{mentions} @mentions — Instagram takes at most {INSTAGRAM_MENTIONS}.",
                    blocking=True,
                    fix=Fix.CUSTOMISE,
                )
            )
        return found


def _web_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InputError(f"{what} must be a web address starting with https:// (or “off”).")
    host = parts.hostname or ""
    if parts.scheme == "http" and not _loopback(host):
        raise InputError(f"{what} must start with https://.")
    return value


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
