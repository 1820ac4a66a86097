"""``python -m staffetta``: the same as the ``staffetta`` command (the window, or a sub-command)."""

import sys

from staffetta.cli import main

sys.exit(main())
