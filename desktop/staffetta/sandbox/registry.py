"""The platform types the sandbox can serve: a new sandbox platform adds its class here."""

from __future__ import annotations

from staffetta.sandbox.bluesky import BlueskyPlatform
from staffetta.sandbox.buttondown import ButtondownPlatform
from staffetta.sandbox.discord import DiscordPlatform
from staffetta.sandbox.ghost import GhostPlatform
from staffetta.sandbox.linkedin import LinkedInPlatform
from staffetta.sandbox.listmonk import ListmonkPlatform
from staffetta.sandbox.mastodon import MastodonPlatform
from staffetta.sandbox.meta import MetaPlatform
from staffetta.sandbox.micropub import MicropubPlatform
from staffetta.sandbox.platform import Platform
from staffetta.sandbox.telegram import TelegramPlatform
from staffetta.sandbox.wordpress import WordPressPlatform
from staffetta.sandbox.x import XPlatform

PLATFORM_TYPES: tuple[type[Platform], ...] = (
    MastodonPlatform,
    BlueskyPlatform,
    TelegramPlatform,
    DiscordPlatform,
    MicropubPlatform,
    WordPressPlatform,
    GhostPlatform,
    ButtondownPlatform,
    ListmonkPlatform,
    MetaPlatform,
    XPlatform,
    LinkedInPlatform,
)


def platform_type(instance: str) -> type[Platform]:
    """The class serving ``instance``: ``<type>`` or ``<type><digits>`` (``mastodon3``)."""
    for cls in PLATFORM_TYPES:
        suffix = instance[len(cls.type_name) :]
        if instance.startswith(cls.type_name) and (not suffix or suffix.isdigit()):
            return cls
    known = ", ".join(cls.type_name for cls in PLATFORM_TYPES)
    raise ValueError(f"unknown sandbox platform {instance!r}; known types: {known}")
