"""One preview card: a selected account's post as its platform will show it.

A card is built once per account and then only *updated*: :meth:`PreviewCard.set_preview` compares
what it is given with what it shows and touches only the widgets whose content changed, because
the composer calls it for every card on every keystroke.

Social channels show avatar, name, handle, the text (one bubble per thread part, numbered "1/3"),
the media grid and the link card. Owned channels (a :class:`Preview` with ``title`` or ``html``)
show the title — as a Subject line for e-mail — and the body rendered like a reader sees it.
Every card shows its count against the platform's limit ("287 / 300") in a warning colour from
90 % of the limit and an error colour over it, and the channel's problems with one-click fixes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QLocale, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.channel import Fix, Preview, PreviewPart, Problem
from staffetta.core.text import SpanKind
from staffetta.ui.preview_media import BADGE_COLOURS, MediaGrid, ThumbnailCache
from staffetta.ui.preview_parts import (
    DocumentCache,
    DocumentView,
    ElidedLabel,
    LinkCard,
    PartBubble,
    ProblemRow,
)
from staffetta.ui.preview_style import (
    ERROR,
    OK,
    WARNING,
    accent_colour,
    count_state,
    draw_avatar,
    state_colour,
)
from staffetta.ui.preview_text import (
    FOLD_CHARS,
    LAYOUT_ACCENT,
    LINK_STYLES,
    LinkStyle,
    display_url,
    fold_html,
    reader_css,
    social_html,
)

READER_CAP = 480  # pixels of a long blog or newsletter body shown until "Show more"
READER_FOLD_CHARS = 700  # characters of text laid out until "Show more"
# A folded text shows this many lines, its last ones fading out, whatever it holds: typing in
# the shown start then never makes a card taller or shorter, which would move every card below.
# (700 characters, or FOLD_CHARS' 600, are more lines than this in a card of ordinary width.)
READER_FOLDED_LINES = 10
FOLDED_LINES = 8
READER_LINE_HEIGHT = 1.35  # the reader's stylesheet spaces paragraph lines by 135 %
AVATAR = 40
CARD_RADIUS = 10

# Channels whose posts are e-mails: their title is the Subject line.
EMAIL_CHANNELS = frozenset({"smtp", "email", "buttondown", "listmonk", "ghost_newsletter"})
# Social channels that show no link card at all, and those that show one next to media too.
NO_LINK_CARD = frozenset({"instagram", "whatsapp"})
LINK_CARD_WITH_MEDIA = frozenset({"discord"})


@dataclass(frozen=True, slots=True)
class CardInput:
    """Everything a card shows; equal inputs mean nothing to redraw."""

    preview: Preview
    channel_label: str
    owned: bool
    link: str = ""
    tags: tuple[str, ...] = ()


class PreviewCard(QFrame):
    """The preview of one account. Emits ``fixRequested(account_id, fix)`` for a fix button."""

    fixRequested = Signal(str, str)

    def __init__(
        self,
        account_id: str,
        documents: DocumentCache,
        thumbnails: ThumbnailCache,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.account_id = account_id
        self._documents = documents
        self._input: CardInput | None = None
        self._expanded = False
        self._avatar_key: tuple[str, str, float] | None = None
        self._count_key: tuple[int, int, str, str] | None = None
        self._icons: dict[bool, QPixmap] = {}
        self._count_state = ""
        self._count_fits = 0  # the label is wide enough for texts this long (digits: same width)
        self._accent: tuple[str, str] = ("", "")  # channel, its entity colour on this palette
        self._accessible_name: tuple[str, str] = ("", "")  # channel label, account name
        self._accessible: tuple[bool, tuple[str, ...]] = (False, ())  # owned, parts' starts
        self._corners: tuple[tuple[int, int, int, float, int], QPixmap] | None = None
        self._body_stale = False  # the body shows an earlier text (see set_preview)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # see paintEvent
        # Typing often makes a card a line taller or shorter: only its new (or last) part, and the
        # rows that moved, are painted again, not its header (see resizeEvent).
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)

        header = QHBoxLayout()
        header.setSpacing(10)
        self.avatar = QLabel(self)
        self.avatar.setFixedSize(AVATAR, AVATAR)
        names = QVBoxLayout()
        names.setSpacing(0)
        self.name_label = ElidedLabel(self)
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        self.handle_label = ElidedLabel(self)
        self.handle_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        names.addWidget(self.name_label)
        names.addWidget(self.handle_label)
        self.count_label = QLabel(self)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        # Opaque, on the card's colour: the count changes on every keystroke, and a label that
        # paints its own background spares repainting the card (and the pane) beneath it.
        self.count_label.setBackgroundRole(QPalette.ColorRole.Base)
        self.count_label.setAutoFillBackground(True)
        header.addWidget(self.avatar, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(names, 1)
        header.addWidget(self.count_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)

        # Owned channels: the title (or Subject) and the body as a reader sees it.
        self.title_label = QLabel(self)
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.meta_label = ElidedLabel(self)
        self.meta_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.reader = DocumentView(documents, self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.meta_label)
        layout.addWidget(self.reader)

        # Social channels: the first part, its media and link card, then the rest of a thread.
        self._bubbles: list[PartBubble] = [PartBubble(documents, self)]
        layout.addWidget(self._bubbles[0])
        self.media = MediaGrid(thumbnails, self)
        self.media.setVisible(False)
        self.link_card = LinkCard(self)
        self.link_card.setVisible(False)
        layout.addWidget(self.media)
        layout.addWidget(self.link_card)
        self._more_parts = QVBoxLayout()
        self._more_parts.setSpacing(6)
        layout.addLayout(self._more_parts)

        self.more_button = QPushButton(self)
        self.more_button.setFlat(True)
        self.more_button.clicked.connect(self._toggle_expanded)
        layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignLeft)

        self._problems_box = QVBoxLayout()
        self._problems_box.setSpacing(4)
        layout.addLayout(self._problems_box)
        self._problem_rows: list[ProblemRow] = []

        for widget in (self.title_label, self.meta_label, self.reader, self.more_button):
            widget.setVisible(False)

    # --- what tests and the pane read ----------------------------------------------------------
    def preview(self) -> Preview | None:
        return self._input.preview if self._input else None

    def count_text(self) -> str:
        return self.count_label.text()

    def count_state(self) -> str:
        preview = self.preview()
        return count_state(_worst_count(preview), preview.limit) if preview else OK

    def problems(self) -> tuple[Problem, ...]:
        preview = self.preview()
        return preview.problems if preview else ()

    def problem_rows(self) -> list[ProblemRow]:
        return [row for row in self._problem_rows if row.problem is not None]

    def fix_buttons(self) -> dict[str, QPushButton]:
        """The visible fix buttons by fix value ("split", "add_alt", …)."""
        return {
            row.problem.fix.value: row.button
            for row in self._problem_rows
            if row.problem is not None and row.problem.fix is not None
        }

    def part_views(self) -> list[DocumentView]:
        """The text of each shown part, in order."""
        preview = self.preview()
        if preview is None or self.is_reader():
            return []
        return [bubble.text for bubble in self._bubbles[: len(preview.parts)]]

    def part_numbers(self) -> list[str]:
        return [b.number.text() for b in self._bubbles if b.number.isVisibleTo(self)]

    def is_reader(self) -> bool:
        return bool(self._input and self._input.owned)

    def title_text(self) -> str:
        return self.title_label.text() if self.title_label.isVisibleTo(self) else ""

    # --- updating --------------------------------------------------------------------------------
    def set_preview(self, card: CardInput, *, in_view: bool = True) -> None:
        """Show ``card``, touching only what differs from what is shown.

        The header, the count and the card's description (its count and problems, as a screen
        reader tells them) are always brought up to date. The body (the text as the platform shows
        it, the reader view, media, link card and the problems' rows) is laid out only when the
        card is ``in_view``: laying out text is most of the cost of a keystroke, and a card
        scrolled out of sight would do it for nobody. Such a card remembers that its body is
        behind (:meth:`body_is_stale`) and the pane calls :meth:`catch_up` when it comes into view.
        """
        if card != self._input:
            self._input = card
            self._render(card, body=in_view)
        elif in_view and self._body_stale:
            self.catch_up()

    def body_is_stale(self) -> bool:
        """Whether the body still shows an earlier text (the card was out of view since)."""
        return self._body_stale

    def catch_up(self) -> None:
        """Lay out the body for the current text, if an update left it behind."""
        if self._body_stale and self._input is not None:
            self._render_body(self._input)

    def settle_layout(self) -> None:
        """Lay out the rows whose size changed, then the card (see ``PreviewPane``)."""
        for row in (*self._bubbles, *self._problem_rows, self.link_card):
            layout = row.layout()
            if layout is not None and not row.isHidden():
                layout.activate()
        layout = self.layout()
        if layout is not None:
            layout.activate()

    def _render(self, card: CardInput, body: bool = True) -> None:
        preview = card.preview
        self._set_header(preview, card.channel_label)
        self._set_count(preview)
        self._set_accessible_text(card)
        if body:
            self._render_body(card)
        else:
            self._body_stale = True

    def _render_body(self, card: CardInput) -> None:
        self._body_stale = False
        preview = card.preview
        palette = self.palette()
        if card.owned:
            foldable = self._set_reader(card, palette)
            self._set_parts((), preview.channel, palette)
        else:
            self._set_reader_hidden()
            foldable = self._set_parts(preview.parts, preview.channel, palette)
        self._set_media(card)
        self._set_link(card)
        if foldable != self.more_button.isVisibleTo(self):
            self.more_button.setVisible(foldable)
        if foldable:
            self.more_button.setText(
                self.tr("Show less") if self._expanded else self.tr("Show more")
            )
        self._set_problems(preview.problems)
        self._set_parts_accessible_text(card)

    def _set_header(self, preview: Preview, channel_label: str) -> None:
        self.name_label.set_full_text(preview.account_name)
        self.handle_label.set_full_text(preview.handle)
        initial = (preview.account_name.strip()[:1] or "?").upper()
        key = (preview.channel, initial, self.devicePixelRatioF())
        if key != self._avatar_key:
            self._avatar_key = key
            self.avatar.setPixmap(
                draw_avatar(preview.channel, initial, self.font(), self.devicePixelRatioF(), AVATAR)
            )
            self.avatar.setToolTip(channel_label)

    def _count_text(self, count: int, limit: int, unit: str) -> str:
        unit = QCoreApplication.translate("Channels", unit)  # the channels' words, translated
        locale = QLocale()
        if limit:
            return self.tr("{count} / {limit}").format(
                count=locale.toString(count), limit=locale.toString(limit)
            )
        return self.tr("{count} {unit}").format(count=locale.toString(count), unit=unit)

    def _set_count(self, preview: Preview) -> None:
        count = _worst_count(preview)
        state = count_state(count, preview.limit)
        key = (count, preview.limit, preview.unit, state)
        if key == self._count_key:
            return
        self._count_key = key
        text = self._count_text(count, preview.limit, preview.unit)
        self.count_label.setText(text)
        if state != self._count_state:
            self._count_state = state
            self._paint_state(self.count_label, state)
        self._fit_count_label(text)
        if preview.limit:
            tip = self.tr("{count} of {limit} {unit}, counted the way the platform counts").format(
                count=count,
                limit=preview.limit,
                unit=QCoreApplication.translate("Channels", preview.unit),
            )
        else:
            tip = self.tr("{count} {unit}; this channel has no length limit").format(
                count=count, unit=QCoreApplication.translate("Channels", preview.unit)
            )
        self.count_label.setToolTip(tip)

    def _fit_count_label(self, text: str) -> None:
        """Keep the count label at a fixed size that only ever grows: a label of fixed size does
        not make the pane lay out every card again when its text changes on each keystroke."""
        label = self.count_label
        if len(text) <= self._count_fits:
            return
        font = QFont(label.font())
        font.setBold(True)
        metrics = QFontMetrics(font)
        width = max(metrics.horizontalAdvance(text), metrics.horizontalAdvance("8,888 / 8,888")) + 4
        label.setFixedSize(max(width, label.minimumWidth()), metrics.height())
        self._count_fits = len(text)

    def _paint_state(self, label: QLabel, state: str) -> None:
        palette = label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, state_colour(state, self.palette()))
        label.setPalette(palette)
        font = label.font()
        font.setBold(state != OK)
        label.setFont(font)

    def _set_reader(self, card: CardInput, palette: QPalette) -> bool:
        preview = card.preview
        title = preview.title.strip()
        if preview.channel in EMAIL_CHANNELS:
            title = self.tr("Subject: {title}").format(title=title) if title else ""
        self.title_label.setText(title)
        self.title_label.setVisible(bool(title))
        if title and not self.title_label.font().bold():
            font = self.title_label.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.35)
            self.title_label.setFont(font)
        meta = []
        if card.link:
            meta.append(self.tr("Link: {url}").format(url=card.link))
        if card.tags:
            meta.append(" ".join("#" + tag for tag in card.tags))
        self.meta_label.set_full_text("   ".join(meta))
        self.meta_label.setVisible(bool(meta))
        css = reader_css(
            palette.color(QPalette.ColorRole.Link).name(),
            palette.color(QPalette.ColorRole.PlaceholderText).name(),
        )
        body, foldable = fold_html(preview.html, READER_FOLD_CHARS)
        if self._expanded:
            body = preview.html
        if self._expanded:
            cap = 0
        elif foldable:
            cap = self._folded_height(READER_FOLDED_LINES, READER_LINE_HEIGHT)
        else:
            cap = READER_CAP
        self.reader.set_content(body, css, cap)
        self.reader.setVisible(bool(preview.html))
        return foldable

    def _folded_height(self, lines: int, line_height: float) -> int:
        return round(lines * self.fontMetrics().lineSpacing() * line_height)

    def _set_reader_hidden(self) -> None:
        for widget in (self.title_label, self.meta_label, self.reader):
            if widget.isVisibleTo(self):
                widget.setVisible(False)

    def _set_parts(self, parts: Sequence[PreviewPart], channel: str, palette: QPalette) -> bool:
        if self._accent[0] != channel:
            self._accent = (channel, accent_colour(channel, palette).name())
        accent = self._accent[1]
        threaded = len(parts) > 1
        while len(self._bubbles) < len(parts):
            bubble = PartBubble(self._documents, self)
            self._more_parts.addWidget(bubble)
            self._bubbles.append(bubble)
        folded_any = False
        limit = self._input.preview.limit if self._input else 0
        for index, bubble in enumerate(self._bubbles):
            if index >= len(parts):
                if bubble.isVisibleTo(self):
                    bubble.setVisible(False)
                continue
            part = parts[index]
            fold = not self._expanded
            rich, folded = social_html(part.text, part.spans, channel, accent, fold)
            # Measured with the HTML every channel showing this text the same way shares (only
            # the accent differs): typing at the start of a long post lays out one document per
            # way of showing links, and a card's own colours only when it is painted.
            measure, _ = social_html(part.text, part.spans, channel, LAYOUT_ACCENT, fold)
            folded_any = folded_any or len(part.text) > FOLD_CHARS
            cap = self._folded_height(FOLDED_LINES, 1.0) if folded else 0
            bubble.text.set_content(rich, max_height=cap, layout_html=measure)
            bubble.set_threaded(threaded)
            if threaded:
                bubble.number.setText(
                    self.tr("{index}/{total}").format(index=index + 1, total=len(parts))
                )
                bubble.count.setText(self._count_text(part.count, limit, ""))
                self._paint_state(bubble.count, count_state(part.count, limit))
            if not bubble.isVisibleTo(self):
                bubble.setVisible(True)
        return folded_any

    def _set_media(self, card: CardInput) -> None:
        images = card.preview.images
        self.media.set_images(images, (self.tr("ALT"), self.tr("⚠ No alt")), BADGE_COLOURS)

    def _set_link(self, card: CardInput) -> None:
        url = ""
        channel = card.preview.channel
        shows_card = not card.preview.images or channel in LINK_CARD_WITH_MEDIA
        if not card.owned and channel not in NO_LINK_CARD and shows_card:
            url = card.link or _first_link(card.preview)
        style = LINK_STYLES.get(channel, LinkStyle.AS_WRITTEN)
        self.link_card.set_url(url, display_url(url, style) if url else "")

    def _set_problems(self, problems: Sequence[Problem]) -> None:
        while len(self._problem_rows) < len(problems):
            row = ProblemRow(self)
            row.button.clicked.connect(lambda _=False, r=row: self._on_fix(r))
            self._problems_box.addWidget(row)
            self._problem_rows.append(row)
        for index, row in enumerate(self._problem_rows):
            problem = problems[index] if index < len(problems) else None
            if problem == row.problem:
                continue
            row.problem = problem
            if problem is None:
                row.setVisible(False)
                row.look = None
                continue
            row.message.set_plain_text(problem.message)
            row.message.setAccessibleName(problem.message)
            if problem.fix is not None:
                row.button.setToolTip(problem.message)
            # Typing past the limit changes only the message ("612 / 500 …"): keep the rest.
            look = (problem.blocking, problem.fix)
            if look != row.look:
                row.look = look
                row.icon.setPixmap(self._problem_icon(problem.blocking))
                colours = row.message.palette()
                state = ERROR if problem.blocking else WARNING
                colours.setColor(QPalette.ColorRole.Text, state_colour(state, self.palette()))
                row.message.setPalette(colours)
                row.button.setVisible(problem.fix is not None)
                if problem.fix is not None:
                    label = self._fix_label(problem.fix)
                    row.button.setText(label)
                    row.button.setAccessibleName(label)
            if not row.isVisibleTo(self):
                row.setVisible(True)

    def _problem_icon(self, blocking: bool) -> QPixmap:
        pixmap = self._icons.get(blocking)
        if pixmap is None:
            icon = (
                QStyle.StandardPixmap.SP_MessageBoxCritical
                if blocking
                else QStyle.StandardPixmap.SP_MessageBoxWarning
            )
            pixmap = self.style().standardIcon(icon).pixmap(16, 16)
            self._icons[blocking] = pixmap
        return pixmap

    def _fix_label(self, fix: Fix) -> str:
        labels = {
            Fix.SPLIT: self.tr("Split into a thread"),
            Fix.RESIZE: self.tr("Resize image"),
            Fix.CUSTOMISE: self.tr("Customise text for this channel"),
            Fix.ADD_ALT: self.tr("Add alt text"),
            Fix.ADD_IMAGE: self.tr("Add an image"),
            Fix.REMOVE_IMAGES: self.tr("Remove images"),
        }
        return labels.get(fix, str(fix))

    def _on_fix(self, row: ProblemRow) -> None:
        if row.problem is not None and row.problem.fix is not None:
            self.fixRequested.emit(self.account_id, row.problem.fix.value)

    def _set_accessible_text(self, card: CardInput) -> None:
        # Typing changes the description (the count, the problems) on every keystroke, the rest
        # rarely: only what changed is handed to the widgets.
        preview = card.preview
        key = (card.channel_label, preview.account_name)
        if key != self._accessible_name:
            self._accessible_name = key
            self.setAccessibleName(
                self.tr("{channel} preview for {name}").format(
                    channel=card.channel_label, name=preview.account_name
                )
            )
        description = ". ".join([self.count_text(), *(p.message for p in preview.problems)])
        if description != self.accessibleDescription():
            self.setAccessibleDescription(description)
            self.count_label.setAccessibleName(
                self.tr("Length: {count}").format(count=self.count_text())
            )

    def _set_parts_accessible_text(self, card: CardInput) -> None:
        preview = card.preview
        texts = tuple(part.text[:FOLD_CHARS] for part in preview.parts)
        if (card.owned, texts) == self._accessible:
            return
        self._accessible = (card.owned, texts)
        for index, view in enumerate(self.part_views()):
            view.setAccessibleName(self.tr("Post text, part {n}").format(n=index + 1))
            view.setAccessibleDescription(texts[index])
        if card.owned:
            self.reader.setAccessibleName(self.tr("Post body as readers see it"))

    def _toggle_expanded(self) -> None:
        self._expanded = not self._expanded
        if self._input is not None:
            self._render(self._input)

    # --- look ------------------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._input is not None:
            self._count_key = None
            self._count_state = ""
            self._accent = ("", "")
            for row in self._problem_rows:
                row.problem = None
            self._render(self._input)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        old = event.oldSize()
        if old.width() != self.width() or old.height() < 0:
            self.update()  # the right-hand edge moved: all of it
        else:  # the bottom edge moved: where it was and where it is (static contents)
            q = CARD_RADIUS + 1
            self.update(QRect(0, min(old.height(), self.height()) - q, self.width(), q + 1))

    def paintEvent(self, event: QPaintEvent) -> None:
        # A rounded card. Antialiased shapes cost ~0.3 ms per card on every repaint, so the four
        # corners are drawn once into a small pixmap and the rest is plain rectangles. The
        # corners are drawn on the pane's colour, so the card paints every pixel (it is opaque):
        # when typing makes a card taller, Qt moves the cards below by copying them instead of
        # painting them again, and the pane's background is never painted beneath a card.
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        focused = self.hasFocus()
        border = palette.color(QPalette.ColorRole.Highlight if focused else QPalette.ColorRole.Mid)
        line = 2 if focused else 1
        corner = self._corner_pixmap(base, border, line)
        q = CARD_RADIUS + 1  # a corner tile: the arc and one pixel of straight edge
        w, h = self.width(), self.height()
        painter = QPainter(self)
        painter.fillRect(QRect(q, 0, w - 2 * q, q), base)
        painter.fillRect(QRect(0, q, w, h - 2 * q), base)
        painter.fillRect(QRect(q, h - q, w - 2 * q, q), base)
        for edge in (
            QRect(q, 0, w - 2 * q, line),
            QRect(q, h - line, w - 2 * q, line),
            QRect(0, q, line, h - 2 * q),
            QRect(w - line, q, line, h - 2 * q),
        ):
            painter.fillRect(edge, border)
        ratio = corner.devicePixelRatio()
        tile = round(q * ratio)
        for x, y, sx, sy in ((0, 0, 0, 0), (w - q, 0, tile, 0), (0, h - q, 0, tile)):
            painter.drawPixmap(QRect(x, y, q, q), corner, QRect(sx, sy, tile, tile))
        painter.drawPixmap(QRect(w - q, h - q, q, q), corner, QRect(tile, tile, tile, tile))
        painter.end()

    def _corner_pixmap(self, base: QColor, border: QColor, line: int) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pane = self.parentWidget() or self  # fills its background (a scroll area's widget)
        outside = pane.palette().color(pane.backgroundRole())
        key = (base.rgba(), border.rgba(), line, ratio, outside.rgba())
        if self._corners is None or self._corners[0] != key:
            side = 2 * (CARD_RADIUS + 1)
            pixmap = QPixmap(round(side * ratio), round(side * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(outside)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(border, line))
            painter.setBrush(base)
            inset = line / 2
            painter.drawRoundedRect(
                QRectF(inset, inset, side - line, side - line), CARD_RADIUS, CARD_RADIUS
            )
            painter.end()
            self._corners = (key, pixmap)
        return self._corners[1]


def _worst_count(preview: Preview | None) -> int:
    if preview is None or not preview.parts:
        return 0
    return max(part.count for part in preview.parts)


def _first_link(preview: Preview) -> str:
    for part in preview.parts[:1]:
        for span in part.spans:
            if span.kind is SpanKind.LINK:
                return span.value
    return ""
