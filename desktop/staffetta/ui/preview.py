"""The live previews beside the composer: one card per selected account, updated as the user types.

:meth:`PreviewPane.set_post` asks each account's channel for its :class:`Preview` (the platform's
own counting and problems) and hands it to that account's card. Cards are created once per account
and reused: a keystroke only changes the parts of each card whose content changed, and cards that
show the same text share one laid-out document (see :mod:`staffetta.ui.preview_parts`). Every card
keeps its count and problems current, but only the cards in view lay out their text: the others
catch up when they come into view (scrolled to, or moved up by the cards above them). What changed
size is laid out before the pane repaints, so a keystroke paints the cards in view once.

Above the cards, the owned-first note: when every selected account is on a social platform, a
gentle, dismissible reminder that a blog or newsletter keeps the audience reachable, with a button
that asks the window to add one (``addOwnedRequested``). Dismissing it is remembered in settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPixmap, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScrollBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.channel import Channel, Preview, Problem
from staffetta.core.model import Account, ChannelGroup, Post, needs_owned_channel
from staffetta.ui.context import AppContext

if TYPE_CHECKING:
    from staffetta.ui.preview_card import CardInput, PreviewCard
    from staffetta.ui.preview_media import ThumbnailCache
    from staffetta.ui.preview_parts import DocumentCache

# The cards' modules (rendering, media, thread parts) load with the first card: a window opening on
# an empty draft shows none.

log = logging.getLogger(__name__)

OWNED_NOTE_DISMISSED = "preview/ownedNoteDismissed"
_MOVED = (QEvent.Type.Move, QEvent.Type.Resize)


class OwnedFirstNote(QFrame):
    """The owned-first reminder, with "Add a blog or newsletter" and a dismiss button."""

    addRequested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Tip: add a channel you own"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 10, 8, 10)
        text = QVBoxLayout()
        self.message = QLabel(
            self.tr(
                "Social platforms can go down or change the rules. A blog or newsletter you own "
                "keeps your audience reachable."
            ),
            self,
        )
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.add_button = QPushButton(self.tr("Add a blog or newsletter"), self)
        self.add_button.clicked.connect(self.addRequested)
        text.addWidget(self.message)
        text.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.dismiss_button = QToolButton(self)
        self.dismiss_button.setText("✕")
        self.dismiss_button.setAutoRaise(True)
        self.dismiss_button.setAccessibleName(self.tr("Dismiss this tip"))
        self.dismiss_button.setToolTip(self.tr("Dismiss this tip"))
        self.dismiss_button.clicked.connect(self.dismissed)
        layout.addLayout(text, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)


class PaintedOnceScrollBar(QScrollBar):
    """The pane's scroll bar, drawn by the style once for each look and then copied.

    The style draws it with gradients (~0.3 ms), and the pane is repainted whole when typing moves
    its cards. While the pointer is over it or it is dragged it is drawn live, as the style wants
    (hover and pressed looks)."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self._picture: tuple[tuple[object, ...], QPixmap] | None = None
        self._painted = False

    def paintEvent(self, event: QPaintEvent) -> None:
        # The first paint is the style's own: making QStyle's ~20 enums costs the window ~5 % of
        # its start-up, before anything needs them; the picture is made from the next paint.
        first, self._painted = not self._painted, True
        if first or self.underMouse() or self.isSliderDown():
            super().paintEvent(event)
            return
        from PySide6.QtWidgets import QStyle, QStyleOptionSlider

        option = QStyleOptionSlider()
        self.initStyleOption(option)
        option.subControls = QStyle.SubControl.SC_All
        ratio = self.devicePixelRatioF()
        size = option.rect.size()
        key = (
            (size.width(), size.height(), ratio, option.direction, option.state.value),
            (option.minimum, option.maximum, option.sliderPosition, option.pageStep),
            option.palette.cacheKey(),
            self.style().name(),
        )
        if self._picture is None or self._picture[0] != key:
            pixmap = QPixmap(round(size.width() * ratio), round(size.height() * ratio))
            pixmap.setDevicePixelRatio(ratio)
            # On the colour beneath it, so it is drawn exactly as it would be on the pane.
            pixmap.fill(option.palette.color(QPalette.ColorRole.Window))
            painter = QPainter(pixmap)
            self.style().drawComplexControl(
                QStyle.ComplexControl.CC_ScrollBar, option, painter, self
            )
            painter.end()
            self._picture = (key, pixmap)
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._picture[1])
        painter.end()


