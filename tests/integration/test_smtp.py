"""The SMTP channel against a real SMTP server (aiosmtpd, started in this process on 127.0.0.1 with
STARTTLS, a certificate of a test authority trusted through the account's ``ca_file``, and AUTH),
driven by the real Engine with simulated time.

What a user relies on: readers get the post as written (subject, text and HTML, images inline
with their alt text, tags); a resend is the same message (same Message-ID); a wrong password
pauses the account with the server's own words; and a connection lost after the message was
handed over becomes *unconfirmed* — the server got exactly one copy, and Staffetta never sends
another by itself.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from staffetta.channels.registry import load_channels
from staffetta.channels.smtp import SmtpChannel
from staffetta.core.channel import DeliveryContext, Outcome
from staffetta.core.clock import FakeClock
from staffetta.core.engine import Engine
from staffetta.core.errors import AuthError, InputError, TransientError
from staffetta.core.model import Account, Delivery, Image, Post, State
from staffetta.core.paths import Paths
from staffetta.core.retry import RetryPolicy
from staffetta.core.secrets import MemoryKeyring, SecretStore
from staffetta.core.store import Store
from staffetta.runtime import Runtime
from support.smtp_server import DROP, OK, MailServer

# aiosmtpd itself sets a deprecated Session attribute on every successful AUTH.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Session.login_data is deprecated:DeprecationWarning"
)

POLICY = RetryPolicy(base=2.0, cap=300.0, breaker_threshold=5)
BODY = """## What changed

Staffetta now sends **newsletters** by plain e-mail, *from your own provider*.

