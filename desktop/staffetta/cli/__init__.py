"""``staffetta``: the desktop app's command line, running the same engine without a window.

Qt is never imported here: with no sub-command the window is started through ``importlib`` so
that every other command runs on machines (and in CI stages) without a display or Qt at all.
Starting the window skips the sub-commands' modules (and the demo's sandbox servers) entirely:
when the command line holds nothing but the window's own flags, nothing else is parsed.

Exit codes: 0 success; 1 a problem the message explains (bad input, no keyring, damaged
database); 2 wrong usage; 4 ``flush --wait`` finished but some deliveries need you (failed,
unconfirmed, or an account to reconnect); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from staffetta import __version__
from staffetta.core.errors import StaffettaError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NEEDS_YOU, EXIT_INTERRUPTED = 0, 1, 2, 4, 130

# A command line made only of these opens the window exactly as the full parser would, so it
# needs neither the parser nor the sub-commands' modules (with the demo's sandbox: ~0.2 s of CPU).
_WINDOW_FLAGS = frozenset({"-v", "--verbose", "--quit-after-startup"})


def build_parser() -> argparse.ArgumentParser:
    from staffetta.cli import commands, demo

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
    _without_httpx_cli()
    words = list(sys.argv[1:] if argv is None else argv)
    if _WINDOW_FLAGS.issuperset(words):
        _log_to_stderr(verbose="-v" in words or "--verbose" in words)
        return _start_window(build_parser, "--quit-after-startup" in words)
    parser = build_parser()
    args = parser.parse_args(words)
    _log_to_stderr(verbose=args.verbose)
    if args.command is None:
        return _start_window(lambda: parser, args.quit_after_startup)
    try:
        result: int = args.handler(args)
    except StaffettaError as exc:
        print(f"staffetta: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nstaffetta: interrupted; queued posts stay queued.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return result


def _log_to_stderr(*, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _start_window(parser: Callable[[], argparse.ArgumentParser], quit_after_startup: bool) -> int:
    if importlib.util.find_spec("staffetta.ui.app") is None:
        parser().print_help()
        print(
            "\nThe desktop window is not part of this build yet; every feature above works "
            "from the command line. Try: staffetta demo",
            file=sys.stderr,
        )
        return EXIT_OK
    # Importing the window's modules creates some 40,000 objects that all stay: the
    # garbage collector would walk them again and again meanwhile (~0.1 s) and find nothing, and
    # then at every full collection for as long as the app runs: they are frozen out of its way.
    gc.disable()
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
    finally:
        gc.freeze()
        gc.enable()
    code: int = app.main(quit_after_startup=quit_after_startup)
    # The window has closed and everything is saved; the process ends with this code. Python's
    # last collection would walk every object of the app once more (~0.15 s) only to exit.
    gc.freeze()
    _window_closed.append(code)
    return code


_window_closed: list[int] = []  # set once the window has closed and saved everything


def run() -> NoReturn:
    """:func:`main`, then leave: the ``staffetta`` command, ``python -m staffetta`` and the
    installers' launcher.

    After the window, the outbox, drafts and settings are saved and closed and the engine has
    stopped: the process leaves without the interpreter's teardown, which would destroy every Qt
    object and module one by one (~40 ms at each quit, and at logout) with nothing left to save.
    """
    code = main()
    if _window_closed:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed or broken pipe: nothing to tell
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _without_httpx_cli() -> None:
    """httpx loads its own command line (rich, click and pygments: ~0.1 s and 5 MB) whenever those
    happen to be installed, and Staffetta never runs it (its installers leave them out). Marked
    absent, httpx falls back exactly as it does where they are not installed."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
