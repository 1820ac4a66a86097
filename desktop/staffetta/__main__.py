"""``python -m staffetta``: the same as the ``staffetta`` command (the window, or a sub-command)."""

from staffetta.cli import run

run()
