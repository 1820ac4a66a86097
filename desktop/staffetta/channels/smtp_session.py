"""One SMTP conversation, step by step, with every failure classified for the engine.

Standard-library ``smtplib`` does the talking; each step is a blocking call that the channel runs
in a worker thread (``asyncio.to_thread``) so that between steps — right before the message body
leaves — it can checkpoint durably on the engine's loop.

What a failure means depends on when it happens (RFC 5321 reply classes; RFC 1047 on the lost
final reply):

* before the body left (connecting, TLS, EHLO, MAIL, RCPT, the ``DATA`` command): nothing was
  delivered — a refused connection, a timeout or a 4xx reply is *transient*, a 5xx is
  *permanent*, and a 535 to AUTH is an *auth* error carrying the server's own words;
* after the body left and before the server's final reply: the message may or may not have been
  accepted — an *unknown outcome*, which SMTP has no way to settle;
* the final reply itself: 250 delivered, 4xx not accepted (transient), 5xx refused (permanent).

TLS is always verified against the system's certificate authorities, plus the account's own
``ca_file`` when it has one; plain text is only for a server on this computer (the settings
refuse it for any other host).
"""

from __future__ import annotations

import functools
import os
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from staffetta.core.errors import (
    AuthError,
    DeliveryError,
    InputError,
    PermanentError,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.lazy import lazy_module

if TYPE_CHECKING:
    import smtplib
    import ssl
else:
    ssl = lazy_module("ssl")
    smtplib = lazy_module("smtplib")

CONNECT_TIMEOUT = 30.0
# RFC 5321 §4.5.3.2.6: a client should wait 10 minutes for the reply to the end of the data.
FINAL_REPLY_TIMEOUT = 600.0
_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True, slots=True)
class Server:
    """Where and how to connect: ``security`` is ``starttls``, ``tls`` or ``none``."""

    host: str
    port: int
    security: str
    ca_file: str = ""

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """The system's trusted authorities (plus ``ca_file``); host names and chains verified."""
    if not ca_file:
        return _context("", 0)
    try:
        mtime = os.stat(ca_file).st_mtime_ns
    except OSError as exc:
        raise InputError(
            f"The certificate authority file {ca_file} cannot be read ({exc.strerror or exc}). "
            "Choose the file again in the account settings, or leave the field empty."
        ) from None
    return _context(ca_file, mtime)


@functools.lru_cache(maxsize=8)
def _context(ca_file: str, _mtime: int) -> ssl.SSLContext:
    # Building a context loads every system certificate (~0.1 s): one per file version is enough.
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(
                f"{ca_file} is not a certificate authority file Staffetta can use ({exc}). "
                "It should hold one or more PEM certificates."
            ) from None
    return context


