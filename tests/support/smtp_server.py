"""A real SMTP server for the SMTP channel's tests: aiosmtpd (PyPI) in this process on 127.0.0.1.

:class:`MailServer` speaks ESMTP with STARTTLS (or TLS from the first byte) using a certificate
signed by a throwaway certificate authority made in the test's folder — the channel trusts it
through its ``ca_file`` setting, exactly as a user with a private CA would, so verification stays
on — and AUTH PLAIN/LOGIN for one user. Every message that reaches the end of DATA is kept (raw
bytes and envelope) before the handler decides what to answer, so a test can count what a server
really received, including the copy whose answer it never sent.

Faults a test can plan, message by message (:meth:`MailServer.answer_next`): another reply to the
end of DATA (e.g. ``451 4.3.0 Try again later``), or :data:`DROP` — close the connection after the
message was received, without answering it; and :meth:`MailServer.refuse` answers RCPT for some
addresses with a 550.
"""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    answered: str  # the reply sent, or "" when the connection was dropped instead

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


OK = "250 2.0.0 OK: queued"
DROP = None  # in a plan: close the connection instead of answering


@dataclass
class _Faults:
    plan: list[str | None] = field(default_factory=list)  # answers for the next messages
    refused: set[str] = field(default_factory=set)  # reader addresses answered with a 550


@dataclass
class _Handler:
    server: MailServer
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        if address.lower() in self.server.faults.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        with self.lock:
            plan = self.server.faults.plan
            answer = (plan.pop(0) if plan else OK) or ""
            self.server.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(data), answer)
            )
        if answer:
            return answer
        # The message is in; the answer never leaves. Closing the connection makes aiosmtpd
        # cancel this very coroutine, so the wait below never returns.
        assert smtp.transport is not None
        smtp.transport.close()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class MailServer:
    """aiosmtpd on 127.0.0.1; ``security`` is ``starttls`` (default), ``tls`` or ``none``."""

    def __init__(
        self,
        folder: Path,
        *,
        security: str = "starttls",
        users: dict[str, str] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.security = security
        self.users = dict(users if users is not None else {"writer@example.org": "s3cret pass"})
        self.received: list[Received] = []
        self.faults = _Faults()
        self.host = "127.0.0.1"
        self.port = 0
        self.ca_file = self.folder / "test-ca.pem"
        self._controller: Controller | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> MailServer:
        server_context = make_certificates(self.folder) if self.security != "none" else None
        self.port = free_port()
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "server_hostname": "mail.staffetta.test",
            "ready_timeout": 10.0,
        }
        if self.users:
            kwargs["authenticator"] = self._authenticate
        if self.security == "starttls":
            kwargs.update(tls_context=server_context, require_starttls=True)
        elif self.security == "tls":
            # TLS from the first byte: aiosmtpd only knows STARTTLS as "TLS", so AUTH is allowed
            # without it (the connection is encrypted all the same).
            kwargs.update(ssl_context=server_context, auth_require_tls=False)
        else:
            kwargs["auth_require_tls"] = False
        self._controller = Controller(_Handler(self), **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests use --------------------------------------------------------------------------
    def settings(self, **changes: str) -> dict[str, str]:
        """Account settings for this server (a user that exists, its From address, one reader)."""
        username = next(iter(self.users), "")
        values = {
            "host": self.host,
            "port": str(self.port),
            "security": self.security,
            "username": username,
            "from_address": f"Writer <{username or 'writer@example.org'}>",
            "recipients": "reader@example.net",
            "ca_file": str(self.ca_file) if self.security != "none" else "",
        }
        values.update(changes)
        return values

    def password(self) -> str:
        return next(iter(self.users.values()), "")

    def reset(self) -> None:
        self.received.clear()
        self.faults = _Faults()

    def answer_next(self, *answers: str | None) -> None:
        """How to answer the next messages, in order: a reply, or :data:`DROP`."""
        self.faults.plan.extend(answers)

    def reply_next(self, reply: str, count: int = 1) -> None:
        self.answer_next(*[reply] * count)

    def drop_next(self, count: int = 1) -> None:
        self.answer_next(*[DROP] * count)

    def refuse(self, *addresses: str) -> None:
        self.faults.refused = {address.lower() for address in addresses}

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user = data.login.decode("utf-8", "replace")
            password = data.password.decode("utf-8", "replace")
            if self.users.get(user) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def free_port() -> int:
    """A port nobody listens on right now (aiosmtpd cannot bind port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_certificates(folder: Path) -> ssl.SSLContext:
    """A certificate authority (``test-ca.pem``) and a server certificate it signed for
    127.0.0.1 and localhost; returns the server's TLS context."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Staffetta test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "test-ca.pem").write_bytes(ca.public_bytes(pem))
    cert_file, key_file = folder / "server-cert.pem", folder / "server-key.pem"
    cert_file.write_bytes(leaf.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
