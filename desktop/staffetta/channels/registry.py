"""The list of channels. Adding a channel means adding its line here, and nothing else.

Channels are *named* here, not imported: each is imported the first time something asks for it by
name. The window opens with the channels its accounts use, and the engine loads only the ones it
delivers to, instead of paying for all eighteen (some 60 modules, ~0.15 s and ~25 MB) at every
start. Asking for every channel (``values()``, ``items()``) imports them all, as the add-account
chooser and ``--help`` do.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping

from staffetta.core.channel import Channel

# Stable channel name (stored with each account) -> "module:Class". Order is the order users see.
CHANNEL_CLASSES: dict[str, str] = {
    "static_site": "staffetta.channels.static_site:StaticSiteChannel",
    "mastodon": "staffetta.channels.mastodon:MastodonChannel",
    "bluesky": "staffetta.channels.bluesky:BlueskyChannel",
    "telegram": "staffetta.channels.telegram:TelegramChannel",
    "discord": "staffetta.channels.discord:DiscordChannel",
    "wordpress": "staffetta.channels.wordpress:WordPressChannel",
    "ghost": "staffetta.channels.ghost:GhostChannel",
    "micropub": "staffetta.channels.micropub:MicropubChannel",
    "smtp": "staffetta.channels.smtp:SmtpChannel",
    "buttondown": "staffetta.channels.buttondown:ButtondownChannel",
    "listmonk": "staffetta.channels.listmonk:ListmonkChannel",
    "instagram": "staffetta.channels.instagram:InstagramChannel",
    "facebook": "staffetta.channels.facebook:FacebookPageChannel",
    "threads": "staffetta.channels.threads_channel:ThreadsChannel",
    "x": "staffetta.channels.x_channel:XChannel",
    "linkedin": "staffetta.channels.linkedin_channel:LinkedInChannel",
    "whatsapp": "staffetta.channels.assisted:WhatsAppChannel",
    "instagram_assisted": "staffetta.channels.assisted:InstagramAssistedChannel",
}


class Channels(Mapping[str, Channel]):
    """Every channel by name, each created on first use (once: later lookups get the same one).

    Safe to share between threads: two threads asking for the same channel get one instance."""

    def __init__(self, classes: Mapping[str, str] = CHANNEL_CLASSES) -> None:
        self._classes = dict(classes)
        self._loaded: dict[str, Channel] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Channel:
        channel = self._loaded.get(name)
        if channel is not None:
            return channel
        target = self._classes[name]  # KeyError for a channel this build does not have
        with self._lock:
            channel = self._loaded.get(name)
            if channel is None:
                module, _, class_name = target.partition(":")
                channel = getattr(importlib.import_module(module), class_name)()
                if channel.name != name:  # a wrong line above, caught the first time it is used
                    raise RuntimeError(f"channel '{name}' names itself '{channel.name}'")
                self._loaded[name] = channel
        return channel

    def __contains__(self, name: object) -> bool:
        return name in self._classes  # without importing the channel

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)


def load_channels() -> Channels:
    """Every channel, keyed by its stable name; each is imported when first asked for."""
    return Channels()
