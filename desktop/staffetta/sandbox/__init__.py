"""Real HTTP servers on 127.0.0.1 that behave like the platforms' APIs, with fault injection.

``SandboxServer`` runs them; each platform type is a :class:`Platform` subclass listed in
``registry.PLATFORM_TYPES``.
"""

from staffetta.sandbox.faults import FAULT_MODES
from staffetta.sandbox.mastodon import MastodonPlatform, count_characters
from staffetta.sandbox.platform import Platform, Request, Response, UploadedFile
from staffetta.sandbox.registry import PLATFORM_TYPES, platform_type
from staffetta.sandbox.server import SandboxServer

__all__ = [
    "FAULT_MODES",
    "PLATFORM_TYPES",
    "MastodonPlatform",
    "Platform",
    "Request",
    "Response",
    "SandboxServer",
    "UploadedFile",
    "count_characters",
    "platform_type",
]
