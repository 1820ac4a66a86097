"""Plain e-mail over SMTP: the simplest newsletter a creator can own.

Any mail provider works. The post goes to a list of readers, either one copy per reader
(``recipients_mode`` ``separately``: each sees only their own address) or one message to a
single address with the readers in Bcc (``bcc``). The e-mail is multipart text + HTML with the
images inline (:mod:`staffetta.channels.smtp_message`); the password lives in the keyring.

SMTP has no idempotency and no way to ask whether a message arrived, so delivery is bookkept in
the checkpoint, reader by reader (or once for the Bcc list):

``delivered``
    copies the server accepted (250): never sent again;
``in_flight``
    written durably right before a copy's body leaves: if the process dies there, that copy's
    outcome is unknown;
``uncertain``
    copies whose connection was lost after the body left and before the server's reply.

An uncertain copy is never sent again by itself. The other readers still get theirs; then the
delivery becomes *unconfirmed* with the evidence (when, which server, which ``Message-ID``, to
whom) and the user decides — "send again" re-sends only to the uncertain readers.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from staffetta.channels.email_render import newsletter_problems, subject_of
from staffetta.channels.owned_common import OwnedPreviewer, is_loopback_host
from staffetta.channels.smtp_message import (
    InlineImage,
    addressed,
    build_message,
    content_id,
    message_id,
)
from staffetta.channels.smtp_session import Server, SmtpSession
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
from staffetta.core.errors import (
    AuthError,
    DeliveryError,
    InputError,
    PermanentError,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.lazy import lazy_module
from staffetta.core.media import prepare_image
from staffetta.core.model import Account, ChannelGroup, Post

if TYPE_CHECKING:
    import asyncio

    import httpx
else:
    httpx = lazy_module("httpx")
    asyncio = lazy_module("asyncio")

SECURITY = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
MODES = ("separately", "bcc")
BCC_UNIT = "bcc"  # the key of the one copy sent to the whole Bcc list
MAX_IMAGES = 10
IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_SIDE = 1600  # wider than any mail reading pane; keeps the message small
_FORMATS = ("JPEG", "PNG", "GIF")  # what every mail program shows (not WebP)
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[^\s@<>()\[\],;:\"\\]+")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    server: Server
    username: str
    sender: str  # the From header, "Name <address>"
    sender_address: str
    recipients: tuple[str, ...]
    mode: str
    to_address: str
    unsubscribe: str


@dataclass(frozen=True, slots=True)
class _Copy:
    """One message to send: every reader's own copy, or the single Bcc one."""

    key: str
    envelope: tuple[str, ...]
    to: str
    who: str


