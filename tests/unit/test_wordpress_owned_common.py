"""The helpers every owned channel shares (channels/owned_common.py): slugs fixed at enqueue, the
body as readers see it with its images, site addresses, and the reader's preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image as PILImage

from staffetta.channels.owned_common import (
    OwnedPreviewer,
    body_html,
    delivery_slug,
    normalise_site_url,
)
from staffetta.core.channel import Fix
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Image, Post


def test_slug_is_the_same_for_the_same_delivery_and_differs_between_deliveries() -> None:
    post = Post(body="Body", title="Caffè e cornetto, alle 7!")
    first = delivery_slug(post, "key-1")
    assert first == delivery_slug(post, "key-1")
    assert first.startswith("caffe-e-cornetto-alle-7-")
    assert delivery_slug(post, "key-2") != first


def test_slug_is_ascii_even_for_other_scripts_and_empty_titles() -> None:
    assert delivery_slug(Post(body="", title="日本語のタイトル"), "k").startswith("post-")
    slug = delivery_slug(Post(body="Hello wide world, this is the body"), "k")
    assert slug.startswith("hello-wide-world-this-is-the-body-")
    assert slug.isascii()


def test_body_html_renders_markdown_and_appends_images_with_escaped_alt() -> None:
    html = body_html("## Title\n\nSome *emphasis* and [a link](https://example.org).", [
        ("https://example.org/a.jpg", 'A "quoted" <tag>'),
    ])  # fmt: skip
    assert "<h2>Title</h2>" in html
    assert "<em>emphasis</em>" in html
    assert '<a href="https://example.org">a link</a>' in html
    assert html.index("</p>") < html.index("<figure>")
    assert 'alt="A &quot;quoted&quot; &lt;tag&gt;"' in html


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.org", "https://example.org"),
        ("https://Example.org/blog/", "https://example.org/blog"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://localhost", "http://localhost"),
    ],
)
def test_site_urls_are_normalised(raw: str, expected: str) -> None:
    assert normalise_site_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "Enter your"),
        ("http://example.org", "must be reached over https"),
        ("ftp://example.org", "not a web address"),
        ("https://me@example.org", "user name"),
        ("https://example.org/?p=1", "without"),
        ("intranet", "not a complete server name"),
    ],
)
def test_bad_site_urls_say_why(raw: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        normalise_site_url(raw)


def test_preview_shows_title_rendered_body_and_warns_about_missing_alt(tmp_path: Path) -> None:
    picture = tmp_path / "a.png"
    PILImage.new("RGB", (10, 10)).save(picture)
    broken = tmp_path / "b.png"
    broken.write_bytes(b"not an image")
    post = Post(
        body="**Bold** words",
        title="My title",
        images=(Image(str(picture), alt=""), Image(str(broken), alt="fine")),
    )
    account = Account(id="blog-1", channel="wordpress", name="Blog")
    preview = OwnedPreviewer().preview("wordpress", post, account, "me@example.org")
    assert preview.title == "My title"
    assert "<strong>Bold</strong>" in preview.html
    assert preview.images == post.images
    codes = {(p.code, p.fix, p.blocking) for p in preview.problems}
    assert ("missing_alt", Fix.ADD_ALT, False) in codes
    assert any(code == "image_unusable" and blocking for code, _, blocking in codes)


def test_preview_of_an_empty_post_blocks() -> None:
    account = Account(id="blog-1", channel="wordpress", name="Blog")
    preview = OwnedPreviewer().preview("wordpress", Post(body="  "), account, "x")
    assert preview.blocking
    assert [p.code for p in preview.problems] == ["empty"]
