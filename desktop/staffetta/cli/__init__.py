"""``staffetta``: the desktop app's command line, running the same engine without a window.

Qt is never imported here: with no sub-command the window is started through ``importlib`` so
that every other command runs on machines (and in CI stages) without a display or Qt at all.

Exit codes: 0 success; 1 a problem the message explains (bad input, no keyring, damaged
database); 2 wrong usage; 4 ``flush --wait`` finished but some deliveries need you (failed,
unconfirmed, or an account to reconnect); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence

from staffetta import __version__
from staffetta.cli import commands, demo
from staffetta.core.errors import StaffettaError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NEEDS_YOU, EXIT_INTERRUPTED = 0, 1, 2, 4, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="staffetta",
        description="Compose once, preview per channel, and deliver reliably — even through "
        "platform outages. Without a command, opens the desktop window.",
        epilog="Secrets are never read from the command line: use --secret-stdin or "
        "--secret-env. Data lives in the platform's data folder, or in $STAFFETTA_HOME.",
    )
    parser.add_argument("--version", action="version", version=f"staffetta {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    parser.add_argument(
        "--quit-after-startup",
        action="store_true",
        help="open the main window, wait until it is idle, and exit (smoke test)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.register(sub)
    demo.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        return _start_window(parser, args.quit_after_startup)
    try:
        result: int = args.handler(args)
    except StaffettaError as exc:
        print(f"staffetta: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nstaffetta: interrupted; queued posts stay queued.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return result


def _start_window(parser: argparse.ArgumentParser, quit_after_startup: bool) -> int:
    if importlib.util.find_spec("staffetta.ui.app") is None:
        parser.print_help()
        print(
            "\nThe desktop window is not part of this build yet; every feature above works "
            "from the command line. Try: staffetta demo",
            file=sys.stderr,
        )
        return EXIT_OK
    try:
        app = importlib.import_module("staffetta.ui.app")
    except ImportError as exc:
        if not (exc.name or "").startswith(("PySide6", "shiboken6")):
            raise
        print(
            f"staffetta: the desktop window needs Qt for Python (PySide6), which could not be "
            f"loaded ({exc}).\nInstall it with:  pip install 'staffetta[gui]'\n"
            "On Linux it also needs the system's X11/Wayland libraries (e.g. libegl1, "
            "libxkbcommon-x11-0, libxcb-cursor0). Every command works without it: staffetta --help",
            file=sys.stderr,
        )
        return EXIT_ERROR
    code: int = app.main(quit_after_startup=quit_after_startup)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
