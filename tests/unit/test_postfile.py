"""Reading posts from Markdown files, rendering Markdown and making slugs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from staffetta.core.errors import InputError
from staffetta.core.model import Image
from staffetta.core.postfile import read_post_file, render_html, slugify

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_full_front_matter_is_parsed(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "beach.png").write_bytes(PNG_1PX)
    (tmp_path / "boat.png").write_bytes(PNG_1PX)
    post_file = write(
        tmp_path / "post.md",
        """---
title: Una giornata al mare
tags: [travel, "#sea", 2024]
link: https://example.com/trip
cw: sunburn
schedule: 2024-07-01T09:30:00+02:00
images:
  - path: photos/beach.png
    alt: Waves on a sandy beach
  - boat.png
overrides:
  mastodon-1: Shorter text
  42: Numeric account id
---
Hello *world*.

Second paragraph.
""",
    )
    post = read_post_file(post_file)

    assert post.title == "Una giornata al mare"
    assert post.tags == ("travel", "sea", "2024")
    assert post.link == "https://example.com/trip"
    assert post.content_warning == "sunburn"
    expected = datetime(2024, 7, 1, 7, 30, tzinfo=UTC).timestamp()
    assert post.scheduled_at == expected
    assert post.images == (
        Image(
            path=str((tmp_path / "photos" / "beach.png").resolve()), alt="Waves on a sandy beach"
        ),
        Image(path=str((tmp_path / "boat.png").resolve()), alt=""),
    )
    assert post.overrides == {"mastodon-1": "Shorter text", "42": "Numeric account id"}
    assert post.body == "Hello *world*.\n\nSecond paragraph."
    assert post.text_for("mastodon-1") == "Shorter text"


def test_image_paths_are_relative_to_the_files_folder_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drafts = tmp_path / "drafts"
    (drafts / "img").mkdir(parents=True)
    (drafts / "img" / "a.png").write_bytes(PNG_1PX)
    write(drafts / "p.md", "---\nimages:\n  - img/a.png\n---\nbody\n")
    monkeypatch.chdir(tmp_path)  # a different working directory

    post = read_post_file(Path("drafts/p.md"))

    assert post.images[0].path == str((drafts / "img" / "a.png").resolve())


def test_plain_markdown_without_front_matter(tmp_path: Path) -> None:
    post = read_post_file(write(tmp_path / "p.md", "\ufeffJust text, no settings.\n"))
    assert post.body == "Just text, no settings."
    assert post.title == ""
    assert post.scheduled_at is None


def test_tags_as_comma_separated_text(tmp_path: Path) -> None:
    post = read_post_file(write(tmp_path / "p.md", "---\ntags: one, two ,, three\n---\nb\n"))
    assert post.tags == ("one", "two", "three")


def test_content_warning_long_key(tmp_path: Path) -> None:
    post = read_post_file(write(tmp_path / "p.md", "---\ncontent_warning: spoilers\n---\nb\n"))
    assert post.content_warning == "spoilers"


@pytest.mark.parametrize(
    "value",
    ["2024-07-01T09:30:00", "2024-07-01 09:30", "'2024-07-01T09:30'"],
)
def test_naive_schedule_is_local_time(tmp_path: Path, value: str) -> None:
    post = read_post_file(write(tmp_path / "p.md", f"---\nschedule: {value}\n---\nb\n"))
    assert post.scheduled_at == datetime(2024, 7, 1, 9, 30).timestamp()  # naive = local


def test_schedule_as_quoted_string_with_offset_and_z(tmp_path: Path) -> None:
    one = read_post_file(
        write(tmp_path / "a.md", "---\nschedule: '2024-07-01T09:30+05:30'\n---\nb")
    )
    two = read_post_file(write(tmp_path / "b.md", "---\nschedule: 2024-07-01T04:00:00Z\n---\nb"))
    want = datetime(2024, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert one.scheduled_at == want.timestamp()
    assert two.scheduled_at == want.timestamp()


def test_link_without_scheme_gets_https(tmp_path: Path) -> None:
    post = read_post_file(write(tmp_path / "p.md", "---\nlink: example.com/page\n---\nb\n"))
    assert post.link == "https://example.com/page"


# --- errors: always an InputError naming the file, the key and what is expected -----------------


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path / "bad.md", text)
    with pytest.raises(InputError) as info:
        read_post_file(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_invalid_yaml(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\ntitle: ok\nlink: a: b\n---\nbody\n")
    assert "not valid YAML" in message
    assert "line 3" in message  # counted in the file, the opening --- is line 1


def test_unclosed_front_matter(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\ntitle: never closed\nbody\n")
    assert "never closed" in message
    assert "---" in message


def test_front_matter_that_is_not_a_mapping(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\n- a\n- b\n---\nbody\n")
    assert "key: value" in message
    assert "list" in message


@pytest.mark.parametrize(
    "value", ["next tuesday", "2024-13-45T10:00:00", "2024-07-01", "[2024]", "true"]
)
def test_bad_schedule(tmp_path: Path, value: str) -> None:
    message = error_for(tmp_path, f"---\nschedule: {value}\n---\nbody\n")
    assert "'schedule'" in message
    assert "2024-07-01T09:30:00+02:00" in message  # shows the expected format


def test_missing_image(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\nimages:\n  - path: nowhere.jpg\n    alt: x\n---\nbody\n")
    assert "'images' item 1" in message
    assert "nowhere.jpg" in message
    assert "not found" in message
    assert str(tmp_path) in message  # says which folder paths are relative to


def test_image_item_without_path(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\nimages:\n  - alt: only alt\n---\nbody\n")
    assert "'images' item 1" in message
    assert "'path:'" in message


def test_images_not_a_list(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\nimages: photo.jpg\n---\nbody\n")
    assert "'images' should be a list" in message


@pytest.mark.parametrize(
    ("value", "kind"), [("{a: 1}", "mapping"), ("3", "number"), ("true", "true/false")]
)
def test_tags_of_the_wrong_type(tmp_path: Path, value: str, kind: str) -> None:
    message = error_for(tmp_path, f"---\ntags: {value}\n---\nbody\n")
    assert "'tags' should be a list" in message
    assert kind in message


def test_tag_item_of_the_wrong_type(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\ntags: [ok, {nested: x}]\n---\nbody\n")
    assert "'tags' item 2" in message


def test_title_of_the_wrong_type(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\ntitle: [a, b]\n---\nbody\n")
    assert "'title' should be a piece of text" in message


def test_overrides_wrong_type(tmp_path: Path) -> None:
    assert "'overrides' should map" in error_for(tmp_path, "---\noverrides: [a]\n---\nb\n")
    message = error_for(tmp_path, "---\noverrides:\n  acc: [a]\n---\nb\n")
    assert "account acc" in message


def test_bad_link(tmp_path: Path) -> None:
    message = error_for(tmp_path, "---\nlink: javascript:alert(1)\n---\nb\n")
    assert "'link'" in message
    assert "https://" in message


def test_nothing_to_publish(tmp_path: Path) -> None:
    assert "nothing to publish" in error_for(tmp_path, "---\ntags: [a]\n---\n\n")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("caff\xe8".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_post_file(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_post_file(tmp_path / "nope.md")
    with pytest.raises(InputError, match="is a folder"):
        read_post_file(tmp_path)


def test_toml_front_matter_is_refused_clearly(tmp_path: Path) -> None:
    assert "TOML" in error_for(tmp_path, "+++\ntitle = 'x'\n+++\nbody\n")


# --- render_html --------------------------------------------------------------------------------


def test_render_html_supported_subset() -> None:
    html = render_html("Hello *you* and **all**, see [docs](https://example.com).\n\n- a\n- b\n")
    assert "<em>you</em>" in html
    assert "<strong>all</strong>" in html
    assert '<a href="https://example.com">docs</a>' in html
    assert "<ul>\n<li>a</li>\n<li>b</li>\n</ul>" in html


def test_render_html_linkifies_bare_urls() -> None:
    html = render_html("go to https://example.com/x?y=1 now")
    assert '<a href="https://example.com/x?y=1">https://example.com/x?y=1</a>' in html


def test_render_html_never_passes_user_html_or_script_links() -> None:
    html = render_html(
        '<script>alert(1)</script> <img src=x onerror="a()"> [x](javascript:alert(1))'
    )
    assert "<script>" not in html
    assert "<img" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;" in html


def test_render_html_survives_hostile_text() -> None:
    text = "\x00\u202e👩‍👩‍👧 *unclosed [link](" + "x" * 100_000
    assert render_html(text).startswith("<p>")


# --- slugify ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("Perché l'Italia è così bella", "perche-l-italia-e-cosi-bella"),
        ("Straße in Ærø", "strasse-in-aero"),
        ("東京タワーへ行きました", "東京タワーへ行きました"),
        ("が", "が"),  # the dakuten is part of the letter, not an accent to strip
        ("Привет, мир", "привет-мир"),
        ("हिन्दी भाषा", "हिन्दी-भाषा"),
        ("Caffè ☕ e 🎉 festa", "caffe-e-festa"),
        ("Ｆｕｌｌ width", "full-width"),
        ("🎉🎉🎉", "post"),
        ("", "post"),
        ("  --  ", "post"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slugify_cuts_at_a_word_boundary() -> None:
    slug = slugify("alpha beta gamma delta epsilon", max_len=20)
    assert slug == "alpha-beta-gamma"
    assert len(slugify("x" * 500)) == 60


def test_slugify_limits_bytes_for_filenames() -> None:
    slug = slugify("𠀀" * 60)  # 4 UTF-8 bytes each
    assert 0 < len(slug.encode()) <= 180
