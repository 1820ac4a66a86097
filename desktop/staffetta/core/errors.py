"""Errors with a message a user can act on.

Delivery errors carry the engine's decision in their type: a channel classifies what the platform
said into one of these, and the engine only looks at the type. Messages never contain secrets:
channels build them from the platform's reply, never from request headers or URLs with tokens.
"""

from __future__ import annotations


class StaffettaError(Exception):
    """Base for errors whose message is meant for the user as it is."""


class DeliveryError(StaffettaError):
    """A delivery attempt did not succeed."""


class TransientError(DeliveryError):
    """Try again later: network down, timeout, 5xx, 429. ``retry_after`` in seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The platform asked us to slow down; ``retry_after`` is when its window resets."""


class AuthError(DeliveryError):
    """The platform refused the credentials: the account pauses until the user reconnects."""


class PermanentError(DeliveryError):
    """The platform refused this content; sending it again would fail the same way."""


class UnknownOutcome(DeliveryError):
    """The request left but no answer came back: it may or may not have been published."""


class NeedsUserAction(DeliveryError):
    """Only the user can publish this (an assisted channel: no publishing API): the delivery
    waits in its place, as "your turn", until the user says it was posted or skipped."""


class StoreError(StaffettaError):
    """The outbox database cannot be used (corrupt, newer version, read-only or full disk)."""


class SecretStoreError(StaffettaError):
    """No usable OS keyring: nothing is stored, and the message says how to fix it."""


class InputError(StaffettaError):
    """Something the user gave us cannot be used (unreadable image, bad URL, bad front matter)."""
