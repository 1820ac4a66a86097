"""The list of channels. Adding a channel means adding its class here, and nothing else."""

from __future__ import annotations

from staffetta.channels.assisted import InstagramAssistedChannel, WhatsAppChannel
from staffetta.channels.bluesky import BlueskyChannel
from staffetta.channels.buttondown import ButtondownChannel
from staffetta.channels.discord import DiscordChannel
from staffetta.channels.facebook import FacebookPageChannel
from staffetta.channels.ghost import GhostChannel
from staffetta.channels.instagram import InstagramChannel
from staffetta.channels.linkedin_channel import LinkedInChannel
from staffetta.channels.listmonk import ListmonkChannel
from staffetta.channels.mastodon import MastodonChannel
from staffetta.channels.micropub import MicropubChannel
from staffetta.channels.smtp import SmtpChannel
from staffetta.channels.static_site import StaticSiteChannel
from staffetta.channels.telegram import TelegramChannel
from staffetta.channels.threads_channel import ThreadsChannel
from staffetta.channels.wordpress import WordPressChannel
from staffetta.channels.x_channel import XChannel
from staffetta.core.channel import Channel

CHANNEL_CLASSES: tuple[type[Channel], ...] = (
    StaticSiteChannel,
    MastodonChannel,
    BlueskyChannel,
    TelegramChannel,
    DiscordChannel,
    WordPressChannel,
    GhostChannel,
    MicropubChannel,
    SmtpChannel,
    ButtondownChannel,
    ListmonkChannel,
    InstagramChannel,
    FacebookPageChannel,
    ThreadsChannel,
    XChannel,
    LinkedInChannel,
    WhatsAppChannel,
    InstagramAssistedChannel,
)


def load_channels() -> dict[str, Channel]:
    """One instance of every channel, keyed by its stable name."""
    return {cls.name: cls() for cls in CHANNEL_CLASSES}
