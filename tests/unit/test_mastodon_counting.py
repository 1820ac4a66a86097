"""Mastodon previews: counts checked by hand against Mastodon's rules, and the problems shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image as PILImage

from staffetta.channels.mastodon import MastodonChannel
from staffetta.core.channel import Fix, Preview
from staffetta.core.model import Account, Image, Post
from staffetta.core.text import SpanKind

CHANNEL = MastodonChannel()


def account(**settings: object) -> Account:
    base: dict[str, object] = {"instance_url": "mastodon.example", "handle": "@me@mastodon.example"}
    base.update(settings)
    return Account(id="acct-1", channel="mastodon", name="Me", settings=base)


def preview(body: str, acct: Account | None = None, **post: object) -> Preview:
    return CHANNEL.preview(Post(body=body, **post), acct or account())  # type: ignore[arg-type]


def codes(p: Preview) -> list[str]:
    return [problem.code for problem in p.problems]


def png(path: Path, size: tuple[int, int] = (40, 30)) -> str:
    PILImage.new("RGB", size, (200, 30, 30)).save(path, "PNG")
    return str(path)


# --- counting -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello world", 11),
        # "Read " (5) + any http(s) URL (23) + " now" (4)
        ("Read https://example.com/a/very/long/path/that/goes/on?x=1&y=2 now", 32),
        # a short URL still counts 23
        ("https://a.co", 23),
        # a remote mention counts as its local part: "Hi " (3) + "@alice" (6) + "!" (1)
        ("Hi @alice@remote.example.org!", 10),
        # a local mention counts as written
        ("Hi @alice!", 10),
        # a family emoji (ZWJ sequence) and e + combining acute are one grapheme each
        ("👨\u200d👩\u200d👧\u200d👦 e\u0301", 3),
        # hashtags count as written: "#" + "Staffetta" + " " + "rocks"
        ("#Staffetta rocks", 16),
    ],
)
def test_counts_match_mastodon(text: str, expected: int) -> None:
    p = preview(text)
    assert p.count == expected
    assert p.limit == 500
    assert p.unit == "characters"


def test_content_warning_is_counted() -> None:
    # "spoilers" (8) + "text" (4)
    assert preview("text", content_warning="spoilers").count == 12


def test_url_weight_comes_from_the_instance() -> None:
    p = preview("see https://example.com", account(characters_reserved_per_url=30))
    assert p.count == 4 + 30


def test_instance_limit_of_1000_from_settings() -> None:
    text = "a" * 600
    assert preview(text, account(max_characters=1000)).limit == 1000
    assert "too_long" not in codes(preview(text, account(max_characters=1000)))


def test_over_limit_blocks_and_offers_split_and_customise() -> None:
    p = preview("x" * 512)
    assert p.count == 512
    assert p.blocking
    too_long = next(problem for problem in p.problems if problem.code == "too_long")
    assert too_long.message == "512 / 500 characters — 12 over"
    assert too_long.blocking
    assert too_long.fix is Fix.SPLIT
    assert any(problem.fix is Fix.CUSTOMISE for problem in p.problems)


def test_exactly_at_the_limit_is_fine() -> None:
    p = preview("y" * 500)
    assert p.count == 500
    assert not p.problems


def test_override_text_is_what_counts() -> None:
    acct = account()
    p = CHANNEL.preview(Post(body="z" * 900, overrides={acct.id: "short"}), acct)
    assert p.count == 5
    assert p.parts[0].text == "short"
    assert not p.blocking


def test_spans_highlight_links_mentions_and_hashtags() -> None:
    text = "Hi @bob@social.example, see https://example.org #news (example.org is not a link)"
    spans = preview(text).parts[0].spans
    kinds = [(span.kind, text[span.start : span.end]) for span in spans]
    assert (SpanKind.MENTION, "@bob@social.example") in kinds
    assert (SpanKind.LINK, "https://example.org") in kinds
    assert (SpanKind.HASHTAG, "#news") in kinds
    assert all(text[s.start : s.end] != "example.org" for s in spans)


def test_handle_and_identity() -> None:
    p = preview("hi")
    assert p.handle == "@me@mastodon.example"
    assert p.account_name == "Me"
    assert p.channel == "mastodon"
    bare = Account("a2", "mastodon", "Ann", {"instance_url": "https://Social.Example/"})
    assert CHANNEL.handle(bare) == "@Ann@social.example"
    assert CHANNEL.endpoint(bare) == "https://social.example"


# --- problems -------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   \n\t "])
def test_empty_post_without_images_is_blocked(body: str) -> None:
    p = preview(body)
    assert codes(p) == ["empty"]
    assert p.blocking


def test_image_without_text_is_fine(tmp_path: Path) -> None:
    p = preview("", images=(Image(png(tmp_path / "a.png"), alt="A red square"),))
    assert not p.problems


def test_missing_alt_text_warns_without_blocking(tmp_path: Path) -> None:
    p = preview("look", images=(Image(png(tmp_path / "a.png")),))
    missing = [problem for problem in p.problems if problem.code == "missing_alt"]
    assert len(missing) == 1
    assert not missing[0].blocking
    assert missing[0].fix is Fix.ADD_ALT
    assert "Image 1" in missing[0].message
    assert not p.blocking


def test_too_many_images_is_blocked(tmp_path: Path) -> None:
    images = tuple(Image(png(tmp_path / f"{i}.png"), alt=f"picture {i}") for i in range(5))
    p = preview("five", images=images)
    assert codes(p) == ["too_many_images"]
    assert p.problems[0].fix is Fix.REMOVE_IMAGES
    assert p.blocking
    assert "4" in p.problems[0].message
    # The instance may allow more.
    assert not preview("five", account(max_media_attachments=6), images=images).problems


def test_image_over_the_instance_limits_will_be_resized(tmp_path: Path) -> None:
    image = Image(png(tmp_path / "big.png", (300, 200)), alt="wide")
    p = preview("big", account(image_matrix_limit=100 * 100), images=(image,))
    assert codes(p) == ["image_too_large"]
    assert p.problems[0].fix is Fix.RESIZE
    assert not p.blocking
    assert "resized" in p.problems[0].message


def test_unreadable_image_is_blocked(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n this is not really an image")
    p = preview("oops", images=(Image(str(broken), alt="x"),))
    assert codes(p) == ["image_unreadable"]
    assert p.blocking
    missing = preview("oops", images=(Image(str(tmp_path / "gone.png"), alt="x"),))
    assert codes(missing) == ["image_unreadable"]


def test_alt_text_over_the_description_limit_is_blocked(tmp_path: Path) -> None:
    image = Image(png(tmp_path / "a.png"), alt="d" * 1501)
    p = preview("alt", images=(image,))
    assert codes(p) == ["alt_too_long"]
    assert p.blocking
    assert not preview("alt", account(description_limit=2000), images=(image,)).problems


def test_limits_have_mastodon_defaults_and_follow_settings() -> None:
    limits = CHANNEL.limits(account())
    assert (limits.max_chars, limits.max_images, limits.max_alt_chars) == (500, 4, 1500)
    assert limits.max_image_bytes == 16 * 1024 * 1024
    assert limits.max_image_pixels == 33_177_600
    custom = CHANNEL.limits(account(max_characters=5000, image_size_limit=8_000_000))
    assert (custom.max_chars, custom.max_image_bytes) == (5000, 8_000_000)
    # Nonsense cached values fall back to the defaults instead of breaking previews.
    assert CHANNEL.limits(account(max_characters="lots", max_media_attachments=-1)).max_chars == 500


def test_huge_and_odd_text_never_crashes() -> None:
    text = ("🏳️‍🌈 مرحبا \u0000 \ud800 https://x.example/" * 3000)[:100_000]
    p = preview(text)
    assert p.count > 500
    assert p.blocking
