"""Help ▸ About: what Staffetta is, its version and licence, and where the user's data lives."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from staffetta import __version__
from staffetta.ui.context import AppContext
from staffetta.ui.icons import app_icon


class AboutDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Staffetta"))
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(72, 72))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        paragraphs = [
            f"<h2>Staffetta {html.escape(__version__)}</h2>",
            "<p>"
            + html.escape(
                self.tr(
                    "Write once, see how your post looks on every channel, and let Staffetta "
                    "deliver it — also through platform outages, without duplicates."
                )
            )
            + "</p>",
            "<p>"
            + html.escape(
                self.tr("Your outbox is kept on this computer, in {folder}.").format(
                    folder=ctx.runtime.paths.data
                )
            )
            + "</p>",
            "<p>"
            + html.escape(
                self.tr("Free software under the GNU GPL, version 3 or later. Qt {version}.")
            ).format(version=html.escape(qVersion()))
            + "</p>",
        ]
        self.text = QLabel("".join(paragraphs))
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)
