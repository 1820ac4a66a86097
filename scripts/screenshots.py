"""Take the README's screenshots of the real app, against the sandbox platforms.

    python scripts/screenshots.py [--lang en|it] [--out docs/screenshots]

Runs under Xvfb (it re-runs itself with ``xvfb-run`` when there is no display; on Debian:
``apt-get install xvfb``), in a throwaway STAFFETTA_HOME with the sandbox platforms of
``staffetta demo`` and an in-memory keyring. It starts the same window ``staffetta`` starts
(``ui.app.open_context`` + ``Shell``), writes a post with an image, and saves:

* ``composer.png`` — the composer with a live preview for every channel;
* ``outbox-outage.png`` — the outbox while the sandbox Mastodon is down: its posts wait, the
  others went out.

For ``--lang it`` the files are named ``composer-it.png`` and ``outbox-outage-it.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1440, 900)
PLATFORMS = ["mastodon", "bluesky", "telegram", "discord"]
BODY = (
    "Spring notes from the studio: three new linocut prints are ready, printed by hand on "
    "recycled paper. The full story, with the making-of photos, is on my site "
    "https://example.org/notes/spring-prints — thanks @ada@mastodon.example for the paper tip! "
    "#printmaking #linocut"
)
BODY_IT = (
    "Appunti di primavera dallo studio: tre nuove linoleografie sono pronte, stampate a mano su "
    "carta riciclata. La storia completa, con le foto della lavorazione, è sul mio sito "
    "https://example.org/appunti/stampe-primavera — grazie @ada@mastodon.example per il "
    "consiglio sulla carta! #incisione #linoleografia"
)


def _under_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _rerun_under_xvfb() -> int:
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        sys.exit("No display and no xvfb-run: install Xvfb (Debian: apt-get install xvfb xauth).")
    screen = f"-screen 0 {SIZE[0] + 160}x{SIZE[1] + 160}x24"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    command = [xvfb, "-a", "-s", screen, sys.executable, *sys.argv]
    return subprocess.run(command, env=env, check=False).returncode  # noqa: S603


def _wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Run the event loop until ``condition()`` holds (a script, not a test: plain polling)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.02)


def _settle(seconds: float = 0.6) -> None:
    """Let animations, timers and repaints finish before a picture is taken."""
    deadline = time.monotonic() + seconds
    _wait(lambda: time.monotonic() > deadline, "the window to settle", timeout=seconds + 5)


def _sample_image(folder: Path) -> Path:
    """A stand-in photo: a print on a table, drawn with Pillow."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (1200, 800), (222, 214, 196))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((250, 120, 950, 680), fill=(250, 248, 240), outline=(60, 60, 60), width=4)
    for i, colour in enumerate([(28, 78, 128), (196, 82, 48), (38, 120, 86)]):
        x = 330 + i * 190
        draw.ellipse((x, 250, x + 160, 410), fill=colour)
        draw.polygon([(x, 560), (x + 80, 430), (x + 160, 560)], fill=colour)
    path = folder / "linocut.png"
    picture.save(path)
    return path


NAMES = {
    "en": {"site": "My site", "telegram": "Studio news", "discord": "Print club"},
    "it": {"site": "Il mio sito", "telegram": "Notizie dallo studio", "discord": "Club di stampa"},
}


async def _connect_accounts(runtime: Any, sandbox: Any, site: Path, lang: str) -> list[Any]:
    """One owned channel and the sandbox social platforms, connected like the CLI demo does."""
    names = NAMES[lang]
    from staffetta.core.http import new_http_client

    accounts = []
    async with new_http_client() as http:
        accounts.append(
            await runtime.connect(
                http, "static_site", names["site"], {"folder": str(site), "flavour": "hugo"}, None
            )
        )
        wanted = {
            "mastodon": (
                "Mastodon",
                {"instance_url": sandbox.platform_url("mastodon")},
                sandbox.issue_token("mastodon", "maya"),
            ),
            "bluesky": (
                "Bluesky",
                {
                    "handle": "maya.test",
                    "service": sandbox.platform_url("bluesky"),
                    "plc_url": f"{sandbox.platform_url('bluesky')}/plc",
                },
                sandbox.issue_token("bluesky", "maya"),
            ),
            "telegram": (
                names["telegram"],
                {"channel": "@staffetta_sandbox", "api_url": sandbox.platform_url("telegram")},
                sandbox.issue_token("telegram"),
            ),
            "discord": (
                names["discord"],
                {"server": sandbox.platform_url("discord")},
                f"{sandbox.platform_url('discord')}/api/webhooks/{sandbox.issue_token('discord')}",
            ),
        }
        for channel, (name, settings, secret) in wanted.items():
            if channel not in runtime.channels:
                continue
            try:
                accounts.append(await runtime.connect(http, channel, name, settings, secret))
            except Exception as exc:  # one channel's setup changing must not lose the others
                print(f"screenshots: skipping {channel}: {exc}", file=sys.stderr)
    return accounts


