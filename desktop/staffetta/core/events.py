"""What the engine tells the window and the command line; importable without the engine."""

from __future__ import annotations

from dataclasses import dataclass

from staffetta.core.model import State

__all__ = ["DELIVERY", "PLATFORM_DOWN", "PLATFORM_UP", "EngineEvent"]


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """Something the UI or CLI may want to show. ``kind`` is one of the constants below."""

    kind: str
    delivery_id: int = 0
    account_id: str = ""
    endpoint: str = ""
    state: State | None = None
    detail: str = ""
    count: int = 0


DELIVERY = "delivery"  # a delivery changed state
PLATFORM_DOWN = "platform_down"  # an endpoint's breaker opened
PLATFORM_UP = "platform_up"  # an endpoint recovered; ``count`` deliveries released
