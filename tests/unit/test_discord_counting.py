"""Discord previews (2000 code points, alt text, files) and the webhook URL: a secret that is
parsed strictly and never repeated, in a message or in a log line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from staffetta.channels import discord_api
from staffetta.channels.discord import DiscordChannel, discord_length
from staffetta.core.channel import Fix, Preview
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Image, Post

CHANNEL = DiscordChannel()
ACCOUNT = Account("discord-1", "discord", "Hook", {"handle": "#1234"})
TOKEN = "Xy9_" + "a1B2c3D4e5" * 6  # shaped like a webhook token
EMOJI = "😀"


def preview(body: str, account: Account = ACCOUNT, **post: Any) -> Preview:
    return CHANNEL.preview(Post(body=body, **post), account)


def codes(p: Preview) -> list[str]:
    return [problem.code for problem in p.problems]


def png(path: Path, size: tuple[int, int] = (40, 30)) -> str:
    PILImage.new("RGB", size, (240, 120, 20)).save(path, "PNG")
    return str(path)


# --- counting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("x" * 2000, 2000),
        (EMOJI * 2000, 2000),  # code points, as Discord's Python API counts: not UTF-16 units
        ("**bold** [link](https://example.org)", 36),  # Markdown is Discord's too: sent as written
        ("  padded  \n", 6),  # trimmed like the content Discord stores
        ("👨\u200d👩\u200d👧", 5),
    ],
)
def test_counts_are_code_points_of_the_content(body: str, count: int) -> None:
    p = preview(body)
    assert p.count == count == discord_length(body)
    assert (p.limit, p.unit) == (2000, "characters")
    assert not p.blocking


@pytest.mark.parametrize("body", ["x" * 2001, EMOJI * 2001])
def test_one_over_blocks_with_a_fix(body: str) -> None:
    p = preview(body)
    (problem,) = p.problems
    assert (problem.code, problem.blocking, problem.fix) == ("too_long", True, Fix.CUSTOMISE)
    assert "2001 / 2000" in problem.message


def test_links_are_highlighted() -> None:
    p = preview("New post: https://example.org/a and example.net")
    text = p.parts[0].text
    assert [text[s.start : s.end] for s in p.parts[0].spans] == [
        "https://example.org/a",
        "example.net",
    ]


def test_image_and_alt_text_problems(tmp_path: Path) -> None:
    described = Image(png(tmp_path / "a.png"), alt="An orange square")
    bare = Image(png(tmp_path / "b.png"))
    wordy = Image(png(tmp_path / "c.png"), alt="w" * 1025)
    p = preview("Pictures", images=(described, bare, wordy))
    assert codes(p) == ["missing_alt", "alt_too_long"]
    missing, too_long = p.problems
    assert (missing.blocking, missing.fix) == (False, Fix.ADD_ALT)
    assert (too_long.blocking, too_long.fix) == (True, Fix.ADD_ALT)
    assert "1025 characters" in too_long.message
    assert "1024" in too_long.message
    eleven = tuple(Image(png(tmp_path / f"{n}.png"), alt="x") for n in range(11))
    assert codes(preview("Many", images=eleven)) == ["too_many_images"]


def test_empty_unless_an_image_or_a_link_card() -> None:
    assert codes(preview(" ")) == ["empty"]
    assert codes(preview("", link="https://example.org")) == []
    cards_off = Account("discord-1", "discord", "Hook", {"link_card": "off"})
    assert codes(preview("", cards_off, link="https://example.org")) == ["empty"]


# --- the webhook URL ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "origin", "thread"),
    [
        (f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}", "https://discord.com", ""),
        (f"https://discordapp.com/api/webhooks/1/{TOKEN}/", "https://discord.com", ""),
        (f"https://canary.discord.com/api/v10/webhooks/1/{TOKEN}", "https://discord.com", ""),
        (
            f" https://ptb.discord.com/api/webhooks/1/{TOKEN}?thread_id=42 ",
            "https://discord.com",
            "42",
        ),
        (f"http://127.0.0.1:8123/api/webhooks/1/{TOKEN}", "http://127.0.0.1:8123", ""),
    ],
)
def test_webhook_urls(url: str, origin: str, thread: str) -> None:
    webhook = discord_api.parse_webhook_url(url)
    assert (webhook.origin, webhook.token, webhook.thread_id) == (origin, TOKEN, thread)
    assert webhook.url.endswith(f"/api/v10/webhooks/{webhook.id}/{TOKEN}")
    assert TOKEN not in repr(webhook)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("", "Paste the webhook URL"),
        (f"https://evil.example/api/webhooks/1/{TOKEN}", "not a Discord webhook URL"),
        (f"http://discord.com/api/webhooks/1/{TOKEN}", "starts with https://"),
        (f"http://192.168.1.5/api/webhooks/1/{TOKEN}", "not a Discord webhook URL"),
        ("https://discord.com/api/webhooks/1", "not a complete Discord webhook URL"),
        (f"https://discord.com/channels/1/{TOKEN}", "not a complete Discord webhook URL"),
        (f"https://discord.com/api/webhooks/1/{TOKEN}?thread_id=x", "thread_id"),
    ],
)
def test_bad_webhook_urls_are_refused_without_repeating_them(url: str, why: str) -> None:
    with pytest.raises(InputError, match=why) as caught:
        discord_api.parse_webhook_url(url)
    assert TOKEN not in str(caught.value)


def test_server_setting_only_takes_discord_or_this_computer() -> None:
    assert discord_api.normalise_server("") == "https://discord.com"
    assert discord_api.normalise_server("discordapp.com") == "https://discord.com"
    assert discord_api.normalise_server("http://127.0.0.1:9000/") == "http://127.0.0.1:9000"
    with pytest.raises(InputError, match="Leave the server empty"):
        discord_api.normalise_server("https://example.org")


def test_tokens_are_blanked_in_text_and_in_httpx_log_records(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"https://discord.com/api/v10/webhooks/123/{TOKEN}?wait=true"
    assert TOKEN not in discord_api.scrub(f"failed: {url}")
    assert "/webhooks/123/<token>?wait=true" in discord_api.scrub(url)
    DiscordChannel()  # installs the filter, as load_channels() does
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s"', "POST", url, "HTTP/1.1 200 OK")
    (record,) = caplog.records
    assert TOKEN not in record.getMessage()
    assert "/webhooks/123/<token>" in record.getMessage()
