"""The add-account and reconnect dialog, built from the channel's fields.

Each field shows its label, the channel's one- or two-sentence help on where to get what it asks
for, and its own inline message when it is missing. Secrets (tokens, app passwords, webhook
addresses) are typed into password fields, go to the engine thread with the connect job and from
there only to the keyring: the dialog never writes them to settings or logs.

Channels with a browser sign-in offer "Sign in with your browser" first: the sign-in runs on the
engine thread (``Channel.authorize``), the browser opens on the GUI thread, and the user can cancel
while the dialog waits. Other channels "Connect", which checks the credentials with the platform.
Before any secret is asked for, the dialog makes sure a system keyring is there; without one it
explains how to get one instead of showing a form it could not save.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from staffetta.core.channel import Channel, Field
from staffetta.core.errors import SecretStoreError, StaffettaError
from staffetta.core.model import Account
from staffetta.core.secrets import how_to_fix
from staffetta.runtime import uses_secret
from staffetta.ui.bridge import Worker
from staffetta.ui.channel_chooser import describe, translated
from staffetta.ui.context import AppContext
from staffetta.ui.icons import channel_icon
from staffetta.ui.sign_in import BrowserOpener, Cancellable, OpenUrl, SignInCancelled

log = logging.getLogger(__name__)
T = TypeVar("T")

# What the dialog is doing; decides which controls are enabled.
CHECKING, NO_KEYRING, FORM, CONNECTING, SIGNING_IN, CANCELLING = (
    "checking",
    "no_keyring",
    "form",
    "connecting",
    "signing_in",
    "cancelling",
)


class AccountDialog(QDialog):
    """Add an account of ``channel_name``, or reconnect ``account`` when one is given.

    ``connected(Account)`` is emitted once the account is stored (added, or reconnected and
    resumed); the dialog then closes. ``open_url`` opens the sign-in page (default: the system
    browser); it runs on the GUI thread.
    """

    connected = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        channel_name: str,
        *,
        account: Account | None = None,
        open_url: OpenUrl | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._channel = ctx.runtime.channels[channel_name]
        self._account = account
        self._mode = FORM
        self._sign_in: Cancellable | None = None
        self._last_url = ""
        self._opener = BrowserOpener(open_url, self)
        self._opener.opened.connect(self._on_browser_opened)
        self.edits: dict[str, QLineEdit] = {}
        self._errors: dict[str, QLabel] = {}

        label = translated(self._channel.label)
        if account is None:
            self.setWindowTitle(self.tr("Add a {channel} account").format(channel=label))
        else:
            self.setWindowTitle(self.tr("Reconnect {name}").format(name=account.name))
        self.setWindowIcon(channel_icon(self._channel.name))
        self.setMinimumWidth(520)

        self.intro = QLabel(self._intro_text(), self)
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)

        self._build_keyring_panel()
        self._build_form()
        self._build_progress()

        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAccessibleName(self.tr("Message"))
        self.message.hide()

        self.buttons = QDialogButtonBox(self)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self._cancel_text = self.cancel_button.text()  # Qt's own, translated with Qt's strings
        self.connect_button = self.buttons.addButton(
            self.tr("&Connect"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.sign_in_button = self.buttons.addButton(
            self.tr("&Sign in with your browser"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        for button in (self.cancel_button, self.connect_button, self.sign_in_button):
            button.setAutoDefault(False)  # Enter means the main action, wherever the focus is
        self.cancel_button.clicked.connect(self.reject)
        self.connect_button.clicked.connect(self.connect_account)
        self.sign_in_button.clicked.connect(self.sign_in)
        if self._channel.browser_sign_in:
            self.connect_button.setText(self.tr("&Connect with this token"))
            self.sign_in_button.setDefault(True)
        else:
            self.connect_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.keyring_panel)
        layout.addWidget(self.form)
        layout.addWidget(self.progress_panel)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        if uses_secret(self._channel):
            self.check_keyring()
        else:
            self._set_mode(FORM)

    # --- public: what the buttons do ------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    def status_text(self) -> str:
        return self.status.text() if self.progress_panel.isVisible() else ""

    def message_text(self) -> str:
        return self.message.text() if not self.message.isHidden() else ""

    def field_error(self, name: str) -> str:
        label = self._errors[name]
        return label.text() if not label.isHidden() else ""

    def check_keyring(self) -> None:
        """Ask the engine thread whether the system keyring can be used (it may prompt to unlock
        it, which must not freeze the window)."""
        self._set_mode(CHECKING)
        self._ctx.bridge.submit(
            lambda w: w.runtime.secrets.check(),
            self._guard(lambda _none: self._set_mode(FORM)),
            self._guard(self._on_keyring_error),
        )

    def connect_account(self) -> None:
        """Connect with what is typed in the form (no browser): checked with the platform."""
        if self._mode != FORM or not self._validate(with_secret=True):
            return
        settings, secret = self._values()
        self._set_mode(CONNECTING)
        done, failed = self._guard(self._on_connected), self._guard(self._on_failed)
        account = self._account
        if account is None:
            self._ctx.bridge.connect_account(
                self._channel.name, self.name_edit.text().strip(), settings, secret, done, failed
            )
        else:
            self._ctx.bridge.submit(
                lambda w: w.runtime.reconnect(w.http, account.id, secret, settings=settings),
                done,
                failed,
                changes_accounts=True,
                changes_outbox=True,
            )

    def sign_in(self) -> None:
        """Run the browser sign-in on the engine thread, then store the account."""
        if self._mode != FORM or not self._validate(with_secret=False):
            return
        settings, _secret = self._values()
        # Secrets typed for the sign-in itself (an app secret) go to ``authorize`` only.
        typed = {
            f.name: self.edits[f.name].text().strip()
            for f in self._channel.fields
            if f.secret and self.edits[f.name].text().strip()
        }
        cancellable = Cancellable()
        self._sign_in = cancellable
        self._last_url = ""
        self._set_mode(SIGNING_IN)
        channel_name, opener, account = self._channel.name, self._opener, self._account
        name = self.name_edit.text().strip()

        async def flow(w: Worker) -> Account:
            channel = w.runtime.channels[channel_name]
            base = dict(account.settings) if account is not None else {}
            if account is not None and not typed:
                # Not typed again: the stored secret stands in (e.g. it holds the app secret).
                base.update(_typed_secret(channel, w.runtime.secrets.get(account.id)))
            authorization = await channel.authorize(
                w.http, {**base, **settings, **typed}, opener.open
            )
            if account is not None:
                return await w.runtime.reconnect(
                    w.http, account.id, authorization, settings=settings
                )
            merged = {**settings, **authorization.settings}
            return await w.runtime.connect(w.http, channel_name, name, merged, authorization.secret)

        self._ctx.bridge.submit(
            lambda w: cancellable.run(flow(w)),
            self._guard(self._on_connected),
            self._guard(self._on_failed),
            changes_accounts=True,
            changes_outbox=account is not None,
        )

    def cancel_sign_in(self) -> None:
        """Stop waiting for the browser; the loopback listener closes before the form is back."""
        if self._mode == SIGNING_IN and self._sign_in is not None:
            self._sign_in.cancel()
            self._set_mode(CANCELLING)

    def reject(self) -> None:
        if self._mode == CONNECTING:
            return  # the platform is answering; the request has its own timeout
        if self._sign_in is not None and self._mode in (SIGNING_IN, CANCELLING):
            self._sign_in.cancel()
        self._forget_secrets()
        super().reject()

    # --- building -------------------------------------------------------------------------------
    def _intro_text(self) -> str:
        if self._account is not None:
            reason = self._account.paused_reason
            if reason:
                return self.tr(
                    "{reason}\n\nConnect it again; the posts waiting for it go out as soon as "
                    "it works."
                ).format(reason=reason)
            return self.tr("Give this account new credentials.")
        if self._channel.browser_sign_in:
            return self.tr(
                "Fill in what is asked, then choose “Sign in with your browser”: your browser "
                "opens a page where you allow Staffetta to post, and you come back here."
            )
        return describe(self._channel)

    def _build_keyring_panel(self) -> None:
        self.keyring_panel = QWidget(self)
        title = QLabel(self.tr("No system keyring is available"), self.keyring_panel)
        bold = QFont(title.font())
        bold.setBold(True)
        title.setFont(bold)
        self.keyring_message = QLabel(self.keyring_panel)
        self.keyring_message.setWordWrap(True)
        self.keyring_message.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.keyring_message.setAccessibleName(self.tr("How to fix it"))
        self.keyring_details = QLabel(self.keyring_panel)
        self.keyring_details.setWordWrap(True)
        self.keyring_details.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.keyring_details.setFont(scaled_font(self.keyring_details.font(), 0.9))
        self.retry_keyring_button = QPushButton(self.tr("&Try again"), self.keyring_panel)
        self.retry_keyring_button.clicked.connect(self.check_keyring)
        panel = QVBoxLayout(self.keyring_panel)
        panel.setContentsMargins(0, 0, 0, 0)
        panel.addWidget(title)
        panel.addWidget(self.keyring_message)
        panel.addWidget(self.keyring_details)
        panel.addWidget(self.retry_keyring_button, 0, Qt.AlignmentFlag.AlignLeft)

    def _build_form(self) -> None:
        # Label above field above help: long help wraps freely and reads like a sentence.
        self.form = QWidget(self)
        layout = QVBoxLayout(self.form)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        self.name_edit = QLineEdit(self.form)
        name_help = self.tr("Shown in Staffetta next to this account. Leave it empty to use the "
                            "name the platform gives.")  # fmt: skip
        name_box = self._add_row(layout, self.tr("&Name"), self.name_edit, name_help, None)
        if self._account is not None:  # a reconnect keeps the account's name
            self.name_edit.setText(self._account.name)
            name_box.hide()
        for field in self._channel.fields:
            edit = QLineEdit(self.form)
            if field.secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setInputMethodHints(
                    Qt.InputMethodHint.ImhHiddenText | Qt.InputMethodHint.ImhSensitiveData
                )
                edit.textChanged.connect(self._update_buttons)
            else:
                current = self._account.settings.get(field.name) if self._account else None
                edit.setText(str(current) if current not in (None, "") else field.default)
            self.edits[field.name] = edit
            title = translated(field.label)
            if field.required:
                title = self.tr("{label} (required)").format(label=title)
            self._add_row(layout, title, edit, translated(field.help), field)

    def _add_row(
        self, layout: QVBoxLayout, title: str, edit: QLineEdit, help_text: str, field: Field | None
    ) -> QWidget:
        edit.setAccessibleName(title.replace("&", ""))
        if help_text:
            edit.setAccessibleDescription(help_text)
            edit.setToolTip(help_text)
        box = QWidget(self.form)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        label = QLabel(title, box)
        label.setBuddy(edit)
        column.addWidget(label)
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        if field is not None and _is_folder(field):
            browse = QPushButton(self.tr("Choose…"), box)
            browse.setAccessibleName(self.tr("Choose a folder for {label}").format(label=title))
            browse.clicked.connect(lambda: self._choose_folder(edit))
            row.addWidget(browse)
        column.addLayout(row)
        if help_text:
            help_label = QLabel(help_text, box)
            help_label.setWordWrap(True)
            help_label.setTextFormat(Qt.TextFormat.PlainText)
            help_label.setFont(scaled_font(help_label.font(), 0.92))
            column.addWidget(help_label)
        if field is not None:
            error = QLabel(box)
            error.setWordWrap(True)
            error.setTextFormat(Qt.TextFormat.PlainText)
            bold = QFont(error.font())
            bold.setBold(True)
            error.setFont(bold)
            error.hide()
            self._errors[field.name] = error
            column.addWidget(error)
        layout.addWidget(box)
        return box

    def _build_progress(self) -> None:
        self.progress_panel = QWidget(self)
        self.busy = QProgressBar(self.progress_panel)
        self.busy.setRange(0, 0)  # indeterminate: we cannot know how long the platform takes
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.setAccessibleName(self.tr("Working"))
        self.status = QLabel(self.progress_panel)
        self.status.setWordWrap(True)
        self.status.setAccessibleName(self.tr("Progress"))
        self.open_again_button = QPushButton(self.tr("&Open the page again"), self.progress_panel)
        self.open_again_button.clicked.connect(self._open_again)
        self.cancel_sign_in_button = QPushButton(self.tr("Cancel sign-&in"), self.progress_panel)
        self.cancel_sign_in_button.clicked.connect(self.cancel_sign_in)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_again_button)
        buttons.addWidget(self.cancel_sign_in_button)
        buttons.addStretch(1)
        panel = QVBoxLayout(self.progress_panel)
        panel.setContentsMargins(0, 0, 0, 0)
        panel.addWidget(self.busy)
        panel.addWidget(self.status)
        panel.addLayout(buttons)

    # --- state ------------------------------------------------------------------------------------
    def _set_mode(self, mode: str) -> None:
        was_checking, self._mode = self._mode == CHECKING, mode
        busy = mode in (CHECKING, CONNECTING, SIGNING_IN, CANCELLING)
        self.keyring_panel.setVisible(mode == NO_KEYRING)
        self.form.setVisible(mode != NO_KEYRING)
        self.form.setEnabled(mode == FORM)
        self.progress_panel.setVisible(busy)
        self.open_again_button.setVisible(mode == SIGNING_IN)
        self.open_again_button.setEnabled(bool(self._last_url))
        self.cancel_sign_in_button.setVisible(mode in (SIGNING_IN, CANCELLING))
        self.cancel_sign_in_button.setEnabled(mode == SIGNING_IN)
        self.cancel_button.setEnabled(mode != CONNECTING)
        self.cancel_button.setText(self.tr("Close") if mode == NO_KEYRING else self._cancel_text)
        label = translated(self._channel.label)
        self.status.setText(
            {
                CHECKING: self.tr("Checking the system keyring…"),
                CONNECTING: self.tr("Checking with {channel}…").format(channel=label),
                SIGNING_IN: self.tr("Opening your browser…"),
                CANCELLING: self.tr("Cancelling the sign-in…"),
            }.get(mode, "")
        )
        if busy:
            self.message.hide()
        self._update_buttons()
        if was_checking and mode == FORM:
            self._focus_first_empty()

    def _focus_first_empty(self) -> None:
        """Ready to type: the first required field still empty (the server, the folder...)."""
        for field in self._channel.fields:
            edit = self.edits[field.name]
            if field.required and not edit.text():
                edit.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    def _update_buttons(self) -> None:
        ready = self._mode == FORM
        offered = self._mode != NO_KEYRING  # without a keyring there is nothing to connect with
        browser = self._channel.browser_sign_in
        has_secret_field = any(f.secret for f in self._channel.fields)
        self.sign_in_button.setVisible(browser and offered)
        self.sign_in_button.setEnabled(ready)
        self.connect_button.setVisible(offered and (has_secret_field or not browser))
        if browser:  # connecting without the browser means pasting a token
            has_secret = any(
                self.edits[f.name].text().strip() for f in self._channel.fields if f.secret
            )
            self.connect_button.setEnabled(ready and has_secret)
        else:
            self.connect_button.setEnabled(ready)

    def _values(self) -> tuple[dict[str, Any], str | None]:
        settings: dict[str, Any] = {}
        secret: str | None = None
        for field in self._channel.fields:
            value = self.edits[field.name].text().strip()
            if not value:
                continue
            if field.secret:
                secret = secret or value
            else:
                settings[field.name] = value
        return settings, secret

    def _validate(self, *, with_secret: bool) -> bool:
        first: QLineEdit | None = None
        for field in self._channel.fields:
            edit, error = self.edits[field.name], self._errors[field.name]
            text = ""
            if not edit.text().strip():
                if field.required and (with_secret or not field.secret):
                    text = self.tr("Fill this in to connect the account.")
                elif field.secret and with_secret and self._channel.browser_sign_in:
                    text = self.tr("Paste a token here, or use “Sign in with your browser”.")
            error.setText(text)
            error.setVisible(bool(text))
            if text and first is None:
                first = edit
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
            self._fit_height()
        return first is None

    def _forget_secrets(self) -> None:
        for field in self._channel.fields:
            if field.secret:
                self.edits[field.name].clear()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to fit what just appeared: Qt does not grow a window for wrapped text itself."""
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        layout.activate()
        needed = (
            layout.totalHeightForWidth(self.width())
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if needed > self.height():
            self.resize(self.width(), needed)

    # --- results (GUI thread) -------------------------------------------------------------------
    def _guard(self, callback: Callable[[T], None]) -> Callable[[T], None]:
        """The dialog may be gone when a job answers: then there is nobody to tell."""

        def call(value: T) -> None:
            if shiboken6.isValid(self):
                callback(value)

        return call

    def _on_keyring_error(self, error: Exception) -> None:
        if not isinstance(error, SecretStoreError):
            self._set_mode(FORM)
            self._show_message(_plain(error))
            return
        fix = how_to_fix()
        self.keyring_message.setText(
            self.tr(
                "Staffetta keeps passwords and tokens only in your system keyring, never in a "
                "file, and it cannot use one on this computer right now. Nothing was saved."
            )
            + "\n\n"
            + fix
            + "\n\n"
            + self.tr("Channels that need no password, like a site folder, work without it.")
        )
        self.keyring_details.setText(
            self.tr("Details: {text}").format(text=str(error).replace(fix, "").strip())
        )
        self._set_mode(NO_KEYRING)
        self._fit_height()

    def _on_browser_opened(self, url: str) -> None:
        self._last_url = url
        if self._mode == SIGNING_IN:
            self.status.setText(self.tr("Waiting for you to approve in the browser…"))
            self.open_again_button.setEnabled(True)

    def _choose_folder(self, edit: QLineEdit) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder"), edit.text())
        if chosen:
            edit.setText(chosen)

    def _open_again(self) -> None:
        if self._last_url:
            self._opener.open_now(self._last_url)

    def _on_connected(self, account: Account) -> None:
        self._sign_in = None
        self._forget_secrets()
        self._set_mode(FORM)
        self.connected.emit(account)
        self.accept()

    def _on_failed(self, error: Exception) -> None:
        self._sign_in = None
        self._set_mode(FORM)
        if isinstance(error, SignInCancelled):
            self._show_message(self.tr("Sign-in cancelled. Nothing was saved."))
        else:
            self._show_message(_plain(error))


def _plain(error: Exception) -> str:
    """What to tell the user: our errors are written for them; anything else only by its kind
    (its text is not ours to vouch for and might quote a request)."""
    if isinstance(error, StaffettaError):
        return str(error)
    log.warning("connecting an account failed: %s", type(error).__name__)
    return QCoreApplication.translate(
        "AccountDialog",
        "Something unexpected went wrong ({kind}). Nothing was saved; please try again.",
    ).format(kind=type(error).__name__)


def _typed_secret(channel: Channel, secret: str | None) -> dict[str, str]:
    name = next((f.name for f in channel.fields if f.secret), "")
    return {name: secret} if secret and name else {}


def _is_folder(field: Field) -> bool:
    return not field.secret and (field.name == "folder" or field.name.endswith("_folder"))


def scaled_font(font: QFont, factor: float) -> QFont:
    """``font`` a little smaller or larger, whether it is sized in points or in pixels."""
    scaled = QFont(font)
    if font.pointSizeF() > 0:
        scaled.setPointSizeF(font.pointSizeF() * factor)
    elif font.pixelSize() > 0:
        scaled.setPixelSize(max(1, round(font.pixelSize() * factor)))
    return scaled
