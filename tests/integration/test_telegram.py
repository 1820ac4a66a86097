"""The Telegram channel against the sandbox Bot API over real HTTP (and, where a peer's failure
cannot be produced by the sandbox, against ``httpx.MockTransport``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.telegram import TelegramChannel
from staffetta.core.channel import DeliveryContext, Outcome, PublishResult
from staffetta.core.clock import SystemClock
from staffetta.core.errors import (
    AuthError,
    InputError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.sandbox import SandboxServer

NAME = "telegram"
CHANNEL = TelegramChannel()
EMOJI = "😀"


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(platforms=[NAME]) as server:
        yield server


def make_account(sb: SandboxServer, **settings: Any) -> Account:
    base = {"channel": "@staffetta_sandbox", "api_url": sb.platform_url(NAME)}
    return Account("telegram-1", "telegram", "Sandbox channel", {**base, **settings})


def png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> str:
    PILImage.new("RGB", size, colour).save(path, "PNG")
    return str(path)


def utf16_slice(text: str, offset: int, length: int) -> str:
    return text.encode("utf-16-le")[2 * offset : 2 * (offset + length)].decode("utf-16-le")


def marked(message: dict[str, Any], key: str = "entities") -> list[tuple[str, str, str]]:
    """What each entity of a stored message covers, read as Telegram reads it (UTF-16)."""
    text = message.get("text") or message.get("caption") or ""
    return [
        (e["type"], utf16_slice(text, e["offset"], e["length"]), e.get("url", ""))
        for e in message.get(key, [])
    ]


class Harness:
    """DeliveryContexts as the engine builds them, with the checkpoints they saved."""

    def __init__(self, sb: SandboxServer, post: Post, account: Account | None = None) -> None:
        self.sb = sb
        self.post = post
        self.account = account or make_account(sb)
        self.token = sb.issue_token(NAME)
        self.checkpoints: list[dict[str, Any]] = []
        self.on_checkpoint: Callable[[dict[str, Any]], None] = lambda _c: None
        self.delivery = Delivery(1, 1, self.account.id, State.SENDING, "key", 0.0, 0.0, 1)

    async def save(self, checkpoint: dict[str, Any]) -> None:
        self.checkpoints.append(dict(checkpoint))
        self.on_checkpoint(checkpoint)

    def ctx(self, http: httpx.AsyncClient, delivery: Delivery | None = None) -> DeliveryContext:
        delivery = delivery or self.delivery
        if self.checkpoints:
            delivery = replace(delivery, checkpoint=self.checkpoints[-1])
        return DeliveryContext(
            self.post, self.account, delivery, self.token, http, SystemClock(), self.save
        )

    async def publish(self) -> PublishResult:
        async with httpx.AsyncClient(timeout=10.0) as http:
            return await CHANNEL.publish(self.ctx(http))

    def sends(self) -> list[str]:
        return [
            r["path"].rsplit("/", 1)[1]
            for r in self.sb.requests(NAME)
            if r["path"].rsplit("/", 1)[1].startswith("send")
        ]


# --- connecting ---------------------------------------------------------------------------------


def test_verify_checks_token_channel_and_admin_rights(sb: SandboxServer) -> None:
    token = sb.issue_token(NAME)

    async def verify(account: Account, secret: str | None = token) -> str:
        async with httpx.AsyncClient(timeout=5.0) as http:
            return await CHANNEL.verify(http, account, secret)

    assert run(lambda: verify(make_account(sb))) == "@staffetta_sandbox"
    assert run(lambda: verify(make_account(sb, channel="-1001000000001"))) == "@staffetta_sandbox"
    with pytest.raises(InputError, match="chat not found") as missing:
        run(lambda: verify(make_account(sb, channel="@nobody_here")))
    assert "administrator" in str(missing.value)

    sb.configure(NAME, bot_is_admin=False)
    with pytest.raises(InputError, match="is not an administrator of @staffetta_sandbox"):
        run(lambda: verify(make_account(sb)))
    sb.configure(NAME, bot_is_admin=True, can_post=False)
    with pytest.raises(InputError, match="Post messages"):
        run(lambda: verify(make_account(sb)))

    sb.revoke_tokens(NAME)
    with pytest.raises(AuthError, match="Unauthorized") as refused:
        run(lambda: verify(make_account(sb)))
    assert "@BotFather" in str(refused.value)
    with pytest.raises(AuthError, match="does not look like one from @BotFather"):
        run(lambda: verify(make_account(sb), "not-a-token"))
    for bad in ("staffetta_sandbox!", "@ab", ""):
        with pytest.raises(InputError, match="is not a Telegram channel"):
            run(lambda bad=bad: verify(make_account(sb, channel=bad)))  # type: ignore[misc]


def test_plain_http_only_to_this_computer() -> None:
    account = Account("t", "telegram", "T", {"channel": "@x_chan", "api_url": "http://10.0.0.2"})
    with pytest.raises(InputError, match="unencrypted"):
        CHANNEL.api_url(account)
    assert CHANNEL.endpoint(Account("t", "telegram", "T", {"channel": "@x_chan"})) == (
        "https://api.telegram.org"
    )


def test_probe_needs_no_token_and_sees_outages(sb: SandboxServer) -> None:
    async def probe() -> None:
        async with httpx.AsyncClient(timeout=5.0) as http:
            await CHANNEL.probe(http, make_account(sb))

    run(probe)
    assert sb.requests(NAME)[-1]["path"] == "/"
    sb.set_fault(NAME, "503")
    with pytest.raises(TransientError, match="503"):
        run(probe)
    sb.set_fault(NAME, "down")
    with pytest.raises(TransientError, match="Could not reach Telegram"):
        run(probe)


# --- publishing ---------------------------------------------------------------------------------


def test_text_with_link_emoji_and_emphasis_reads_back_with_exact_utf16_entities(
    sb: SandboxServer,
) -> None:
    body = (
        f"{EMOJI} **Big news**: the _new_ site is up {EMOJI}👨\u200d👩\u200d👧\n\n"
        "Read [the announcement](https://example.org/news?id=1) or example.org/about. #launch"
    )
    harness = Harness(sb, Post(body=body, link="https://example.org/news?id=1"))
    result = run(harness.publish)

    (message,) = sb.posts(NAME)
    assert result.remote_id == str(message["message_id"])
    assert result.url == f"{sb.platform_url(NAME)}/staffetta_sandbox/{message['message_id']}"
    assert message["text"] == (
        f"{EMOJI} Big news: the new site is up {EMOJI}👨\u200d👩\u200d👧\n\n"
        "Read the announcement or example.org/about. #launch"
    )
    assert marked(message) == [
        ("bold", "Big news", ""),
        ("italic", "new", ""),
        ("text_link", "the announcement", "https://example.org/news?id=1"),
        ("text_link", "example.org/about", "https://example.org/about"),
    ]
    assert message["link_preview_options"] == {"url": "https://example.org/news?id=1"}
    assert harness.checkpoints[-1]["sent"] == [[message["message_id"]]]


def test_link_previews_can_be_switched_off(sb: SandboxServer) -> None:
    account = make_account(sb, link_preview="off")
    run(Harness(sb, Post(body="See https://example.org"), account).publish)
    (message,) = sb.posts(NAME)
    assert message["link_preview_options"] == {"is_disabled": True}
    assert marked(message) == [("text_link", "https://example.org", "https://example.org")]


def test_counts_at_the_limit_match_the_sandbox(sb: SandboxServer) -> None:
    exactly = Post(body=f"x **{EMOJI * 4094}**")
    assert CHANNEL.preview(exactly, make_account(sb)).count == 4096
    run(Harness(sb, exactly).publish)
    (message,) = sb.posts(NAME)
    assert len(message["text"]) == 4096
    assert message["entities"] == [{"type": "bold", "offset": 2, "length": 8188}]

    over = Post(body=EMOJI * 4097)
    assert CHANNEL.preview(over, make_account(sb)).blocking
    with pytest.raises(PermanentError, match="message is too long"):
        run(Harness(sb, over).publish)
    assert len(sb.posts(NAME)) == 1


def test_album_with_caption_on_the_first_photo(sb: SandboxServer, tmp_path: Path) -> None:
    images = (
        Image(png(tmp_path / "red.png", (200, 0, 0)), alt="A red square"),
        Image(png(tmp_path / "green.png", (0, 200, 0), (48, 64)), alt="A green square"),
    )
    harness = Harness(sb, Post(body=f"Two colours {EMOJI} **today**", images=images))
    result = run(harness.publish)

    first, second = sb.posts(NAME)
    assert first["media_group_id"] == second["media_group_id"]
    assert first["caption"] == f"Two colours {EMOJI} today"
    assert marked(first, "caption_entities") == [("bold", "today", "")]
    assert "caption" not in second
    assert [(u["width"], u["height"]) for u in sb.uploads(NAME)] == [(64, 48), (48, 64)]
    assert result.remote_id == str(first["message_id"])
    assert harness.sends() == ["sendMediaGroup"]


def test_a_long_text_follows_the_photo_as_its_own_message(
    sb: SandboxServer, tmp_path: Path
) -> None:
    body = "**Long** " + "y" * 1100
    images = (Image(png(tmp_path / "a.png", (0, 0, 200))),)
    harness = Harness(sb, Post(body=body, images=images))
    run(harness.publish)
    photo, text = sb.posts(NAME)
    assert "caption" not in photo
    assert photo["photo"]
    assert text["text"].startswith("Long yyy")
    assert marked(text) == [("bold", "Long", "")]
    assert harness.sends() == ["sendPhoto", "sendMessage"]
    assert harness.checkpoints[-1]["sent"] == [[photo["message_id"]], [text["message_id"]]]


def test_a_retry_after_the_photos_went_out_sends_only_the_text(
    sb: SandboxServer, tmp_path: Path
) -> None:
    images = (Image(png(tmp_path / "a.png", (0, 0, 200))),)
    harness = Harness(sb, Post(body="z" * 1500, images=images))
    # The photo goes out, then the text's request is refused by a 500.
    harness.on_checkpoint = lambda _c: sb.set_fault(NAME, "500", count=1)
    with pytest.raises(TransientError):
        run(harness.publish)
    harness.on_checkpoint = lambda _c: None
    run(harness.publish)
    photo, text = sb.posts(NAME)
    assert "photo" in photo
    assert text["text"] == "z" * 1500
    assert harness.sends() == ["sendPhoto", "sendMessage", "sendMessage"]


# --- failures -----------------------------------------------------------------------------------


def test_flood_control_429_honours_parameters_retry_after(sb: SandboxServer) -> None:
    sb.configure(NAME, flood_limit=1, flood_window=60)
    run(Harness(sb, Post(body="first")).publish)
    with pytest.raises(RateLimited, match="Too Many Requests") as limited:
        run(Harness(sb, Post(body="second")).publish)
    assert limited.value.retry_after is not None
    assert 59 <= limited.value.retry_after <= 60
    sb.set_clock_offset(61)  # Telegram's window has passed
    run(Harness(sb, Post(body="second")).publish)
    assert [m["text"] for m in sb.posts(NAME)] == ["first", "second"]


def test_a_429_without_parameters_uses_retry_after(sb: SandboxServer) -> None:
    sb.set_fault(NAME, "429", retry_after=42, count=1)
    with pytest.raises(RateLimited) as limited:
        run(Harness(sb, Post(body="hi")).publish)
    assert limited.value.retry_after == 42


def test_down_is_transient_and_a_lost_answer_is_unknown(sb: SandboxServer) -> None:
    sb.set_fault(NAME, "down")
    with pytest.raises(TransientError, match="Could not reach Telegram") as down:
        run(Harness(sb, Post(body="hi")).publish)
    assert not isinstance(down.value, UnknownOutcome)
    sb.set_fault(NAME, "commit_drop", count=1)
    with pytest.raises(UnknownOutcome, match="did not answer"):
        run(Harness(sb, Post(body="hi")).publish)
    assert [m["text"] for m in sb.posts(NAME)] == ["hi"]  # it went out; we just do not know


def test_reconcile_never_guesses(sb: SandboxServer, tmp_path: Path) -> None:
    images = (Image(png(tmp_path / "a.png", (0, 0, 200))),)
    harness = Harness(sb, Post(body="w" * 1500, images=images))

    def drop_the_text(_checkpoint: dict[str, Any]) -> None:
        sb.set_fault(NAME, "commit_drop", count=1)

    harness.on_checkpoint = drop_the_text
    with pytest.raises(UnknownOutcome):
        run(harness.publish)
    delivery = replace(
        harness.delivery,
        state=State.RECONCILING,
        last_attempt_at=1_800_000_000.0,
        last_error="Telegram did not answer after the request was sent: RemoteProtocolError",
    )

    async def reconcile() -> Any:
        async with httpx.AsyncClient(timeout=5.0) as http:
            return await CHANNEL.reconcile(harness.ctx(http, delivery))

    verdict = run(reconcile)
    assert verdict.outcome is Outcome.UNKNOWN
    assert "cannot tell whether the text reached @staffetta_sandbox" in verdict.evidence
    assert "2027-01-15 08:00:00 UTC" in verdict.evidence
    assert "The photos before it did go out (message 1)" in verdict.evidence
    assert "RemoteProtocolError" in verdict.evidence
    # Reconciling asks Telegram nothing (there is nothing to ask) and sends nothing.
    assert harness.sends() == ["sendPhoto", "sendMessage"]

    # Everything confirmed before a crash: reconcile reports it sent, with the first message.
    harness.checkpoints.append({"sent": [[1], [2]], "chat": {"username": "staffetta_sandbox"}})
    done = run(reconcile)
    assert (done.outcome, done.remote_id) == (Outcome.SENT, "1")
    assert done.url.endswith("/staffetta_sandbox/1")


def test_errors_say_what_to_do_in_telegrams_words(sb: SandboxServer) -> None:
    sb.configure(NAME, bot_is_admin=False)
    with pytest.raises(AuthError, match="bot is not a member of the channel chat"):
        run(Harness(sb, Post(body="x")).publish)
    sb.configure(NAME, bot_is_admin=True, can_post=False)
    with pytest.raises(AuthError, match="need administrator rights"):
        run(Harness(sb, Post(body="x")).publish)
    sb.configure(NAME, can_post=True)
    with pytest.raises(AuthError, match="chat not found"):
        run(Harness(sb, Post(body="x"), make_account(sb, channel="@somewhere_else")).publish)
    harness = Harness(sb, Post(body="x"))
    sb.revoke_tokens(NAME)
    with pytest.raises(AuthError, match="Reconnect the account"):
        run(harness.publish)
    assert sb.posts(NAME) == []


def refusal(status: int, description: str, **parameters: Any) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (
            httpx.Response(
                502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}
            ),
            TransientError,
            "HTTP 502",
        ),
        (
            refusal(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-1009),
            AuthError,
            "-1009",
        ),
        (
            refusal(400, "Bad Request: can't parse entities: Unsupported start tag"),
            PermanentError,
            "Telegram refused the post: can't parse entities",
        ),
        (refusal(404, "Not Found"), AuthError, "bot token"),
    ],
)
def test_error_shapes_from_a_peer_the_sandbox_cannot_play(
    reply: httpx.Response, kind: type[Exception], words: str
) -> None:
    token = "123456:" + "A" * 35
    account = Account("t", "telegram", "T", {"channel": "@x_chan"})

    async def publish() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _r: reply)) as http:
            delivery = Delivery(1, 1, "t", State.SENDING, "k", 0.0, 0.0)

            async def save(_c: dict[str, Any]) -> None:
                pass

            ctx = DeliveryContext(
                Post(body="x"), account, delivery, token, http, SystemClock(), save
            )
            await CHANNEL.publish(ctx)

    with pytest.raises(kind, match=words) as caught:
        run(publish)
    assert token not in str(caught.value)


def test_the_token_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    """httpx puts the URL, token and all, in its request log line; some failures name it too."""
    token = "987654321:" + "Zq8_" * 9

    def peer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sendMessage"):
            raise httpx.ReadError(f"connection reset while reading {request.url}")
        return httpx.Response(200, json={"ok": True, "result": {"id": 1, "username": "b_bot"}})

    account = Account("t", "telegram", "T", {"channel": "@x_chan"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(peer)) as http:
            delivery = Delivery(1, 1, "t", State.SENDING, "k", 0.0, 0.0)

            async def save(_c: dict[str, Any]) -> None:
                pass

            ctx = DeliveryContext(
                Post(body="hello"), account, delivery, token, http, SystemClock(), save
            )
            await CHANNEL.publish(ctx)

    with caplog.at_level(logging.DEBUG), pytest.raises(UnknownOutcome) as caught:
        run(go)
    assert "/bot<token>/sendMessage" in str(caught.value)
    assert caplog.records, "httpx logged nothing: the test would prove nothing"
    for text in [str(caught.value), *(r.getMessage() for r in caplog.records)]:
        assert token.split(":")[1] not in text


# --- the sandbox Bot API itself -----------------------------------------------------------------


def bot_api(sb: SandboxServer, method: str, token: str | None = None, **kwargs: Any) -> Any:
    with httpx.Client(timeout=5.0) as http:
        reply = http.post(
            f"{sb.platform_url(NAME)}/bot{token or sb.issue_token(NAME)}/{method}", **kwargs
        )
    return reply.status_code, reply.json()


def test_sandbox_refuses_entities_telegram_would_refuse(sb: SandboxServer) -> None:
    token = sb.issue_token(NAME)
    chat = "@staffetta_sandbox"

    def send(text: str, entities: list[dict[str, Any]]) -> tuple[int, Any]:
        body = {"chat_id": chat, "text": text, "entities": entities}
        return bot_api(sb, "sendMessage", token, json=body)  # type: ignore[no-any-return]

    status, reply = send(f"a{EMOJI}", [{"type": "bold", "offset": 0, "length": 4}])
    assert status == 400
    assert reply["description"].startswith("Bad Request: can't parse entities")
    assert "ends after the end of the text (3 UTF-16 code units)" in reply["description"]
    status, reply = send(f"a{EMOJI}b", [{"type": "bold", "offset": 2, "length": 2}])
    assert (status, reply["error_code"]) == (400, 400)
    assert "Entity begins in a middle of a UTF-16 symbol at byte offset 1" in reply["description"]
    status, reply = send("x", [{"type": "text_link", "offset": 0, "length": 1, "url": "ftp://x"}])
    assert "Wrong HTTP URL" in reply["description"]
    assert sb.posts(NAME) == []

    # url entities a bot sends are ignored; Telegram finds http(s) links itself
    status, reply = send(
        f"{EMOJI} see https://example.org/a. ok",
        [{"type": "url", "offset": 0, "length": 2}, {"type": "bold", "offset": 3, "length": 3}],
    )
    assert status == 200
    assert reply["result"]["entities"] == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "url", "offset": 7, "length": 21},
    ]


def test_sandbox_tokens_photos_and_the_request_log(sb: SandboxServer, tmp_path: Path) -> None:
    token = sb.issue_token(NAME)
    assert bot_api(sb, "getMe", "not-a-token")[0] == 404
    assert bot_api(sb, "getMe", "123:" + "x" * 30) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    status, me = bot_api(sb, "getMe", token)
    assert status == 200
    assert me["result"]["is_bot"]
    strip = Path(png(tmp_path / "strip.png", (9, 9, 9), (2100, 100))).read_bytes()
    status, reply = bot_api(
        sb, "sendPhoto", token, data={"chat_id": "@staffetta_sandbox"},
        files={"photo": ("s.png", strip, "image/png")},
    )  # fmt: skip
    assert (status, reply["description"]) == (400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    status, reply = bot_api(
        sb, "sendMediaGroup", token,
        data={"chat_id": "@staffetta_sandbox", "media": '[{"type": "photo", "media": "attach://a"}]'},
    )  # fmt: skip
    assert "wrong number of media" in reply["description"]
    with httpx.Client() as http:
        root = http.get(sb.platform_url(NAME) + "/")
    assert (root.status_code, root.headers["location"]) == (
        302,
        "https://core.telegram.org/bots/api",
    )
    assert all(token not in repr(entry) for entry in sb.requests(NAME))
    assert sb.requests(NAME)[0]["path"] == "/bot<token>/getMe"
