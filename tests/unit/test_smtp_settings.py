"""The SMTP channel without a server: what settings it accepts (and the words it refuses others
with), what the composer's preview shows, and how a post becomes a MIME message."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from PIL import Image as PILImage

from staffetta.channels.email_render import subject_of
from staffetta.channels.smtp import SmtpChannel, parse_recipients, parse_settings
from staffetta.channels.smtp_message import (
    InlineImage,
    addressed,
    build_message,
    content_id,
    message_id,
)
from staffetta.channels.smtp_session import _dot_stuffed
from staffetta.core.channel import Fix
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Image, Post

BASE = {
    "host": "smtp.example.org",
    "from_address": "Jane Doe <jane@example.org>",
    "recipients": "ann@example.net",
}


def account(**settings: str) -> Account:
    return Account("smtp-1", "smtp", "Jane's letter", {**BASE, **settings})


# --- settings -------------------------------------------------------------------------------------


def test_defaults_are_starttls_on_587_one_copy_per_reader() -> None:
    settings = parse_settings(account())
    assert settings.server.host == "smtp.example.org"
    assert settings.server.security == "starttls"
    assert settings.server.port == 587
    assert settings.mode == "separately"
    assert settings.sender == "Jane Doe <jane@example.org>"
    assert settings.to_address == "jane@example.org"


def test_tls_defaults_to_465_and_a_port_can_be_chosen() -> None:
    assert parse_settings(account(security="TLS")).server.port == 465
    assert parse_settings(account(port="2525")).server.port == 2525


@pytest.mark.parametrize("host", ["smtp.example.org", "192.0.2.1", "mail"])
def test_plain_text_is_refused_except_for_this_computer(host: str) -> None:
    with pytest.raises(InputError, match="unencrypted"):
        parse_settings(account(host=host, security="none"))
    assert parse_settings(account(host="127.0.0.1", security="none")).server.port == 25
    assert parse_settings(account(host="localhost", security="none")).server.security == "none"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"host": ""}, "Enter your provider's mail"),
        ({"host": "https://smtp.example.org"}, "is not a server name"),
        ({"security": "ssl3"}, "starttls, tls or none"),
        ({"port": "http"}, "between 1 and 65535"),
        ({"port": "70000"}, "between 1 and 65535"),
        ({"from_address": "jane"}, "not a complete e-mail address"),
        ({"recipients": ""}, "at least one reader"),
        ({"recipients": "ann@example.net, bob"}, "“bob” is not a complete"),
        ({"recipients_mode": "cc"}, "separately or bcc"),
        ({"list_unsubscribe": "example.org/unsubscribe"}, "mailto: or https://"),
        ({"recipients": "zoë@example.net"}, "outside ASCII"),
    ],
)
def test_unusable_settings_say_what_to_change(changes: dict[str, str], words: str) -> None:
    with pytest.raises(InputError, match=words):
        parse_settings(account(**changes))


def test_readers_separated_any_way_without_duplicates_and_idn_domains() -> None:
    assert parse_recipients("Ann <ann@example.net>; bob@Example.NET\nANN@example.net,,") == (
        "ann@example.net",
        "bob@example.net",
    )
    assert parse_recipients("ann@bücher.example") == ("ann@xn--bcher-kva.example",)


# --- preview --------------------------------------------------------------------------------------


def test_preview_is_the_subject_and_the_body_as_readers_see_it(tmp_path: Path) -> None:
    picture = tmp_path / "a.png"
    PILImage.new("RGB", (40, 30), (1, 2, 3)).save(picture)
    post = Post(
        title="Monthly notes",
        body="## Hello\n\nSome *news*.",
        images=(Image(str(picture), alt=""),),
    )
    preview = SmtpChannel().preview(post, account())
    assert preview.title == "Monthly notes"
    assert "<h2>Hello</h2>" in preview.html
    assert "<em>news</em>" in preview.html
    assert preview.handle == "jane@example.org"
    assert preview.images == post.images
    (alt,) = preview.problems
    assert alt.code == "missing_alt"
    assert alt.fix is Fix.ADD_ALT
    assert not preview.blocking


def test_preview_blocks_without_a_subject_or_with_unusable_settings() -> None:
    preview = SmtpChannel().preview(Post(body="No title"), account(recipients=""))
    codes = {p.code: p for p in preview.problems}
    assert codes["no_subject"].blocking
    assert codes["settings"].blocking
    assert "at least one reader" in codes["settings"].message


# --- the message ----------------------------------------------------------------------------------


def test_message_id_is_fixed_by_the_delivery_and_the_senders_domain() -> None:
    first = message_id("key-1", "jane@example.org")
    assert first == message_id("key-1", "jane@example.org")
    assert first != message_id("key-2", "jane@example.org")
    assert first.endswith(".staffetta@example.org>")


def test_message_structure_headers_and_copies(tmp_path: Path) -> None:
    image = InlineImage(
        b"GIF89a-not-really", "image/gif", content_id("k", 1, "jane@example.org"), "Alt", "a.gif"
    )
    message = build_message(
        subject="Ünïcode & <tags>",
        text="Body with [a link](https://example.org).",
        images=[image],
        sender="Jane Doe <jane@example.org>",
        msgid="<abc@example.org>",
        date=1_700_000_000.0,
        tags=("one", "two words"),
    )
    raw = addressed(message, "ann@example.net")
    assert b"\r\n" in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "Ünïcode & <tags>"
    assert parsed["To"] == "ann@example.net"
    assert parsed["Date"] == "Tue, 14 Nov 2023 22:13:20 +0000"
    assert parsed["Keywords"] == "one, two words"
    assert parsed["List-Unsubscribe"] is None
    types = [part.get_content_type() for part in parsed.walk()]
    assert types == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/gif",
    ]
    html = parsed.get_body(preferencelist=("html",))
    assert html is not None
    assert f'src="cid:{image.cid}" alt="Alt"' in html.get_content()
    again = email.message_from_bytes(addressed(message, "bob@example.net"))
    assert again["To"] == "bob@example.net"
    assert again["Message-ID"] == "<abc@example.org>"


def test_a_title_with_line_breaks_cannot_inject_headers() -> None:
    subject = subject_of(Post(title="Hi\r\nBcc: all@example.net\n", body="x"))
    assert subject == "Hi Bcc: all@example.net"
    message = build_message(
        subject=subject,
        text="x",
        images=[],
        sender="jane@example.org",
        msgid="<a@example.org>",
        date=0.0,
    )
    parsed = email.message_from_bytes(addressed(message, "ann@example.net"))
    assert parsed["Bcc"] is None


def test_dot_stuffing_and_the_end_mark() -> None:
    assert _dot_stuffed(b"a\n.\n..b\r\nc") == b"a\r\n..\r\n...b\r\nc\r\n.\r\n"
