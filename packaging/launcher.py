"""Entry point of the packaged app: the same ``staffetta`` command a pip install provides.

Without arguments it opens the window; ``--version``, ``--quit-after-startup`` and every CLI
command work exactly as from pip (the installed binary is the CLI too).
"""

import sys

from staffetta.cli import main

if __name__ == "__main__":
    sys.exit(main())
