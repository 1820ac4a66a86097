"""A post as an e-mail message: MIME structure and headers.

The structure readers' mail programs expect::

    multipart/alternative
        text/plain            the Markdown as written, images as "[Image n: alt]"
        multipart/related
            text/html         the rendered body; <img src="cid:..." alt="..."> per image
            image/...         one inline part per image, with its Content-ID

``Message-ID`` is derived from the delivery's idempotency key and the sender's domain, and the
``Date`` is fixed at the first attempt (both checkpointed), so every resend of one delivery is the
same message — which lets receiving systems that deduplicate by ``Message-ID`` do so. Post tags go
to the ``Keywords`` header (RFC 5322 §3.6.5).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from staffetta.channels.email_render import Figure, html_body, html_document, text_body

# Lines of at most 78 characters, CRLF endings: what SMTP needs (RFC 5322 §2.1.1).
SMTP_POLICY = policy.SMTP


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image carried inside the message and shown where the HTML references ``cid``."""

    data: bytes
    mime: str
    cid: str  # without the angle brackets
    alt: str
    filename: str


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower() or "staffetta.invalid"


def message_id(idempotency_key: str, sender_address: str) -> str:
    """``<hash.staffetta@sender-domain>``: the same for every attempt of one delivery."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.staffetta@{domain_of(sender_address)}>"


def content_id(idempotency_key: str, number: int, sender_address: str) -> str:
    digest = hashlib.sha256(f"{idempotency_key}#image{number}".encode()).hexdigest()[:16]
    return f"image{number}.{digest}@{domain_of(sender_address)}"


def build_message(
    *,
    subject: str,
    text: str,
    images: Sequence[InlineImage],
    sender: str,
    msgid: str,
    date: float,
    link: str = "",
    tags: Sequence[str] = (),
    unsubscribe: str = "",
) -> EmailMessage:
    """The e-mail for one post. ``To`` is set per copy with :func:`addressed`."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = sender
    message["To"] = sender
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.fromtimestamp(date, tz=UTC))
    message["Message-ID"] = msgid
    keywords = [" ".join(tag.split()) for tag in tags if tag.strip()]
    if keywords:
        message["Keywords"] = ", ".join(keywords)
    if unsubscribe:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
    footer_text = f"Unsubscribe: {unsubscribe}" if unsubscribe else ""
    footer_html = (
        f'<a href="{_attribute(unsubscribe)}" style="color:#666">Unsubscribe</a>'
        if unsubscribe
        else ""
    )
    figures = [Figure(f"cid:{image.cid}", image.alt) for image in images]
    message.set_content(
        text_body(text, figures, link, footer_text),
        subtype="plain",
        charset="utf-8",
        cte="quoted-printable",
    )
    message.add_alternative(
        html_document(subject, html_body(text, figures, link), footer_html),
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )
    if images:
        html_part = message.get_body(preferencelist=("html",))
        assert html_part is not None
        for image in images:
            maintype, _, subtype = image.mime.partition("/")
            html_part.add_related(
                image.data,
                maintype,
                subtype,
                cid=f"<{image.cid}>",
                filename=image.filename,
                disposition="inline",
            )
    return message


def addressed(message: EmailMessage, to: str) -> bytes:
    """The message's bytes with ``To: to`` — one copy per reader, or one for the Bcc list."""
    del message["To"]
    message["To"] = to
    return message.as_bytes(policy=SMTP_POLICY)


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
