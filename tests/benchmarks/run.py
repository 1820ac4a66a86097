"""Run the benchmarks and print their figures; never fails on a timing.

    python tests/benchmarks/run.py [--quick] [--json] [--only NAME ...]

Every figure that has a target is a ratio against a baseline measured in the same run on the same
machine (or a bound derived from the configured rate limits and backoff policy), so the numbers
are comparable across machines. Targets that are missed are printed as "no", never asserted: the
exit status is non-zero only if a benchmark itself crashed (or, with --strict, a target was
missed).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # `python tests/benchmarks/run.py` and `python -m` alike
    sys.path.insert(0, str(HERE))

from bench_common import Figure  # noqa: E402

BENCHMARKS = (
    "publish",
    "recovery_flush",
    "outage",
    "keystroke",
    "gui_startup",
    "gui_stall",
    "outbox_model",
)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _met(figure: Figure) -> str:
    return "-" if figure.met is None else ("yes" if figure.met else "NO")


def print_table(rows: list[tuple[str, Figure]]) -> None:
    header = ("benchmark", "figure", "value", "unit", "baseline", "ratio", "target", "met")
    table = [
        (
            bench,
            f.name,
            _fmt(f.value),
            f.unit,
            _fmt(f.baseline),
            _fmt(f.ratio),
            f.target or "-",
            _met(f),
        )
        for bench, f in rows
    ]
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    right = {2, 4, 5}
    for row in [header, tuple("-" * w for w in widths), *table]:
        cells = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    notes = [(bench, f) for bench, f in rows if f.note]
    if notes:
        print()
        for bench, f in notes:
            print(f"  [{bench}] {f.name}: {f.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and deliveries")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the engine logs outages at WARNING on purpose

    rows: list[tuple[str, Figure]] = []
    results: dict[str, object] = {"quick": args.quick, "benchmarks": {}}
    crashed = False
    for name in args.only or BENCHMARKS:
        module = importlib.import_module(name)
        start = time.perf_counter()
        if not args.json:
            print(f"running {name}...", file=sys.stderr, flush=True)
        try:
            figures: list[Figure] = module.run(args.quick)
        except Exception:
            crashed = True
            traceback.print_exc()
            results["benchmarks"][name] = {"error": traceback.format_exc()}  # type: ignore[index]
            continue
        seconds = time.perf_counter() - start
        rows += [(name, f) for f in figures]
        results["benchmarks"][name] = {  # type: ignore[index]
            "seconds": seconds,
            "figures": [f.as_json() for f in figures],
        }
        if not args.json:
            print(f"  {name} took {seconds:.1f} s", file=sys.stderr, flush=True)
    missed = [f for _, f in rows if f.met is False]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print()
        print_table(rows)
        print()
        print(
            f"{len(rows)} figures, {len(missed)} targets missed" + (", CRASHED" if crashed else "")
        )
    if crashed:
        return 2
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
