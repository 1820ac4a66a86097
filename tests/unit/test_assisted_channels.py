"""Assisted channels (WhatsApp Channels, personal Instagram): what the user is handed to paste,
and what the preview warns about before queueing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from staffetta.channels.assisted import InstagramAssistedChannel, WhatsAppChannel
from staffetta.channels.assisted_text import PLAIN, WHATSAPP, render
from staffetta.core.channel import Fix
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Image, Post

WA = WhatsAppChannel()
IG = InstagramAssistedChannel()
WA_ACCOUNT = Account("whatsapp-1", "whatsapp", "My channel")
IG_ACCOUNT = Account("instagram_assisted-1", "instagram_assisted", "Me on Instagram")


LINK = "https://example.org"
BLOCKS = "- a list item\n- #tag @name"


@pytest.mark.parametrize(
    ("markdown", "whatsapp", "plain"),
    [
        ("**bold** and *it*", "*bold* and _it_", "bold and it"),
        ("~~gone~~ `code`", "~gone~ ```code```", "gone code"),
        (f"[my site]({LINK})", f"my site ({LINK})", f"my site ({LINK})"),
        (f"[{LINK}]({LINK})", LINK, LINK),
        (f"bare {LINK}/a_b_c stays", f"bare {LINK}/a_b_c stays", f"bare {LINK}/a_b_c stays"),
        # Block syntax, tags and names are left exactly as written.
        (
            "- a list item\n- #tag @name",
            "- a list item\n- #tag @name",
            "- a list item\n- #tag @name",
        ),
        ("snake_case_name 2 * 3 * 4", "snake_case_name 2 * 3 * 4", "snake_case_name 2 * 3 * 4"),
        ("", "", ""),
    ],
)
def test_markdown_becomes_what_the_app_shows(markdown: str, whatsapp: str, plain: str) -> None:
    assert render(markdown, WHATSAPP) == whatsapp
    assert render(markdown, PLAIN) == plain


def test_whatsapp_handover_fills_the_share_page_with_the_text() -> None:
    post = Post(body="Hello **everyone**", link="https://example.org/post")
    handover = WA.handover(post, WA_ACCOUNT)
    assert handover.text == "Hello *everyone*\n\nhttps://example.org/post"
    assert handover.destination == "WhatsApp"
    assert handover.image == ""
    url = urlsplit(handover.open_url)
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/")
    assert parse_qs(url.query)["text"] == [handover.text]


def test_whatsapp_opens_the_channel_when_its_link_is_given() -> None:
    account = Account("w", "whatsapp", "W", {"open_url": "https://whatsapp.com/channel/0029Va"})
    post = Post(body="Hi", images=(Image("/data/media/a.jpg", "A cat"), Image("/data/b.jpg")))
    handover = WA.handover(post, account)
    assert handover.open_url == "https://whatsapp.com/channel/0029Va"
    assert handover.image == "/data/media/a.jpg"  # the first image, for the clipboard
    preview = WA.preview(post, account)
    assert [p.code for p in preview.problems] == ["assisted_images"]
    assert "add the other 1 in WhatsApp yourself" in preview.problems[0].message
    assert not preview.blocking


def test_the_link_is_not_repeated_when_the_text_has_it() -> None:
    post = Post(body="Read https://example.org/post today", link="https://example.org/post")
    assert WA.handover(post, WA_ACCOUNT).text == "Read https://example.org/post today"


def test_instagram_caption_gets_the_tags_and_needs_a_picture() -> None:
    post = Post(body="A walk by the sea #sea", tags=("sea", "travel", "two words"))
    preview = IG.preview(post, IG_ACCOUNT)
    assert preview.parts[0].text == "A walk by the sea #sea\n\n#travel"
    problem = next(p for p in preview.problems if p.code == "needs_image")
    assert problem.blocking
    assert problem.fix is Fix.ADD_IMAGE
    assert preview.limit == 2200


def test_instagram_refuses_what_instagram_refuses() -> None:
    image = (Image("/x.jpg", "alt"),)
    too_long = IG.preview(Post(body="é" * 2201, images=image), IG_ACCOUNT)
    assert [p.code for p in too_long.problems] == ["too_long"]
    assert too_long.problems[0].message == "2201 / 2200 characters — 1 over"
    tags = IG.preview(Post(body=" ".join(f"#t{n}x" for n in range(31)), images=image), IG_ACCOUNT)
    assert [p.code for p in tags.problems] == ["too_many_hashtags"]
    names = IG.preview(Post(body=" ".join(f"@u{n}" for n in range(21)), images=image), IG_ACCOUNT)
    assert [p.code for p in names.problems] == ["too_many_mentions"]
    fine = IG.preview(Post(body="Fine", images=image), IG_ACCOUNT)
    assert fine.problems == ()
    assert not fine.blocking


def test_the_status_check_address_is_checked() -> None:
    assert WA.endpoint(WA_ACCOUNT) == "https://web.whatsapp.com"
    off = Account("w", "whatsapp", "W", {"check_url": "off"})
    assert WA.check_url(off) == ""
    assert WA.endpoint(off) == "whatsapp"
    with pytest.raises(InputError, match="https://"):
        WA.check_url(Account("w", "whatsapp", "W", {"check_url": "http://example.org/"}))
    local = Account("w", "whatsapp", "W", {"check_url": "http://127.0.0.1:9/health"})
    assert WA.endpoint(local) == "http://127.0.0.1:9"


def test_nothing_is_ever_sent_so_nothing_needs_reconciling() -> None:
    assert WA.handover(Post(body=""), WA_ACCOUNT).text == ""
    assert WA.preview(Post(body=""), WA_ACCOUNT).blocking  # nothing to post at all