def _reply_text(message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return " ".join(text.split())


class SmtpSession:
    """A connection to one mail server; not thread-safe, used by one task at a time."""

    def __init__(
        self,
        server: Server,
        *,
        timeout: float = CONNECT_TIMEOUT,
        final_reply_timeout: float = FINAL_REPLY_TIMEOUT,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self.final_reply_timeout = final_reply_timeout
        self._smtp: smtplib.SMTP | None = None

    # --- connecting -----------------------------------------------------------------------------
    def open(self, username: str = "", password: str | None = None) -> None:
        """Connect, greet, secure the connection and sign in (when a user name is set)."""
        server = self.server
        try:
            context = tls_context(server.ca_file) if server.security != "none" else None
        except InputError as exc:
            raise AuthError(str(exc)) from None  # the account needs its settings fixed
        try:
            # A placeholder name stops smtplib from looking up this machine's FQDN (slow, and it
            # would tell every server the computer's name); the address literal replaces it.
            smtp: smtplib.SMTP
            if server.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    server.host,
                    server.port,
                    local_hostname="localhost",
                    timeout=self.timeout,
                    context=context,
                )
            else:
                smtp = smtplib.SMTP(
                    server.host, server.port, local_hostname="localhost", timeout=self.timeout
                )
            self._smtp = smtp
            smtp.local_hostname = _address_literal(smtp)
            self._checked(smtp.ehlo(), "EHLO")
            if server.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise AuthError(
                        f"The mail server {server.name} does not offer STARTTLS, so the password "
                        "and the post would travel unencrypted. Choose the security tls (usually "
                        "port 465) in the account settings, or ask your provider for the right "
                        "port."
                    )
                self._checked(smtp.starttls(context=context), "STARTTLS")
                self._checked(smtp.ehlo(), "EHLO")
            if username:
                self._login(smtp, username, password)
        except DeliveryError:
            self.close()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise connect_error(exc, server) from None
        except BaseException:
            self.close()
            raise

    def _login(self, smtp: smtplib.SMTP, username: str, password: str | None) -> None:
        if not password:
            raise AuthError(
                "No password is stored for this mail account — reconnect it and enter the password."
            )
        if not smtp.has_extn("auth"):
            raise AuthError(
                f"The mail server {self.server.name} does not offer sign-in (AUTH) on this "
                "connection. Check the security and port in the account settings, or clear the "
                "user name if the server needs no sign-in."
            )
        try:
            smtp.login(username, password)
        except smtplib.SMTPAuthenticationError as exc:
            said = f"{exc.smtp_code} {_reply_text(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                raise TransientError(f"The mail server could not sign in now: {said}") from None
            raise AuthError(
                f"The mail server refused the user name or password — reconnect the account. "
                f"(The server said: {said})"
            ) from None
        except smtplib.SMTPException as exc:
            raise AuthError(
                f"The mail server {self.server.name} offers no sign-in method Staffetta can use "
                f"({_reply_text(str(exc))})."
            ) from None

    def noop(self) -> None:
        self._checked(self._live().noop(), "NOOP")

    # --- one message ----------------------------------------------------------------------------
    def envelope(
        self, sender: str, recipients: Sequence[str], size: int
    ) -> tuple[list[str], dict[str, str]]:
        """``MAIL FROM`` and one ``RCPT TO`` per recipient.

        Returns the accepted recipients and, for those refused for good (5xx), the server's
        reply. A 4xx for any recipient is transient for the whole message: the envelope is
        reset and the error raised, so no reader is skipped silently.
        """
        smtp = self._live()
        options = []
        if smtp.has_extn("size"):
            limit = smtp.esmtp_features.get("size", "")
            if limit.isdigit() and 0 < int(limit) < size:
                raise PermanentError(
                    f"The e-mail is {size // 1024} KB; the mail server {self.server.name} accepts "
                    f"at most {int(limit) // 1024} KB. Use fewer or smaller images."
                )
            options.append(f"SIZE={size}")
        try:
            code, reply = smtp.mail(sender, options)
        except (OSError, smtplib.SMTPException) as exc:
            raise self._lost(exc, sent_body=False) from None
        if code != 250:
            raise _reply_error(code, reply, f"The mail server refused the sender {sender}")
        accepted: list[str] = []
        refused: dict[str, str] = {}
        for recipient in recipients:
            try:
                code, reply = smtp.rcpt(recipient)
            except (OSError, smtplib.SMTPException) as exc:
                raise self._lost(exc, sent_body=False) from None
            if code in (250, 251):
                accepted.append(recipient)
            elif 500 <= code < 600:
                refused[recipient] = f"{code} {_reply_text(reply)}"
            else:
                self.reset()
                raise _reply_error(code, reply, f"The mail server did not take {recipient} now")
        return accepted, refused

    def data(self, message: bytes) -> str:
        """Send the message; return the server's acceptance (its 250 reply).

        Raises :class:`UnknownOutcome` when the connection is lost or times out after the body
        left but before the server answered it.
        """
        smtp = self._live()
        try:
            code, reply = smtp.docmd("DATA")
        except (OSError, smtplib.SMTPException) as exc:
            raise self._lost(exc, sent_body=False) from None
        if code != 354:
            raise _reply_error(code, reply, "The mail server would not take the message")
        try:
            smtp.send(_dot_stuffed(message))
            if smtp.sock is not None:
                smtp.sock.settimeout(self.final_reply_timeout)
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise self._lost(exc, sent_body=True) from None
        finally:
            if smtp.sock is not None:
                smtp.sock.settimeout(self.timeout)
        if code != 250:
            raise _reply_error(code, reply, "The mail server did not accept the message")
        return f"{code} {_reply_text(reply)}"

    def reset(self) -> None:
        """Forget the current envelope (``RSET``) after some recipients were refused."""
        try:
            self._live().rset()
        except (OSError, smtplib.SMTPException) as exc:
            raise self._lost(exc, sent_body=False) from None

    def close(self) -> None:
        """Say goodbye if the server still listens; never raises."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if smtp.sock is not None:
                smtp.sock.settimeout(min(self.timeout, 5.0))
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            smtp.close()

    # --- helpers --------------------------------------------------------------------------------
    def _live(self) -> smtplib.SMTP:
        if self._smtp is None:
            raise TransientError(f"The connection to the mail server {self.server.name} closed.")
        return self._smtp

    def _checked(self, reply: tuple[int, bytes], command: str) -> None:
        code, text = reply
        if not 200 <= code < 300:
            raise _reply_error(code, text, f"The mail server answered {command} with")

    def _lost(self, exc: BaseException, *, sent_body: bool) -> DeliveryError:
        """A connection that broke (or a reply that never came) at this point of the talk."""
        where = self.server.name
        if isinstance(exc, smtplib.SMTPResponseException):
            return _reply_error(exc.smtp_code, exc.smtp_error, f"The mail server {where} said")
        detail = _describe(exc)
        if sent_body:
            return UnknownOutcome(
                f"The connection to the mail server {where} was lost after the message was "
                f"handed over, before the server confirmed it ({detail})."
            )
        return TransientError(f"The connection to the mail server {where} was lost ({detail}).")


def connect_error(exc: OSError | smtplib.SMTPException, server: Server) -> DeliveryError:
    """What a failure while connecting, securing or greeting means for the engine."""
    where = server.name
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TransientError(
            f"The certificate of the mail server {where} could not be verified "
            f"({exc.verify_message or exc.reason}), so Staffetta did not connect: it never skips "
            "this check. If the server uses a certificate of your own authority, give that "
            "authority's file in the account settings."
        )
    if isinstance(exc, ssl.SSLError):
        return TransientError(f"A secure connection to the mail server {where} failed: {exc}.")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return AuthError(f"The mail server {where} does not support this: {exc}.")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_error(exc.smtp_code, exc.smtp_error, f"The mail server {where} said")
    if isinstance(exc, socket.gaierror):
        return TransientError(f"The mail server {server.host} cannot be found: {exc.strerror}.")
    return TransientError(f"Could not reach the mail server {where}: {_describe(exc)}.")


def _reply_error(code: int, reply: bytes | str, what: str) -> DeliveryError:
    said = f"{what}: {code} {_reply_text(reply)}".rstrip()
    if code == 535 or code == 530:
        return AuthError(f"{said}. Reconnect the account with the right user name and password.")
    if 400 <= code < 500:
        return TransientError(said)
    return PermanentError(said)


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA payload: CRLF lines, a leading dot doubled (RFC 5321 §4.5.2), and the end mark."""
    body = message.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return _LEADING_DOT.sub(b"..", body) + b".\r\n"


def _address_literal(smtp: smtplib.SMTP) -> str:
    """``[127.0.0.1]`` / ``[IPv6:::1]``: this end of the connection, as EHLO may name it."""
    try:
        address = str(smtp.sock.getsockname()[0]) if smtp.sock is not None else "127.0.0.1"
    except OSError:
        address = "127.0.0.1"
    return f"[IPv6:{address}]" if ":" in address else f"[{address}]"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