class PreviewPane(QScrollArea):
    """Live previews of a post for a list of accounts. See the module docstring."""

    fixRequested = Signal(str, str)  # account id, Fix value ("split", "add_alt", ...)
    addOwnedRequested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._caches: tuple[DocumentCache, ThumbnailCache] | None = None  # with the first card
        self._cards: dict[str, PreviewCard] = {}
        self._order: list[str] = []
        self._note_dismissed = bool(ctx.settings.value(OWNED_NOTE_DISMISSED, False, type=bool))
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBar(PaintedOnceScrollBar(Qt.Orientation.Vertical, self))
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName(self.tr("Previews"))

        body = self._body = QWidget(self)
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.setSpacing(12)
        self.owned_note = OwnedFirstNote(body)
        self.owned_note.setVisible(False)
        self.owned_note.addRequested.connect(self.addOwnedRequested)
        self.owned_note.dismissed.connect(self._dismiss_owned_note)
        self._layout.addWidget(self.owned_note)
        self._choose_text = self.tr("Choose where to publish to see the previews.")
        self.empty_label = QLabel(self._choose_text, body)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self.empty_label)
        self._cards_layout = QVBoxLayout()
        self._cards_layout.setSpacing(12)
        self._layout.addLayout(self._cards_layout)
        self._layout.addStretch(1)
        self.setWidget(body)
        self.verticalScrollBar().valueChanged.connect(self._catch_up)

    # --- public ------------------------------------------------------------------------------
    def set_post(self, post: Post, accounts: Sequence[Account]) -> None:
        """Show ``post`` as each of ``accounts`` will publish it (cheap: call it per keystroke).

        Before anything is written (no text, title or image) one line stands in for the cards:
        empty cards say nothing, and a window opening on twenty accounts need not build them."""
        channels = self._ctx.runtime.channels
        found = [(account, channels.get(account.channel)) for account in accounts]
        groups = [channel.group for _, channel in found if channel is not None]
        self._update_owned_note(groups)
        if accounts and _blank(post):
            self._sync_cards([])
            self.empty_label.setText(
                self.tr(
                    "Start writing: each of the %n chosen channel(s) shows its preview here.",
                    "",
                    len(accounts),
                )
            )
            self.empty_label.setVisible(True)
            return
        self.empty_label.setText(self._choose_text)
        inputs = [
            (account.id, self._card_input(channel, post, account)) for account, channel in found
        ]
        self._sync_cards([account_id for account_id, _ in inputs])
        shown: list[PreviewCard] = []
        for account_id, card_input in inputs:
            card = self._cards[account_id]
            in_view = self._in_view(card)
            card.set_preview(card_input, in_view=in_view)
            if in_view:
                shown.append(card)
        self.empty_label.setVisible(not inputs)
        self._settle_layout(shown)

    def cards(self) -> list[PreviewCard]:
        """The cards, in the order of the accounts last given to :meth:`set_post`."""
        return [self._cards[account_id] for account_id in self._order]

    def card(self, account_id: str) -> PreviewCard | None:
        return self._cards.get(account_id)

    def _settle_layout(self, cards: Sequence[PreviewCard]) -> None:
        """Lay out now, inside out, what changed size in ``cards`` (the others did not change).
        Left to the event loop, the layout requests of a card and of the pane arrive either side
        of a repaint: everything in view would be painted twice, once before the cards below
        moved."""
        if not self.isVisible():
            return
        for card in cards:
            card.settle_layout()
        self._layout.activate()

    # --- cards out of view ----------------------------------------------------------------------
    def _in_view(self, card: PreviewCard) -> bool:
        """Whether any of ``card`` shows in the viewport (always, while the pane is hidden: then
        nothing tells when it would come into view)."""
        if not self.isVisible():
            return True
        top = -self._body.y()
        return card.y() < top + self.viewport().height() and card.y() + card.height() > top

    def _catch_up(self) -> None:
        """Bring up to date the cards that came into view with an earlier text."""
        for card in self._cards.values():
            if card.body_is_stale() and self._in_view(card):
                card.catch_up()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A card moves into view when those above it shrink or go: it must not show an old text.
        if self._cards and event.type() in _MOVED:  # (no card yet: nothing to catch up)
            from staffetta.ui.preview_card import PreviewCard

            if (
                isinstance(watched, PreviewCard)
                and watched.body_is_stale()
                and self._in_view(watched)
            ):
                watched.catch_up()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._catch_up()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._catch_up()

    # --- internals -----------------------------------------------------------------------------
    def _card_caches(self) -> tuple[DocumentCache, ThumbnailCache]:
        if self._caches is None:
            from staffetta.ui.preview_media import ThumbnailCache
            from staffetta.ui.preview_parts import DocumentCache

            self._caches = (DocumentCache(), ThumbnailCache())
        return self._caches

    def _card_input(self, channel: Channel | None, post: Post, account: Account) -> CardInput:
        from staffetta.ui.preview_card import CardInput

        if channel is None:
            return CardInput(
                self._unavailable(
                    account,
                    self.tr("This version of Staffetta does not know the channel '{name}'.").format(
                        name=account.channel
                    ),
                ),
                account.channel,
                owned=False,
            )
        try:
            preview = channel.preview(post, account)
        except Exception as exc:  # a channel bug must not take the composer down with it
            log.exception("Preview of %s for account %s failed", account.channel, account.id)
            preview = self._unavailable(
                account,
                self.tr("The preview could not be made: {error}").format(error=type(exc).__name__),
            )
        owned = channel.group is ChannelGroup.OWNED or bool(preview.html or preview.title)
        return CardInput(preview, channel.label, owned, post.link, post.tags)

    @staticmethod
    def _unavailable(account: Account, message: str) -> Preview:
        return Preview(
            channel=account.channel,
            account_name=account.name,
            handle=str(account.settings.get("handle", "")),
            parts=(),
            limit=0,
            unit="",
            problems=(Problem("preview_unavailable", message),),
        )

    def _sync_cards(self, account_ids: list[str]) -> None:
        """Create, drop and reorder cards so they follow ``account_ids``; reuse the rest."""
        if account_ids == self._order:
            return
        from staffetta.ui.preview_card import PreviewCard

        wanted = set(account_ids)
        for account_id in [a for a in self._cards if a not in wanted]:
            card = self._cards.pop(account_id)
            self._cards_layout.removeWidget(card)
            card.deleteLater()
        for account_id in account_ids:
            if account_id not in self._cards:
                card = PreviewCard(account_id, *self._card_caches(), self.widget())
                card.fixRequested.connect(self.fixRequested)
                card.installEventFilter(self)
                self._cards[account_id] = card
        for index, account_id in enumerate(account_ids):
            card = self._cards[account_id]
            if self._cards_layout.indexOf(card) != index:
                self._cards_layout.removeWidget(card)
                self._cards_layout.insertWidget(index, card)
        for account_id in account_ids:
            card = self._cards[account_id]
            if card.isHidden():  # new: shown now rather than on the next turn of the event loop
                card.show()
        self._order = list(account_ids)
        self._fix_tab_order()

    def _fix_tab_order(self) -> None:
        previous: QWidget = self.owned_note.dismiss_button
        for card in self.cards():
            QWidget.setTabOrder(previous, card)
            previous = card

    def _update_owned_note(self, groups: Sequence[ChannelGroup]) -> None:
        show = needs_owned_channel(groups) and not self._note_dismissed
        if show != self.owned_note.isVisibleTo(self):
            self.owned_note.setVisible(show)

    def _dismiss_owned_note(self) -> None:
        self._note_dismissed = True
        self._ctx.settings.setValue(OWNED_NOTE_DISMISSED, True)
        self.owned_note.setVisible(False)


def _blank(post: Post) -> bool:
    """Nothing written yet, for any account."""
    return not (
        post.body.strip()
        or post.title.strip()
        or post.images
        or post.link.strip()
        or any(text.strip() for text in post.overrides.values())
    )
