"""Entry point of the packaged app: the same ``staffetta`` command a pip install provides.

Without arguments it opens the window; ``--version``, ``--quit-after-startup`` and every CLI
command work exactly as from pip (the installed binary is the CLI too).
"""

from staffetta.cli import run

if __name__ == "__main__":
    run()
