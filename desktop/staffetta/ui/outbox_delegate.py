"""Paints one outbox row: headline and time, the most pressing problem (or the text), the chips.

Every row has the same height (the view can then skip measuring 100,000 rows); chips are laid
out by one function that painting and hit-testing share, so a click lands on the chip it shows.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
)

from staffetta.core.store import PostSummary
from staffetta.runtime import Runtime
from staffetta.ui.outbox_model import (
    ChipsRole,
    PostRole,
    PressingRole,
    ReasonRole,
    excerpt_text,
    first_line,
)
from staffetta.ui.state_chip import (
    GAP,
    Chip,
    ChipPainter,
    chip_height,
    chip_width,
    clock_text,
    explanation,
    phase_colour,
    readable,
)

Index = QModelIndex | QPersistentModelIndex
PAD = 8
_MIN_CHIP = 64  # narrower than this, a chip says nothing; the rest become "+n"


class OutboxDelegate(QStyledItemDelegate):
    def __init__(self, runtime: Runtime, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runtime = runtime
        self._chips = ChipPainter()

    # --- geometry -------------------------------------------------------------------------------
    def row_height(self, metrics: QFontMetrics) -> int:
        line = metrics.height()
        return PAD + line + 2 + line + 6 + chip_height(metrics) + PAD

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        # The width is the viewport's (the view stretches rows); only the height counts.
        return QSize(1, self.row_height(option.fontMetrics))

    def chip_layout(
        self, rect: QRect, chips: list[Chip], metrics: QFontMetrics
    ) -> tuple[list[tuple[QRect, Chip]], int]:
        """Where each chip goes in a row drawn in ``rect``, and how many did not fit."""
        line = metrics.height()
        top = rect.top() + PAD + line + 2 + line + 6
        height = chip_height(metrics)
        left, right = rect.left() + PAD, rect.right() - PAD
        more_width = metrics.horizontalAdvance("+99") + 12
        placed: list[tuple[QRect, Chip]] = []
        for number, chip in enumerate(chips):
            room = right - left + 1
            if number < len(chips) - 1:
                room -= more_width + GAP  # keep space for "+n" in case the next ones don't fit
            width = chip_width(metrics, chip, room)
            if width < min(_MIN_CHIP, chip_width(metrics, chip)):
                return placed, len(chips) - number
            placed.append((QRect(left, top, width, height), chip))
            left += width + GAP
        return placed, 0

    def chip_at(self, rect: QRect, index: Index, pos: QPoint, metrics: QFontMetrics) -> Chip | None:
        chips: list[Chip] = index.data(ChipsRole) or []
        placed, _hidden = self.chip_layout(rect, chips, metrics)
        return next((chip for area, chip in placed if area.contains(pos)), None)

    # --- painting -------------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        post: PostSummary | None = index.data(PostRole)
        if post is None:
            return
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        metrics = option.fontMetrics
        rect = option.rect
        line = metrics.height()
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text_colour = palette.color(text_role)
        muted = QColor(text_colour)
        muted.setAlphaF(0.62)
        now = self._runtime.clock.now()
        painter.save()

        # Line 1: the headline in bold, the time on the right.
        stamp = clock_text(post.created_at, now)
        stamp_width = metrics.horizontalAdvance(stamp)
        top = rect.top() + PAD
        painter.setPen(muted)
        painter.drawText(
            QRect(rect.right() - PAD - stamp_width, top, stamp_width, line),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            stamp,
        )
        bold = QFont(option.font)
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        headline_width = rect.width() - 3 * PAD - stamp_width
        headline = first_line(post) or self.tr("(no text)")
        painter.setFont(bold)
        painter.setPen(text_colour)
        painter.drawText(
            QRect(rect.left() + PAD, top, headline_width, line),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            bold_metrics.elidedText(headline, Qt.TextElideMode.ElideRight, headline_width),
        )
        painter.setFont(option.font)

        # Line 2: what needs attention, else more of the text.
        chips: list[Chip] = index.data(ChipsRole) or []
        reason: str = index.data(ReasonRole) or ""
        second = QRect(rect.left() + PAD, top + line + 2, rect.width() - 2 * PAD, line)
        worst: Chip | None = index.data(PressingRole)
        if reason and worst is not None:
            colour = text_colour if selected else readable(phase_colour(worst.phase), palette)
            painter.setPen(colour)
            shown = reason
        else:
            painter.setPen(muted)
            shown = excerpt_text(post)
        painter.drawText(
            second,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            metrics.elidedText(shown, Qt.TextElideMode.ElideRight, second.width()),
        )

        # Line 3: the chips, and "+n" for those that do not fit.
        placed, hidden = self.chip_layout(rect, chips, metrics)
        for area, chip in placed:
            self._chips.paint(painter, area, chip, palette, option.font, selected=selected)
        if hidden:
            left = placed[-1][0].right() + GAP if placed else rect.left() + PAD
            top_of_chips = placed[0][0].top() if placed else second.bottom() + 6
            painter.setPen(muted)
            painter.drawText(
                QRect(
                    left,
                    top_of_chips,
                    rect.right() - left,
                    placed[0][0].height() if placed else line,
                ),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                self.tr("+{n}").format(n=hidden),
            )

        # A hairline between rows (a filled rectangle: a translucent line is much slower).
        separator = QColor(palette.color(QPalette.ColorRole.Text))
        separator.setAlphaF(0.08)
        painter.fillRect(
            QRect(rect.left() + PAD, rect.bottom(), rect.width() - 2 * PAD, 1), separator
        )
        painter.restore()

    # --- tooltips -----------------------------------------------------------------------------
    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: Index,
    ) -> bool:
        if event.type() != QEvent.Type.ToolTip or not index.isValid():
            return super().helpEvent(event, view, option, index)
        chip = self.chip_at(option.rect, index, event.pos(), option.fontMetrics)
        if chip is None:
            return super().helpEvent(event, view, option, index)
        tip = f"{chip.text}\n{explanation(chip, self._runtime.clock.now())}"
        QToolTip.showText(event.globalPos(), tip, view)
        return True


def chip_under(view: QAbstractItemView, delegate: OutboxDelegate, pos: QPoint) -> Chip | None:
    """The chip at ``pos`` in the view's viewport, if any."""
    index = view.indexAt(pos)
    if not index.isValid():
        return None
    return delegate.chip_at(view.visualRect(index), index, pos, QFontMetrics(view.font()))
