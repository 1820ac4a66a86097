"""How each platform prints a post's text in the previews: links, mentions, folding."""

from __future__ import annotations

import pytest

from staffetta.core.text import entities
from staffetta.ui.preview_text import (
    FOLD_CHARS,
    LinkStyle,
    display_url,
    fold_html,
    link_host,
    social_html,
)


@pytest.mark.parametrize(
    ("url", "style", "shown"),
    [
        # Mastodon: no scheme, no www., 30 characters then an ellipsis.
        ("https://www.example.org/a", LinkStyle.MASTODON, "example.org/a"),
        ("http://example.org/a", LinkStyle.MASTODON, "example.org/a"),
        (
            "https://example.org/2024/09/venice-morning-light",
            LinkStyle.MASTODON,
            "example.org/2024/09/venice-mor…",
        ),
        # Bluesky: host and path, the path cut to 13 characters and "..." past 15.
        ("https://bsky.app/profile/alice", LinkStyle.BLUESKY, "bsky.app/profile/alice"),
        (
            "https://www.example.org/2024/09/venice?ref=x",
            LinkStyle.BLUESKY,
            "www.example.org/2024/09/veni...",  # "/2024/09/veni" is 13 characters
        ),
        ("example.org", LinkStyle.BLUESKY, "example.org"),
        # Everyone else: as written.
        (
            "https://example.org/2024/09/venice",
            LinkStyle.AS_WRITTEN,
            "https://example.org/2024/09/venice",
        ),
    ],
)
def test_links_are_printed_the_platforms_way(url: str, style: LinkStyle, shown: str) -> None:
    assert display_url(url, style) == shown


def test_link_host_drops_www_and_survives_junk() -> None:
    assert link_host("https://www.example.org/a?b") == "example.org"
    assert link_host("example.org/path") == "example.org"
    assert link_host("http://[broken") == "http://[broken"


def test_social_html_escapes_text_and_colours_entities() -> None:
    text = "<b>hi</b> @ana@example.social & #tag https://example.org/x"
    html, folded = social_html(
        text, entities(text, require_scheme=True), "mastodon", "#123456", True
    )
    assert not folded
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "&amp;" in html
    assert '<span style="color:#123456">@ana</span>' in html
    assert '<span style="color:#123456">#tag</span>' in html
    assert '<span style="color:#123456">example.org/x</span>' in html


def test_a_long_text_folds_at_a_space_and_never_inside_an_entity() -> None:
    words = "word " * (FOLD_CHARS // 5 - 2)
    url = "https://example.org/" + "a" * 60
    text = words + url + " and more text after the link"
    html, folded = social_html(
        text, entities(text, require_scheme=True), "telegram", "#000000", True
    )
    assert folded
    assert html.endswith("…</div>")
    assert "example.org" not in html  # the link straddles the fold: it goes whole to the next page
    full, unfolded = social_html(text, entities(text), "telegram", "#000000", False)
    assert not unfolded
    assert url in full


def test_fold_html_cuts_after_a_whole_block() -> None:
    paragraphs = "".join(f"<p>Paragraph {n} {'x' * 200}</p>\n" for n in range(20))
    folded, cut = fold_html(paragraphs, 1000)
    assert cut
    assert folded.endswith("</p>\n<p>…</p>")
    assert folded.count("<p>") < 20
    short, cut = fold_html("<p>Short</p>\n", 1000)
    assert (short, cut) == ("<p>Short</p>\n", False)


def test_fold_html_cuts_one_long_paragraph_outside_tags() -> None:
    body = (
        "<p>" + " ".join(f'<a href="https://e.org/{n}">link {n}</a>' for n in range(200)) + "</p>"
    )
    folded, cut = fold_html(body, 1000)
    assert cut
    assert folded.endswith(" …")
    assert folded.count("<") == folded.count(">")  # no tag cut in half