def take(out: Path, lang: str) -> list[Path]:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from staffetta import APP_ID, __version__
    from staffetta.cli.demo import DEMO_POLICY
    from staffetta.core.model import Post, State
    from staffetta.core.paths import APP_AUTHOR, APP_NAME, Paths
    from staffetta.core.secrets import MemoryKeyring, SecretStore
    from staffetta.runtime import Runtime
    from staffetta.sandbox import SandboxServer
    from staffetta.ui.app import Shell, close_context, open_context
    from staffetta.ui.i18n import install_translators
    from staffetta.ui.icons import app_icon

    # A stable, readable path: the site folder's path is shown in the channel list.
    home = Path(tempfile.gettempdir()) / "staffetta-screenshots" / "maya"
    shutil.rmtree(home.parent, ignore_errors=True)
    home.mkdir(parents=True)
    os.environ["STAFFETTA_HOME"] = str(home)
    suffix = "" if lang == "en" else f"-{lang}"
    saved: list[Path] = []
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(APP_AUTHOR)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication([sys.argv[0]])
    QApplication.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    translators = install_translators(app, lang)
    secrets = SecretStore(MemoryKeyring())
    paths = Paths.under(home)
    with SandboxServer(platforms=PLATFORMS) as sandbox:
        runtime = Runtime.open(paths, secrets=secrets)
        site = home / "blog" / "content" / "posts"
        site.mkdir(parents=True)
        accounts = asyncio.run(_connect_accounts(runtime, sandbox, site, lang))
        # Some history, so the outbox is not a single line.
        history = {
            "en": (
                "Open studio this Saturday from 10 to 18. Come and print your own postcard!",
                "New paper arrived: 300 g cotton, perfect for the spring series.",
            ),
            "it": (
                "Studio aperto sabato dalle 10 alle 18. Vieni a stampare la tua cartolina!",
                "È arrivata la carta nuova: cotone da 300 g, perfetta per la serie di primavera.",
            ),
        }
        for text in history[lang]:
            runtime.queue(Post(body=text), [a.id for a in accounts])
        runtime.close()

        ctx = open_context(paths, secrets, policy=DEMO_POLICY)
        shell = Shell(ctx, tray_available=False)
        window = shell.window
        window.resize(*SIZE)
        shell.show()
        _wait(lambda: ctx.runtime.store.counts().get(State.QUEUED, 0) == 0, "the history to go")

        composer: Any = window.show_page("compose")
        composer.new_draft()
        composer.title_edit.setText(
            "Spring prints are here" if lang == "en" else "Sono arrivate le stampe di primavera"
        )
        composer.body.setPlainText(BODY if lang == "en" else BODY_IT)
        composer.picker.set_selected([a.id for a in accounts])
        composer.add_image_files([str(_sample_image(home))])
        _wait(lambda: len(composer.images.images()) == 1, "the image to be added")
        card = composer.images.cards()[0]
        alt_editor = getattr(card, "alt_edit", None)
        if alt_editor is not None:
            alt_editor.setPlainText(
                "Three linocut prints in blue, red and green on a wooden table"
                if lang == "en"
                else "Tre linoleografie in blu, rosso e verde su un tavolo di legno"
            )
        pane = composer.preview
        if pane is not None:
            _wait(lambda: len(pane.cards()) == len(accounts), "a preview for every account")
        _settle()
        saved.append(_grab(window, out / f"composer{suffix}.png"))

        # The outage: Mastodon refuses connections; the post goes out everywhere else.
        sandbox.set_fault("mastodon", "down")
        composer.publish()
        mastodon = [a.id for a in accounts if a.channel == "mastodon"]
        others = [a.id for a in accounts if a.channel != "mastodon"]
        ctx.bridge.publish(
            Post(
                body="Sketchbook page of the day: testing colours for the next print."
                if lang == "en"
                else "La pagina del giorno dal taccuino: prove di colore per la prossima stampa."
            ),
            [a.id for a in accounts],
        )

        def outage_shown() -> bool:
            deliveries = ctx.runtime.store.deliveries()
            waiting = [d for d in deliveries if d.account_id in mastodon and not d.state.is_final]
            sent = all(d.state is State.SENT for d in deliveries if d.account_id in others)
            return len(waiting) >= 2 and all(d.state is State.DOWN for d in waiting) and sent

        _wait(outage_shown, "Mastodon's posts to wait while the others went out", timeout=60)
        outbox: Any = window.show_page("outbox")
        _settle(0.5)
        if hasattr(outbox, "select_post"):  # the post written in the composer, with its image
            store = ctx.runtime.store
            post_ids = {d.post_id for d in store.deliveries()}
            outbox.select_post(next(i for i in post_ids if store.post(i).images))
        _settle(1.0)
        saved.append(_grab(window, out / f"outbox-outage{suffix}.png"))

        shell.quit()
        close_context(ctx)
    for translator in translators:
        app.removeTranslator(translator)
    shutil.rmtree(home.parent, ignore_errors=True)
    return saved


def _grab(window: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise SystemExit(f"could not save {path}")
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("en", "it"), default="en")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    if not _under_display():
        return _rerun_under_xvfb()
    sys.path.insert(0, str(ROOT / "desktop"))
    take(args.out.resolve(), args.lang)
    return 0


if __name__ == "__main__":
    sys.exit(main())