class SmtpChannel(Channel):
    name: ClassVar[str] = "smtp"
    label: ClassVar[str] = "E-mail (SMTP)"
    description: ClassVar[str] = (
        "Send each post as an e-mail to your readers, through your own mail provider."
    )
    group: ClassVar[ChannelGroup] = ChannelGroup.OWNED
    fields: ClassVar[tuple[Field, ...]] = (
        Field("host", "Mail server", "Your provider's SMTP server, e.g. smtp.fastmail.com."),
        Field(
            "security",
            "Security",
            "starttls (usually port 587) or tls (usually port 465). none is only allowed for a "
            "server on this computer.",
            required=False,
            default="starttls",
        ),
        Field(
            "port",
            "Port",
            "Leave empty for the usual port: 587 with starttls, 465 with tls.",
            required=False,
        ),
        Field(
            "username",
            "User name",
            "Usually your e-mail address. Leave empty if the server needs no sign-in.",
            required=False,
        ),
        Field(
            "password",
            "Password",
            "Your mail password or an app password made for Staffetta. Kept in the system keyring.",
            secret=True,
            required=False,
        ),
        Field("from_address", "From", "Who the e-mail is from, e.g. Jane Doe <jane@example.com>."),
        Field(
            "recipients",
            "Readers",
            "Your readers' e-mail addresses, separated by commas.",
        ),
        Field(
            "recipients_mode",
            "Addressing",
            "separately: every reader gets a copy addressed to them alone. bcc: one e-mail to "
            "the address below, with every reader in Bcc.",
            required=False,
            default="separately",
        ),
        Field(
            "to_address",
            "To (bcc)",
            "With bcc: the address shown in To. Empty: the From address.",
            required=False,
        ),
        Field(
            "list_unsubscribe",
            "Unsubscribe link",
            "Optional. A mailto: or https:// address where readers can unsubscribe; sent as a "
            "List-Unsubscribe header and a link at the bottom.",
            required=False,
        ),
        Field(
            "ca_file",
            "Certificate authority",
            "Optional. A PEM file with your own certificate authority, for a server whose "
            "certificate it signed. Certificates are always checked.",
            required=False,
        ),
    )

    def __init__(self) -> None:
        self._previews = OwnedPreviewer()
        self._parsed: tuple[str, SmtpSettings | InputError] | None = None
        self.timeout = 30.0  # seconds per SMTP step; tests shorten it

    def _settings(self, account: Account) -> SmtpSettings:
        """:func:`parse_settings`, remembered: previews (every keystroke) and the engine (every
        scheduling turn) ask again and again, and a list of readers can be long."""
        key = json.dumps(account.settings, sort_keys=True, default=str)
        if self._parsed is None or self._parsed[0] != key:
            try:
                found: SmtpSettings | InputError = parse_settings(account)
            except InputError as exc:
                found = exc
            self._parsed = (key, found)
        result = self._parsed[1]
        if isinstance(result, InputError):
            raise InputError(str(result))
        return result

    # --- identity -----------------------------------------------------------------------------
    def endpoint(self, account: Account) -> str:
        try:
            return f"smtp:{self._settings(account).server.name}"
        except InputError:
            return self.name

    def handle(self, account: Account) -> str:
        _name, address = parseaddr(str(account.settings.get("from_address") or ""))
        return address or account.name

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
            self._settings(account)
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
        """Connect, greet (and STARTTLS) and ``NOOP``; no sign-in, nothing sent."""
        try:
            settings = self._settings(account)
        except InputError as exc:
            raise TransientError(str(exc)) from None
        session = SmtpSession(settings.server, timeout=self.timeout)
        try:
            await asyncio.to_thread(session.open)
            await asyncio.to_thread(session.noop)
        except AuthError as exc:
            raise TransientError(str(exc)) from None
        finally:
            await asyncio.to_thread(session.close)

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        settings = self._settings(account)
        if settings.username and not secret:
            raise InputError(f"Enter the password for {settings.username}.")
        session = SmtpSession(settings.server, timeout=self.timeout)
        try:
            await asyncio.to_thread(session.open, settings.username, secret)
            await asyncio.to_thread(session.noop)
        finally:
            await asyncio.to_thread(session.close)
        return settings.sender_address

    # --- delivering ---------------------------------------------------------------------------
    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        try:
            settings = self._settings(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        if not subject_of(ctx.post):
            raise PermanentError("An e-mail needs a subject: give the post a title.")
        book = dict(ctx.checkpoint)
        if not isinstance(book.get("message_id"), str):
            book["message_id"] = message_id(ctx.delivery.idempotency_key, settings.sender_address)
            book["date"] = ctx.clock.now()
        delivered = _strings(book.get("delivered"))
        uncertain = _strings(book.get("uncertain"))
        book.pop("in_flight", None)
        todo = [c for c in _copies(settings) if c.key not in delivered and c.key not in uncertain]
        refused: dict[str, str] = {}
        if todo:
            message = await asyncio.to_thread(self._message, ctx, settings, book)
            session = SmtpSession(settings.server, timeout=self.timeout)
            try:
                await asyncio.to_thread(session.open, settings.username, ctx.secret)
                for copy in todo:
                    data = await asyncio.to_thread(addressed, message, copy.to)
                    accepted, turned_down = await asyncio.to_thread(
                        session.envelope, settings.sender_address, copy.envelope, len(data)
                    )
                    refused.update(turned_down)
                    if not accepted:
                        await asyncio.to_thread(session.reset)
                        continue
                    book.update(
                        delivered=sorted(delivered),
                        uncertain=sorted(uncertain),
                        in_flight=copy.key,
                        in_flight_at=ctx.clock.now(),
                        server=settings.server.name,
                    )
                    await ctx.save_checkpoint(dict(book))
                    try:
                        await asyncio.to_thread(session.data, data)
                    except UnknownOutcome:
                        uncertain.add(copy.key)
                        raise
                    finally:
                        book.pop("in_flight", None)
                        book.update(delivered=sorted(delivered), uncertain=sorted(uncertain))
                    delivered.add(copy.key)
                    book["delivered"] = sorted(delivered)
            except DeliveryError:
                # What went out so far, and nothing half-sent: a later attempt resumes from here.
                await ctx.save_checkpoint(dict(book))
                raise
            finally:
                await asyncio.to_thread(session.close)
            await ctx.save_checkpoint(dict(book))
        return _outcome(book, settings, refused)

    def _message(
        self, ctx: DeliveryContext, settings: SmtpSettings, book: dict[str, Any]
    ) -> EmailMessage:
        key = ctx.delivery.idempotency_key
        images = []
        for number, image in enumerate(ctx.post.images, start=1):
            try:
                prepared = prepare_image(
                    Path(image.path),
                    max_bytes=IMAGE_BYTES,
                    max_pixels=IMAGE_SIDE * IMAGE_SIDE,
                    max_side=IMAGE_SIDE,
                    allowed=_FORMATS,
                )
            except InputError as exc:
                raise PermanentError(f"Image {number} cannot be sent: {exc}") from None
            extension = _EXTENSIONS.get(prepared.mime, "img")
            images.append(
                InlineImage(
                    data=prepared.data,
                    mime=prepared.mime,
                    cid=content_id(key, number, settings.sender_address),
                    alt=image.alt,
                    filename=f"image-{number}.{extension}",
                )
            )
        return build_message(
            subject=subject_of(ctx.post),
            text=ctx.post.text_for(ctx.account.id),
            images=images,
            sender=settings.sender,
            msgid=str(book["message_id"]),
            date=float(book["date"]),
            link=ctx.post.link,
            tags=ctx.post.tags,
            unsubscribe=settings.unsubscribe,
        )

    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        try:
            settings = self._settings(ctx.account)
        except InputError as exc:
            raise PermanentError(str(exc)) from None
        book = dict(ctx.checkpoint)
        delivered = _strings(book.get("delivered"))
        uncertain = _strings(book.get("uncertain"))
        in_flight = book.pop("in_flight", None)
        if isinstance(in_flight, str):
            uncertain.add(in_flight)  # the process stopped while that copy was being handed over
        copies = _copies(settings)
        left = [c for c in copies if c.key not in delivered and c.key not in uncertain]
        if not uncertain:
            # Nothing was being handed over: whatever went out is in ``delivered``.
            return Reconciled(Outcome.NOT_SENT, evidence="No copy was handed to the mail server.")
        book["uncertain"] = sorted(uncertain)
        unsure = [c for c in copies if c.key in uncertain] or [
            _Copy(key, (key,), key, key) for key in sorted(uncertain)
        ]
        evidence = _evidence(book, settings, unsure)
        if left:
            # Send the other readers theirs first; the uncertain ones wait for the user.
            await ctx.save_checkpoint(book)
            return Reconciled(
                Outcome.NOT_SENT,
                evidence=f"{evidence} The {len(left)} other copies go out now.",
            )
        # The user decides. Should they choose "send again", only these copies are resent.
        book["uncertain"] = []
        book["unconfirmed"] = sorted(uncertain)
        await ctx.save_checkpoint(book)
        return Reconciled(
            Outcome.UNKNOWN, remote_id=str(book.get("message_id") or ""), evidence=evidence
        )


# --- settings -------------------------------------------------------------------------------------


def parse_settings(account: Account) -> SmtpSettings:
    """The account's settings, checked; raises InputError saying what to change."""
    s = account.settings
    host = str(s.get("host") or "").strip().rstrip(".").lower()
    if not host:
        raise InputError("Enter your provider's mail (SMTP) server, e.g. smtp.fastmail.com.")
    if any(c in host for c in "/:@ ") and not _is_ip(host):
        raise InputError(
            f"“{host}” is not a server name: enter only its name, like smtp.example.com."
        )
    security = str(s.get("security") or "starttls").strip().lower()
    if security not in SECURITY:
        raise InputError(f"Security must be starttls, tls or none, not “{security}”.")
    if security == "none" and not is_loopback_host(host):
        raise InputError(
            f"{host} must be reached with starttls or tls: without them your password and your "
            "posts would cross the network unencrypted. none is only for a server on this "
            "computer."
        )
    port = _port(s.get("port"), security)
    sender_name, sender_address = _address(str(s.get("from_address") or ""), "From address")
    recipients = parse_recipients(str(s.get("recipients") or ""))
    mode = str(s.get("recipients_mode") or "separately").strip().lower()
    if mode not in MODES:
        raise InputError(f"Addressing must be separately or bcc, not “{mode}”.")
    to_raw = str(s.get("to_address") or "").strip()
    to_address = _address(to_raw, "To address")[1] if to_raw else sender_address
    unsubscribe = str(s.get("list_unsubscribe") or "").strip()
    if unsubscribe and not unsubscribe.lower().startswith(("mailto:", "https://", "http://")):
        raise InputError(
            "The unsubscribe link must start with mailto: or https:// (for example "
            "mailto:jane@example.com?subject=unsubscribe)."
        )
    return SmtpSettings(
        server=Server(host, port, security, str(s.get("ca_file") or "").strip()),
        username=str(s.get("username") or "").strip(),
        sender=formataddr((sender_name, sender_address)),
        sender_address=sender_address,
        recipients=recipients,
        mode=mode,
        to_address=to_address,
        unsubscribe=unsubscribe,
    )


def parse_recipients(raw: str) -> tuple[str, ...]:
    """Addresses separated by commas, semicolons or lines; duplicates dropped, order kept."""
    pieces = [p for p in raw.replace(";", ",").replace("\n", ",").split(",") if p.strip()]
    found: dict[str, str] = {}
    for piece in pieces:
        _name, address = _address(piece, "Reader address")
        found.setdefault(address.casefold(), address)
    if not found:
        raise InputError("Add at least one reader's e-mail address.")
    return tuple(found.values())


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _port(raw: Any, security: str) -> int:
    text = str(raw or "").strip()
    if not text:
        return DEFAULT_PORTS[security]
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InputError(f"The port must be a number between 1 and 65535, not “{text}”.")
    return int(text)


def _address(raw: str, what: str) -> tuple[str, str]:
    """``(display name, address)`` with the domain in its ASCII form; InputError if unusable."""
    text = raw.strip()
    if _PLAIN_ADDRESS.fullmatch(text):
        name, address = "", text  # the usual case, without the (slow) full RFC 5322 parser
    else:
        parsed = getaddresses([text])
        if len(parsed) != 1 or not parsed[0][1]:
            raise InputError(f"{what} “{text}” is not an e-mail address.")
        name, address = parsed[0]
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or " " in address or "." not in domain.strip("."):
        raise InputError(f"{what} “{address}” is not a complete e-mail address.")
    if not local.isascii():
        raise InputError(
            f"{what} “{address}” has letters outside ASCII before the @, which many mail "
            "servers cannot carry. Use an ASCII address."
        )
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InputError(f"{what} “{address}” has an invalid domain.") from None
    return name.strip(), f"{local}@{domain.lower()}"


# --- bookkeeping ----------------------------------------------------------------------------------


def _copies(settings: SmtpSettings) -> list[_Copy]:
    if settings.mode == "bcc":
        envelope = tuple(dict.fromkeys((settings.to_address, *settings.recipients)))
        who = f"{len(settings.recipients)} readers in Bcc"
        return [_Copy(BCC_UNIT, envelope, settings.to_address, who)]
    return [_Copy(address, (address,), address, address) for address in settings.recipients]


def _strings(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _outcome(
    book: dict[str, Any], settings: SmtpSettings, refused: dict[str, str]
) -> PublishResult:
    msgid = str(book.get("message_id") or "")
    uncertain = _strings(book.get("uncertain"))
    if uncertain:
        unsure = [c for c in _copies(settings) if c.key in uncertain]
        raise UnknownOutcome(_evidence(book, settings, unsure))
    if refused:
        listed = "; ".join(f"{address} ({reply})" for address, reply in _first(refused.items()))
        sent = len(_strings(book.get("delivered")))
        raise PermanentError(
            f"The mail server refused {len(refused)} reader address(es): {listed}. "
            f"{sent} cop{'y' if sent == 1 else 'ies'} went out. Fix the addresses in the account "
            "settings, then retry: only the readers who did not get it are sent it."
        )
    return PublishResult(remote_id=msgid)


def _first(items: Any, count: int = 5) -> Iterator[Any]:
    for number, item in enumerate(items):
        if number >= count:
            return
        yield item


def _evidence(book: dict[str, Any], settings: SmtpSettings, unsure: list[_Copy]) -> str:
    when = book.get("in_flight_at")
    moment = (
        datetime.fromtimestamp(float(when), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        if isinstance(when, int | float)
        else "during the last attempt"
    )
    server = str(book.get("server") or settings.server.name)
    who = ", ".join(copy.who for copy in _first(unsure, 3))
    if len(unsure) > 3:
        who += f" and {len(unsure) - 3} more"
    return (
        f"The connection to the mail server {server} was lost at {moment}, after the e-mail "
        f"(Message-ID {book.get('message_id', '?')}) to {who} was handed over and before the "
        "server confirmed it. E-mail gives no way to ask whether it arrived: check the "
        "recipient's inbox or your provider's sent log, then mark it sent or send it again."
    )
