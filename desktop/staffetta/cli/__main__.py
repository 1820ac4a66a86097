"""``python -m staffetta.cli``: the same as the ``staffetta`` command."""

import sys

from staffetta.cli import main

sys.exit(main())
