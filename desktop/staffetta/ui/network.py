"""The machine came back online: tell the engine to probe the platforms that are down at once.

Qt's ``QNetworkInformation`` reports reachability from the operating system (NetworkManager,
Windows' network list, macOS' path monitor). Where no backend is available nothing changes: the
engine still probes on its backoff schedule.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QNetworkInformation

from staffetta.ui.bridge import EngineBridge

log = logging.getLogger(__name__)

Reachability = QNetworkInformation.Reachability


class NetworkMonitor(QObject):
    """Calls ``bridge.check_now()`` each time the machine goes from offline to online."""

    cameOnline = Signal()

    def __init__(self, bridge: EngineBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._last: Reachability | None = None
        self.backend = ""

    def start(self) -> bool:
        """Start listening to the system; False when this platform has no reachability backend."""
        feature = QNetworkInformation.Feature.Reachability
        if not QNetworkInformation.loadBackendByFeatures(feature):
            log.info("no network reachability backend: platforms are probed on schedule only")
            return False
        info = QNetworkInformation.instance()
        self.backend = info.backendName()
        self._last = info.reachability()
        info.reachabilityChanged.connect(self.on_reachability_changed)
        return True

    def on_reachability_changed(self, reachability: Reachability) -> None:
        """Slot for the system's reports; going online (from anything less) triggers a probe."""
        was_online = self._last == Reachability.Online
        self._last = reachability
        if reachability == Reachability.Online and not was_online:
            log.info("the network is back: probing platforms that are down")
            self._bridge.check_now()
            self.cameOnline.emit()
