"""Staffetta: compose once, preview per channel, deliver reliably."""

__version__ = "0.1.0"
APP_ID = "io.github.staffetta.Staffetta"
