"""The Ghost channel's settings and preview (channels/ghost.py): the site's address, the publish
and email choices, and what the reader will see — with the limits Ghost's schema sets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.ghost import GhostChannel, plan_of
from staffetta.core.channel import Fix
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Image, Post

CHANNEL = GhostChannel()


def account(**settings: str) -> Account:
    return Account("ghost-1", "ghost", "Blog", {"site_url": "https://blog.example.org", **settings})


def png(path: Path) -> str:
    PILImage.new("RGB", (40, 30), (10, 20, 30)).save(path, "PNG")
    return str(path)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("blog.example.org", "https://blog.example.org"),
        ("https://blog.example.org/ghost/", "https://blog.example.org"),  # the admin's address
        ("https://example.org/blog/", "https://example.org/blog"),
        ("http://127.0.0.1:2368", "http://127.0.0.1:2368"),
    ],
)
def test_the_site_address_is_normalised(raw: str, expected: str) -> None:
    assert CHANNEL.site_url(account(site_url=raw)) == expected


def test_plain_http_to_another_computer_is_refused() -> None:
    with pytest.raises(InputError, match="https://"):
        CHANNEL.site_url(account(site_url="http://blog.example.org"))


def test_the_account_fields_make_the_email_an_explicit_choice() -> None:
    fields = {f.name: f for f in CHANNEL.fields}
    assert fields["admin_api_key"].secret
    assert fields["newsletter"].default == ""  # never email unless the user names a newsletter
    assert "cannot be unsent" in fields["newsletter"].help
    assert fields["publish_status"].default == "published"
    assert not any(f.secret for n, f in fields.items() if n != "admin_api_key")


def test_plans_follow_the_settings() -> None:
    assert plan_of(account()) == plan_of(account(publish_status="publish"))
    plan = plan_of(account(newsletter=" weekly ", email_segment="status:-free"))
    assert (plan.status, plan.newsletter, plan.email_segment) == (
        "published",
        "weekly",
        "status:-free",
    )
    assert plan_of(account(newsletter="weekly")).email_segment == "all"
    assert plan_of(account(publish_status="draft")).newsletter == ""


def test_a_newsletter_with_drafts_is_refused_since_ghost_emails_only_on_publish() -> None:
    with pytest.raises(InputError, match="only when it is published"):
        plan_of(account(publish_status="draft", newsletter="weekly"))
    with pytest.raises(InputError, match="published or draft"):
        plan_of(account(publish_status="later"))


def test_the_preview_shows_title_rendered_body_images_and_the_coming_email(
    tmp_path: Path,
) -> None:
    post = Post(
        body="## Hello\n\nSome **bold** [link](https://example.org).",
        title="A title",
        images=(Image(png(tmp_path / "a.png"), alt="A square"),),
    )
    preview = CHANNEL.preview(post, account(newsletter="weekly", email_segment="status:free"))
    assert preview.title == "A title"
    assert "<h2>Hello</h2>" in preview.html
    assert '<a href="https://example.org">link</a>' in preview.html
    assert preview.images == post.images
    assert preview.handle == "blog.example.org"
    [email] = [p for p in preview.problems if p.code == "newsletter"]
    assert not email.blocking
    assert "“weekly” (free members)" in email.message
    assert "cannot be unsent" in email.message
    assert not preview.blocking
    quiet = CHANNEL.preview(post, account())
    assert [p.code for p in quiet.problems] == []


def test_the_preview_flags_what_ghost_would_refuse(tmp_path: Path) -> None:
    post = Post(
        body="Body",
        title="T" * 256,
        images=(Image(png(tmp_path / "a.png"), alt="x" * 192), Image(png(tmp_path / "b.png"))),
        tags=("t" * 192,),
    )
    preview = CHANNEL.preview(post, account())
    codes = {p.code: p for p in preview.problems}
    assert codes["title_too_long"].blocking
    assert codes["alt_too_long"].fix is Fix.ADD_ALT
    assert "feature image" in codes["alt_too_long"].message
    assert codes["tag_too_long"].blocking
    assert codes["missing_alt"].fix is Fix.ADD_ALT  # image 2
    assert not codes["missing_alt"].blocking


def test_a_post_without_title_warns_and_bad_settings_block(tmp_path: Path) -> None:
    preview = CHANNEL.preview(Post(body="Just text"), account(publish_status="draft"))
    [warning] = preview.problems
    assert warning.code == "no_title"
    assert not warning.blocking
    broken = CHANNEL.preview(Post(body="x", title="t"), account(site_url="http://example.org"))
    assert broken.blocking
    assert broken.problems[0].code == "settings"


def test_connecting_to_an_address_that_redirects_the_api_says_where_to_point() -> None:
    def redirecting(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            301, headers={"Location": "https://example.ghost.io/ghost/api/admin/site/"}
        )

    async def verify() -> str:
        async with httpx.AsyncClient(transport=httpx.MockTransport(redirecting)) as http:
            return await CHANNEL.verify(http, account(), "6756f4e1a2b3c4d5e6f70809:" + "a1" * 32)

    with pytest.raises(InputError, match=r"sends Ghost's API to https://example\.ghost\.io/"):
        asyncio.run(verify())


def test_the_feature_alt_limit_counts_the_alt_text_as_it_is_sent(tmp_path: Path) -> None:
    image = png(tmp_path / "a.png")
    typed_wide = "word  " * 33  # 198 characters typed, 164 once spaces are collapsed: fits
    too_long = "word " * 38 + "\n\nend"  # 195 typed, 193 sent: over 191

    def alt_problems(alt: str) -> list[str]:
        post = Post(body="b", title="t", images=(Image(image, alt),))
        return [
            p.message for p in CHANNEL.preview(post, account()).problems if p.code == "alt_too_long"
        ]

    assert alt_problems(typed_wide) == []
    assert alt_problems(too_long) == [
        "Image 1 becomes the feature image, whose alt text Ghost keeps to 191 characters; "
        "this one has 193."
    ]
