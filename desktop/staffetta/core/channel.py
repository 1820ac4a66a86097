"""The interface every channel implements, and the values it exchanges with the engine and the UI.

A channel is one platform: how it counts, how a post looks there, how to publish, probe, classify
errors and reconcile an unknown outcome. Channels live in ``staffetta.channels``; the engine only
knows this interface, so adding a channel touches neither the engine nor the UI.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from staffetta.core.clock import Clock
from staffetta.core.errors import (
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from staffetta.core.lazy import lazy_module
from staffetta.core.model import Account, ChannelGroup, Delivery, Image, Post
from staffetta.core.text import Span
from staffetta.core.thread import join_parts, plan_thread

if TYPE_CHECKING:
    import httpx
else:
    httpx = lazy_module("httpx")


class Field(NamedTuple):
    """One thing an account needs from the user (a URL, a handle, a token)."""

    name: str
    label: str
    help: str = ""
    secret: bool = False
    required: bool = True
    default: str = ""


class Limits(NamedTuple):
    """What a channel accepts, as the platform counts it."""

    max_chars: int  # 0 = no practical limit (blogs, email)
    unit: str = "characters"  # how ``max_chars`` is counted, in words for the preview
    max_bytes: int = 0  # a second limit in UTF-8 bytes (Bluesky); 0 = none
    max_images: int = 4
    max_image_bytes: int = 16 * 1024 * 1024
    max_image_pixels: int = 33_177_600
    max_alt_chars: int = 1500
    uses_title: bool = False
    requires_image: bool = False


class Fix(enum.StrEnum):
    """One-click remedies the preview offers next to a warning."""

    SPLIT = "split"
    CUSTOMISE = "customise"
    RESIZE = "resize"
    ADD_ALT = "add_alt"
    ADD_IMAGE = "add_image"
    REMOVE_IMAGES = "remove_images"


class Problem(NamedTuple):
    """Something to tell the user before queueing. ``blocking`` problems prevent publishing."""

    code: str
    message: str
    blocking: bool = True
    fix: Fix | None = None


@dataclass(frozen=True, slots=True)
class PreviewPart:
    """One post as the platform will show it (a thread has several)."""

    text: str
    count: int
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class Preview:
    """Everything a preview card shows, computed by the channel with the platform's own rules."""

    channel: str
    account_name: str
    handle: str
    parts: tuple[PreviewPart, ...]
    limit: int
    unit: str
    title: str = ""
    html: str = ""  # owned channels: the body as a reader will see it
    images: tuple[Image, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def count(self) -> int:
        return self.parts[0].count if self.parts else 0

    @property
    def blocking(self) -> bool:
        return any(p.blocking for p in self.problems)


@dataclass(frozen=True, slots=True)
class Authorization:
    """What a browser sign-in produced: the secret for the keyring, the rest for settings."""

    secret: str = field(repr=False)
    settings: dict[str, Any] = field(default_factory=dict)


class Handover(NamedTuple):
    """What an assisted channel hands the user when its turn comes: the text to paste, the
    image to attach (a file path, or ""), and the page or app to open."""

    text: str
    image: str = ""
    open_url: str = ""
    destination: str = ""  # in words, for buttons and notifications: "WhatsApp"


class PublishResult(NamedTuple):
    remote_id: str
    url: str = ""


class Outcome(enum.StrEnum):
    SENT = "sent"  # it went out: ``remote_id``/``url`` say where
    NOT_SENT = "not_sent"  # the platform has no trace of it: sending again is safe
    RETRY_SAFE = "retry_safe"  # the platform deduplicates (idempotency key): resend as it was
    UNKNOWN = "unknown"  # no way to know: the user decides


class Reconciled(NamedTuple):
    outcome: Outcome
    remote_id: str = ""
    url: str = ""
    evidence: str = ""  # shown to the user when the outcome is unknown


@dataclass
class DeliveryContext:
    """What a channel gets for one publish or reconcile call."""

    post: Post
    account: Account
    delivery: Delivery
    secret: str | None
    http: httpx.AsyncClient
    clock: Clock
    # Persist channel progress (uploaded media ids, thread parts sent) before the next step, so a
    # crash resumes instead of starting over. Returns once the checkpoint is durable.
    save_checkpoint: Callable[[dict[str, Any]], Awaitable[None]]
    # Replace the stored secret (refreshed tokens).
    update_secret: Callable[[str], None] = field(default=lambda _s: None)
    # The other deliveries of the same post, as the store has them now. Their checkpoints record
    # where owned channels published the images, which channels that fetch images from a public
    # address (Instagram, Threads) reuse.
    other_deliveries: Callable[[], list[Delivery]] = field(default=lambda: [])

    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.delivery.checkpoint


class Channel(abc.ABC):
    """One platform. Subclasses set the class attributes and implement the abstract methods."""

    name: ClassVar[str]  # stable id stored in the database: "mastodon", "static_site"
    label: ClassVar[str]  # shown to users: "Mastodon"
    group: ClassVar[ChannelGroup]
    fields: ClassVar[tuple[Field, ...]] = ()
    needs_network: ClassVar[bool] = True

    # --- identity -----------------------------------------------------------------------------
    def endpoint(self, account: Account) -> str:
        """The key of the circuit breaker: accounts on the same server share health."""
        return self.name

    def handle(self, account: Account) -> str:
        return str(account.settings.get("handle", account.name))

    # --- composing ----------------------------------------------------------------------------
    @abc.abstractmethod
    def limits(self, account: Account) -> Limits: ...

    @abc.abstractmethod
    def preview(self, post: Post, account: Account) -> Preview: ...

    # --- threads ------------------------------------------------------------------------------
    # A threaded channel publishes a text holding ``---`` lines (core.thread.BREAK) as a chain of
    # replies, one part per post; its preview shows one PreviewPart per part.
    supports_threads: ClassVar[bool] = False

    def fits(self, text: str, account: Account) -> bool:
        """Whether ``text`` alone fits in one post on this account, counted as the platform does.

        The default asks :meth:`preview` for a post holding only ``text`` and compares every
        part's count with the character limit; threaded channels count directly (it runs many
        times per split).
        """
        limit = self.limits(account).max_chars
        if limit <= 0:
            return True
        preview = self.preview(Post(body=text), account)
        return all(part.count <= limit for part in preview.parts)

    def thread_text(self, post: Post, account: Account) -> str:
        """The account's text split into a thread: what the "Split into a thread" fix writes
        into ``post.overrides[account.id]``.

        Existing ``---`` lines are kept; every part, with its "k/n" marker when
        ``post.thread_numbering``, fits :meth:`fits`. Raises NotImplementedError when the channel
        does not publish threads.
        """
        if not self.supports_threads:
            raise NotImplementedError(f"{self.label} does not publish threads.")
        parts = plan_thread(
            post.text_for(account.id),
            lambda text: self.fits(text, account),
            numbering=post.thread_numbering,
        )
        return join_parts(parts)

    # --- delivering ---------------------------------------------------------------------------
    @abc.abstractmethod
    async def publish(self, ctx: DeliveryContext) -> PublishResult:
        """Publish once. Raise a :class:`DeliveryError` subclass on failure."""

    @abc.abstractmethod
    async def reconcile(self, ctx: DeliveryContext) -> Reconciled:
        """Decide whether an attempt with an unknown outcome went out."""

    async def probe(self, http: httpx.AsyncClient, account: Account) -> None:  # noqa: B027
        """Cheap health check; raise :class:`TransientError` while the platform is unhealthy.

        The default (no check) suits channels with nothing to probe.
        """

    async def verify(self, http: httpx.AsyncClient, account: Account, secret: str | None) -> str:
        """Test the connection and credentials; return the handle the platform reports."""
        await self.probe(http, account)
        return self.handle(account)

    async def refresh_settings(self, http: httpx.AsyncClient, account: Account) -> dict[str, Any]:
        """Settings the platform dictates (e.g. an instance's limits), merged into the account."""
        return {}

    def account_warning(self, account: Account, now: float) -> str:
        """Something to do soon although the account still works (a token that lapses in a few
        days), in a sentence; "" when there is nothing."""
        return ""

    # --- assisted posting -------------------------------------------------------------------
    def handover(self, post: Post, account: Account) -> Handover | None:
        """For a channel the user publishes to by hand (no publishing API): what to paste and
        where. Its ``publish`` raises :class:`NeedsUserAction` when the copy's turn comes."""
        return None

    # --- connecting -----------------------------------------------------------------------------
    browser_sign_in: ClassVar[bool] = False  # True when ``authorize`` runs an OAuth flow

    async def authorize(
        self,
        http: httpx.AsyncClient,
        settings: dict[str, Any],
        open_browser: Callable[[str], Any] | None = None,
    ) -> Authorization:
        """Sign in through the system browser (OAuth with PKCE and a loopback redirect).

        ``settings`` holds what the user typed, secret fields included under their names (an app
        secret that the platform's token exchange needs); only the returned
        ``Authorization.settings`` are stored, so secret fields never belong there.
        """
        raise NotImplementedError(f"{self.label} has no browser sign-in; paste a token instead.")


ChannelLookup = Mapping[str, Channel]


# --- shared classification helpers --------------------------------------------------------------


def retry_after_seconds(response: httpx.Response, now: float) -> float | None:
    """Seconds to wait according to ``Retry-After`` or the rate-limit reset headers, if any."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    for header in ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset"):
        value = response.headers.get(header)
        if not value:
            continue
        seconds = _parse_reset(value, now)
        if seconds is not None:
            return seconds
    return None


def _parse_reset(value: str, now: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        from datetime import datetime

        try:
            return max(0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now)
        except ValueError:
            return None
    # Epoch seconds (Mastodon, X, Bluesky) versus a delta (IETF draft RateLimit-Reset).
    return max(0.0, number - now) if number > 1_000_000_000 else max(0.0, number)


def classify_transport_error(exc: httpx.TransportError, platform: str) -> DeliveryError:
    """Split transport failures by whether the request may have reached the platform.

    A refused or timed-out *connection* means nothing was sent: plain transient. Anything after the
    request went out (read timeout, dropped connection) is an unknown outcome to reconcile.
    """
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransientError(f"Could not reach {platform}: {_describe(exc)}")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):
        return PermanentError(f"Cannot talk to {platform}: {_describe(exc)}")
    return UnknownOutcome(f"{platform} did not answer after the request was sent: {_describe(exc)}")


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def classify_status(
    response: httpx.Response, platform: str, message: str, now: float
) -> DeliveryError:
    """The default reading of an HTTP error status; channels refine it for their error shapes."""
    status = response.status_code
    detail = f"{platform} said: {message}" if message else f"{platform} answered HTTP {status}"
    if status == 429:
        return RateLimited(detail, retry_after_seconds(response, now))
    if status in (401,):
        return AuthError(detail)
    if status >= 500 or status in (408, 425):
        return TransientError(detail, retry_after_seconds(response, now))
    return PermanentError(detail)
