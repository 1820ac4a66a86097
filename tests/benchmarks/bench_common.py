"""What every benchmark shares: the :class:`Figure` it reports and a throwaway home folder."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Figure:
    """One printed measurement. ``met`` is None when the figure is information, not a target."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def fresh_home(label: str) -> Iterator[Path]:
    """A new temporary STAFFETTA_HOME for one benchmark, removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix=f"staffetta-bench-{label}-"))
    previous = os.environ.get("STAFFETTA_HOME")
    os.environ["STAFFETTA_HOME"] = str(home)
    try:
        yield home
    finally:
        if previous is None:
            os.environ.pop("STAFFETTA_HOME", None)
        else:
            os.environ["STAFFETTA_HOME"] = previous
        shutil.rmtree(home, ignore_errors=True)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
