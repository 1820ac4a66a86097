"""The channel registry names every channel and imports each only when it is asked for."""

from __future__ import annotations

import importlib
import threading

import pytest

from staffetta.channels.registry import CHANNEL_CLASSES, Channels, load_channels
from staffetta.core.channel import Channel


def test_every_line_names_the_channel_it_imports() -> None:
    channels = load_channels()
    for name in CHANNEL_CLASSES:
        channel = channels[name]
        assert isinstance(channel, Channel)
        assert channel.name == name
        assert channels[name] is channel  # one instance, created once


def test_an_unknown_channel_is_a_key_error_and_not_in_the_registry() -> None:
    channels = load_channels()
    assert "myspace" not in channels
    assert channels.get("myspace") is None
    with pytest.raises(KeyError):
        channels["myspace"]


def test_a_line_naming_the_wrong_class_is_caught_the_first_time() -> None:
    channels = Channels({"mastodon": "staffetta.channels.static_site:StaticSiteChannel"})
    with pytest.raises(RuntimeError, match="names itself 'static_site'"):
        channels["mastodon"]


def test_threads_asking_at_once_share_one_instance() -> None:
    channels = load_channels()
    importlib.import_module("staffetta.channels.telegram")  # the race is on creation, not import
    seen: list[Channel] = []
    threads = [threading.Thread(target=lambda: seen.append(channels["telegram"])) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(channel is seen[0] for channel in seen)