- one post, every channel
- your readers, [your address](https://example.org/news)

Thanks for reading.
"""


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailServer]:
    with MailServer(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture
def server(mail_server: MailServer) -> MailServer:
    mail_server.reset()
    return mail_server


@dataclass
class World:
    server: MailServer
    store: Store
    clock: FakeClock
    secrets: SecretStore
    engine: Engine

    def account(self, password: str | None = None, **settings: str) -> Account:
        account = self.store.add_account("smtp", "Newsletter", self.server.settings(**settings))
        self.secrets.set(account.id, self.server.password() if password is None else password)
        return account

    def delivery(self) -> Delivery:
        (delivery,) = self.store.deliveries()
        return delivery

    async def run_until_idle(self, *, max_steps: int = 200) -> None:
        for _ in range(max_steps):
            await self.engine.run_once()
            wake = self.engine.next_wakeup()
            if wake is None:
                return
            self.clock.advance_to(wake)
        raise AssertionError("the engine never became idle")


@pytest.fixture
async def world(server: MailServer, tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock()
    store = Store.open(tmp_path / "outbox.sqlite3", clock)
    secrets = SecretStore(MemoryKeyring())
    channels = load_channels()
    smtp = channels["smtp"]
    assert isinstance(smtp, SmtpChannel)
    smtp.timeout = 10.0
    async with httpx.AsyncClient() as http:
        engine = Engine(store, channels, secrets, http, clock, rng=random.Random(7), policy=POLICY)
        yield World(server, store, clock, secrets, engine)
    store.close()


def picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int]) -> str:
    PILImage.new("RGB", size, colour).save(path)
    return str(path)


def two_images(folder: Path) -> tuple[Image, Image]:
    return (
        Image(
            picture(folder / "sunrise.png", (250, 140, 20), (2400, 1200)),
            alt="Sunrise over the bay",
        ),
        Image(picture(folder / "desk.jpg", (20, 60, 160), (320, 240)), alt="A desk with a laptop"),
    )


def inline_images(message: EmailMessage) -> dict[str, EmailMessage]:
    """The message's image parts by Content-ID (without angle brackets)."""
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "image":
            assert isinstance(part, EmailMessage)
            found[str(part["Content-ID"]).strip("<>")] = part
    return found


def body_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


# --- the e-mail a reader gets -------------------------------------------------------------------


async def test_a_post_arrives_as_written(world: World, tmp_path: Path) -> None:
    account = world.account()
    post = Post(
        title="Spring news: e-mail is here",
        body=BODY,
        images=two_images(tmp_path),
        tags=("news", "staffetta"),
        link="https://example.org/spring",
    )
    world.store.enqueue(post, [account.id])

    await world.run_until_idle()

    delivery = world.delivery()
    assert delivery.state is State.SENT, delivery.last_error
    (received,) = world.server.received
    assert received.rcpt_tos == ("reader@example.net",)
    assert received.mail_from == "writer@example.org"
    message = received.parsed()
    assert message["Subject"] == "Spring news: e-mail is here"
    assert message["From"] == "Writer <writer@example.org>"
    assert message["To"] == "reader@example.net"
    assert message["Keywords"] == "news, staffetta"
    assert message["Date"] is not None
    assert delivery.remote_id == message["Message-ID"]
    assert re.fullmatch(r"<[0-9a-f]{32}\.staffetta@example\.org>", message["Message-ID"])
    assert message.get_content_type() == "multipart/alternative"

    text = body_of(message, "plain")
    assert "## What changed" in text
    assert "**newsletters**" in text
    assert "[your address](https://example.org/news)" in text
    assert "[Image 1: Sunrise over the bay]" in text
    assert "[Image 2: A desk with a laptop]" in text
    assert "https://example.org/spring" in text

    html = body_of(message, "html")
    assert re.search(r"<h1[^>]*>Spring news: e-mail is here</h1>", html)
    assert "<h2>What changed</h2>" in html
    assert "<strong>newsletters</strong>" in html
    assert "<em>from your own provider</em>" in html
    assert "<li>one post, every channel</li>" in html
    assert '<a href="https://example.org/news">your address</a>' in html
    references = re.findall(r'<img src="cid:([^"]+)" alt="([^"]*)"', html)
    assert [alt for _cid, alt in references] == ["Sunrise over the bay", "A desk with a laptop"]

    images = inline_images(message)
    assert set(images) == {cid for cid, _alt in references}
    first = images[references[0][0]]
    second = images[references[1][0]]
    assert first.get_content_type() == "image/png"
    assert first.get_content_disposition() == "inline"
    assert second.get_content_type() == "image/jpeg"
    with PILImage.open(io.BytesIO(first.get_content())) as shown:
        assert shown.size == (1600, 800)  # scaled to fit a reading pane
        assert shown.convert("RGB").getpixel((10, 10)) == (250, 140, 20)
    with PILImage.open(io.BytesIO(second.get_content())) as shown:
        assert shown.size == (320, 240)


async def test_every_reader_gets_a_copy_addressed_to_them(world: World) -> None:
    account = world.account(recipients="ann@example.net, Bob <bob@example.net>, ann@example.net")
    world.store.enqueue(Post(title="Hello", body="Hi all."), [account.id])

    await world.run_until_idle()

    assert world.delivery().state is State.SENT
    received = world.server.received
    assert [r.rcpt_tos for r in received] == [("ann@example.net",), ("bob@example.net",)]
    assert [r.parsed()["To"] for r in received] == ["ann@example.net", "bob@example.net"]
    assert len({r.parsed()["Message-ID"] for r in received}) == 1  # one newsletter issue


async def test_bcc_sends_one_message_with_readers_hidden(world: World) -> None:
    account = world.account(
        recipients="ann@example.net, bob@example.net",
        recipients_mode="bcc",
        to_address="list@example.org",
    )
    world.store.enqueue(Post(title="Hello", body="Hi all."), [account.id])

    await world.run_until_idle()

    assert world.delivery().state is State.SENT
    (received,) = world.server.received
    assert set(received.rcpt_tos) == {"list@example.org", "ann@example.net", "bob@example.net"}
    message = received.parsed()
    assert message["To"] == "list@example.org"
    assert message["Bcc"] is None
    assert b"ann@example.net" not in received.data


async def test_unsubscribe_link_is_a_header_and_a_footer(world: World) -> None:
    account = world.account(list_unsubscribe="mailto:writer@example.org?subject=unsubscribe")
    world.store.enqueue(Post(title="Hello", body="Hi."), [account.id])

    await world.run_until_idle()

    message = world.server.received[0].parsed()
    assert message["List-Unsubscribe"] == "<mailto:writer@example.org?subject=unsubscribe>"
    assert "Unsubscribe: mailto:writer@example.org?subject=unsubscribe" in body_of(message, "plain")
    assert ">Unsubscribe</a>" in body_of(message, "html")


async def test_a_line_starting_with_a_dot_survives(world: World) -> None:
    account = world.account()
    world.store.enqueue(Post(title="Dots", body="first\n\n.\n\n.hidden line"), [account.id])

    await world.run_until_idle()

    text = body_of(world.server.received[0].parsed(), "plain").replace("\r\n", "\n")
    assert "\n.\n" in text
    assert "\n.hidden line" in text


# --- failures -------------------------------------------------------------------------------------


async def test_a_resend_is_the_same_message(world: World) -> None:
    account = world.account()
    world.server.reply_next("451 4.3.0 Mail server temporarily busy, try again later")
    world.store.enqueue(Post(title="Retry me", body="Body."), [account.id])

    await world.engine.run_once()
    waiting = world.delivery()
    assert waiting.state is State.WAITING
    assert "451 4.3.0 Mail server temporarily busy" in waiting.last_error

    await world.run_until_idle()

    assert world.delivery().state is State.SENT
    first, second = (r.parsed() for r in world.server.received)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Date"] == second["Date"]
    assert [r.answered.split()[0] for r in world.server.received] == ["451", "250"]


async def test_a_wrong_password_asks_to_reconnect_in_the_servers_words(world: World) -> None:
    account = world.account(password="not the password")
    world.store.enqueue(Post(title="Hello", body="Hi."), [account.id])

    await world.run_until_idle()

    assert world.delivery().state is State.NEEDS_RECONNECT
    paused = world.store.account(account.id)
    assert paused is not None
    assert "535 5.7.8 Authentication credentials invalid" in paused.paused_reason
    assert "reconnect" in paused.paused_reason.lower()
    assert world.server.received == []


async def test_a_connection_lost_after_data_is_unconfirmed_and_never_resent(world: World) -> None:
    account = world.account()
    world.server.drop_next()
    world.store.enqueue(Post(title="Only once", body="Hi."), [account.id])

    await world.run_until_idle()
    world.clock.advance(6 * 3600)
    await world.run_until_idle()

    delivery = world.delivery()
    assert delivery.state is State.UNCONFIRMED
    (received,) = world.server.received
    assert received.answered == ""  # the server got it, and never said so
    message_id = received.parsed()["Message-ID"]
    assert message_id in delivery.last_error
    assert f"127.0.0.1:{world.server.port}" in delivery.last_error
    assert "reader@example.net" in delivery.last_error


async def test_other_readers_still_get_theirs_and_send_again_resends_only_the_unsure(
    world: World,
) -> None:
    account = world.account(recipients="ann@example.net, bob@example.net, cy@example.net")
    world.server.answer_next(OK, DROP)  # Bob's copy is received but never answered
    world.store.enqueue(Post(title="Three readers", body="Hi."), [account.id])

    await world.run_until_idle()

    delivery = world.delivery()
    assert delivery.state is State.UNCONFIRMED
    assert "bob@example.net" in delivery.last_error
    assert "ann@example.net" not in delivery.last_error
    assert [r.rcpt_tos for r in world.server.received] == [
        ("ann@example.net",),
        ("bob@example.net",),
        ("cy@example.net",),
    ]

    # The user checks with Bob: it did not arrive. Only Bob gets it again.
    assert world.store.resolve_unconfirmed(delivery.id, went_out=False)
    await world.run_until_idle()

    assert world.delivery().state is State.SENT
    assert [r.rcpt_tos for r in world.server.received][3:] == [("bob@example.net",)]


async def test_a_refused_reader_fails_with_the_servers_words_and_the_others_get_it(
    world: World,
) -> None:
    account = world.account(recipients="ann@example.net, nobody@example.net")
    world.server.refuse("nobody@example.net")
    world.store.enqueue(Post(title="Hello", body="Hi."), [account.id])

    await world.run_until_idle()

    delivery = world.delivery()
    assert delivery.state is State.FAILED
    assert "nobody@example.net (550 5.1.1" in delivery.last_error
    assert "1 copy went out" in delivery.last_error
    assert [r.rcpt_tos for r in world.server.received] == [("ann@example.net",)]

    # The user removes the bad address and retries: Ann does not get a second copy.
    world.store.update_account(
        account.id, settings=world.server.settings(recipients="ann@example.net, new@example.net")
    )
    assert world.store.retry_now(delivery.id)
    await world.run_until_idle()
    assert world.delivery().state is State.SENT
    assert [r.rcpt_tos for r in world.server.received][1:] == [("new@example.net",)]


async def test_a_stopped_server_is_a_wait_not_a_failure(world: World) -> None:
    account = world.account(port="1")  # nothing listens there
    world.store.enqueue(Post(title="Hello", body="Hi."), [account.id])

    await world.engine.run_once()

    delivery = world.delivery()
    assert delivery.state is State.WAITING
    assert "Could not reach the mail server 127.0.0.1:1" in delivery.last_error


# --- the channel on its own -----------------------------------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:  # SMTP does not use it; the interface asks for one
        yield client


def harness(
    server: MailServer, checkpoint: dict[str, Any], http: httpx.AsyncClient, **settings: str
) -> tuple[DeliveryContext, list[dict[str, Any]]]:
    """What the engine hands the channel, and the list of checkpoints it saves."""
    saved: list[dict[str, Any]] = []

    async def save(values: dict[str, Any]) -> None:
        saved.append(dict(values))

    account = Account("smtp-1", "smtp", "Newsletter", server.settings(**settings))
    delivery = Delivery(
        1, 1, account.id, State.RECONCILING, "key-1", 0.0, 0.0, checkpoint=checkpoint
    )
    post = Post(title="Hello", body="Hi.")
    return DeliveryContext(
        post, account, delivery, server.password(), http, FakeClock(), save
    ), saved


async def test_reconcile_after_a_crash_before_any_copy_left(
    server: MailServer, http: httpx.AsyncClient
) -> None:
    ctx, _saved = harness(server, {"message_id": "<m@example.org>"}, http)
    verdict = await SmtpChannel().reconcile(ctx)
    assert verdict.outcome is Outcome.NOT_SENT


async def test_reconcile_after_a_crash_while_a_copy_was_handed_over(
    server: MailServer, http: httpx.AsyncClient
) -> None:
    checkpoint = {
        "message_id": "<m@example.org>",
        "in_flight": "reader@example.net",
        "in_flight_at": 1_700_000_000.0,
        "server": "smtp.example.org:587",
        "delivered": [],
    }
    ctx, saved = harness(server, checkpoint, http)
    verdict = await SmtpChannel().reconcile(ctx)
    assert verdict.outcome is Outcome.UNKNOWN
    assert "<m@example.org>" in verdict.evidence
    assert "smtp.example.org:587" in verdict.evidence
    assert "2023-11-14 22:13:20 UTC" in verdict.evidence
    assert saved[-1]["unconfirmed"] == ["reader@example.net"]  # "send again" resends only it
    assert saved[-1]["uncertain"] == []


async def test_verify_and_probe(server: MailServer, http: httpx.AsyncClient) -> None:
    channel = SmtpChannel()
    account = Account("smtp-1", "smtp", "Newsletter", server.settings())
    assert await channel.verify(http, account, server.password()) == "writer@example.org"
    await channel.probe(http, account)
    with pytest.raises(AuthError, match=r"535 5\.7\.8"):
        await channel.verify(http, account, "wrong")


async def test_an_unknown_certificate_is_never_accepted(
    server: MailServer, http: httpx.AsyncClient
) -> None:
    account = Account("smtp-1", "smtp", "Newsletter", server.settings(ca_file=""))
    with pytest.raises(TransientError, match=r"certificate .* could not be verified"):
        await SmtpChannel().probe(http, account)
    assert server.received == []


async def test_tls_from_the_first_byte(tmp_path: Path, http: httpx.AsyncClient) -> None:
    with MailServer(tmp_path / "tls", security="tls") as tls_server:
        account = Account("smtp-1", "smtp", "Newsletter", tls_server.settings())
        channel = SmtpChannel()
        assert await channel.verify(http, account, tls_server.password())
        ctx, _saved = harness(tls_server, {}, http)
        result = await channel.publish(ctx)
        (received,) = tls_server.received
        assert received.parsed()["Message-ID"] == result.remote_id


async def test_connecting_checks_the_password_and_keeps_it_in_the_keyring_only(
    server: MailServer, tmp_path: Path, http: httpx.AsyncClient
) -> None:
    runtime = Runtime.open(Paths.under(tmp_path / "home"), secrets=SecretStore(MemoryKeyring()))
    try:
        with pytest.raises(AuthError, match=r"535 5\.7\.8"):
            await runtime.connect(http, "smtp", "Letters", server.settings(), "wrong password")
        assert runtime.store.accounts() == []
        account = await runtime.connect(http, "smtp", "", server.settings(), server.password())
        assert account.name == "writer@example.org"
        assert runtime.secrets.get(account.id) == server.password()
        files = [f for f in (tmp_path / "home").rglob("*") if f.is_file()]
        assert any(f.name == "outbox.sqlite3" for f in files)
        assert all(server.password().encode() not in f.read_bytes() for f in files)
        with pytest.raises(InputError, match="password is a secret"):
            await runtime.connect(http, "smtp", "x", {**server.settings(), "password": "p"}, None)
    finally:
        runtime.close()
