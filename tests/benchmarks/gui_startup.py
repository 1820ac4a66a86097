"""Window start-up: from launching ``staffetta --quit-after-startup`` to an idle main window.

Three programs, each started as a fresh process and timed from fork to exit, runs interleaved so
drift in the machine's load hits all three alike (the figure is the median of 11):

* **bare** — a bare PySide6 ``QMainWindow``: start Python, import Qt, show the window, quit once
  the event loop is idle. The floor every Qt app pays.
* **empty** — ``python -m staffetta --quit-after-startup`` (the `staffetta` command) with an
  empty STAFFETTA_HOME.
* **full** — the same with 20 accounts (10 site folders, 10 Mastodon accounts whose tokens are in
  a keyring) and 10,000 posts of history (every copy sent).

All run with Qt's offscreen platform, so no display server takes part. Peak RSS comes from the
kernel's accounting of each child (``wait4``). The Mastodon tokens live in the tests' file keyring
(a stand-in for the OS keyring; start-up checks that the keyring answers when accounts need it).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench_common import Figure, fresh_home

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "support"
ACCOUNTS_SITE, ACCOUNTS_MASTODON = 10, 10
HISTORY = 10_000

BARE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1180, 760)
window.show()
QTimer.singleShot(0, app.quit)
sys.exit(app.exec())
"""
APP = ["-m", "staffetta", "--quit-after-startup"]  # the command users run


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float  # user + system: what the start costs, whatever else the machine does
    peak_rss_mb: float


# Each program is started by this small launcher (a Python without site packages, ~8 MB), which
# times it from fork to exit and reports the kernel's accounting. Started straight from the
# benchmark runner instead, a child's peak RSS would include the runner's own memory (Linux
# counts the parent's pages in the child's high-water mark until exec), and the runner has Qt
# loaded by then.
_LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"seconds": time.perf_counter() - start, "code": os.waitstatus_to_exitcode(status),
                  "cpu": usage.ru_utime + usage.ru_stime, "rss_kib": usage.ru_maxrss}))
"""


def _spawn(args: list[str], env: dict[str, str]) -> Run:
    launched = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(launched.stdout.strip().splitlines()[-1]) if launched.stdout else {}
    if launched.returncode != 0 or report.get("code") != 0:
        raise RuntimeError(f"child exited {report.get('code')}: {launched.stderr}")
    return Run(report["seconds"], report["cpu"], report["rss_kib"] / 1024.0)


def _env(home: Path, keyring_file: Path, pycache: Path) -> dict[str, str]:
    # An installed app has compiled bytecode: let the warm-up run write it (to a scratch folder,
    # not the source tree), whatever PYTHONDONTWRITEBYTECODE the developer's shell sets.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STAFFETTA_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        PYTHONPYCACHEPREFIX=str(pycache),
        STAFFETTA_HOME=str(home),
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="file_keyring.FileKeyring",
        STAFFETTA_TEST_KEYRING=str(keyring_file),
        PYTHONPATH=os.pathsep.join(filter(None, [str(SUPPORT), env.get("PYTHONPATH")])),
    )
    return env


def _fill(home: Path, keyring_file: Path) -> None:
    """20 accounts and 10,000 sent posts, the way they would be after months of use."""
    sys.path.insert(0, str(SUPPORT))
    previous = os.environ.get("STAFFETTA_TEST_KEYRING")
    os.environ["STAFFETTA_TEST_KEYRING"] = str(keyring_file)
    try:
        from file_keyring import FileKeyring

        from staffetta.core.model import Post, State
        from staffetta.core.paths import Paths
        from staffetta.core.secrets import SecretStore
        from staffetta.core.store import Store

        paths = Paths.under(home).ensure()
        secrets = SecretStore(FileKeyring())
        store = Store.open(paths.database)
        # Preparation only (not measured): skip the fsync of each of the 10,000 commits.
        store._conn.execute("PRAGMA synchronous = OFF")
        ids = []
        for n in range(ACCOUNTS_SITE):
            folder = home / "sites" / f"site{n}"
            folder.mkdir(parents=True)
            ids.append(store.add_account("static_site", f"Site {n}", {"folder": str(folder)}).id)
        for n in range(ACCOUNTS_MASTODON):
            account = store.add_account(
                "mastodon",
                f"Mastodon {n}",
                {"instance_url": f"https://social{n}.example", "handle": f"@me@social{n}.example"},
            )
            secrets.set(account.id, f"token-{n}")
            ids.append(account.id)
        for n in range(HISTORY):
            targets = [ids[n % len(ids)], ids[(n * 7 + 3) % len(ids)]]
            body = f"Post {n} of the history, with a link https://example.org/{n} #history"
            store.enqueue(Post(body=body, title=f"History {n}"), targets)
        delivery_ids = [d.id for d in store.deliveries()]
        for chunk in range(0, len(delivery_ids), 500):
            store.set_state(delivery_ids[chunk : chunk + 500], State.SENT)
        store.close()
    finally:
        if previous is None:
            os.environ.pop("STAFFETTA_TEST_KEYRING", None)
        else:
            os.environ["STAFFETTA_TEST_KEYRING"] = previous


def run(quick: bool) -> list[Figure]:
    runs = 3 if quick else 11
    with (
        fresh_home("gui-empty") as empty,
        tempfile.TemporaryDirectory(prefix="staffetta-bench-gui-") as scratch,
    ):
        full = Path(scratch) / "full"
        keyring_file = Path(scratch) / "keyring.json"
        _fill(full, keyring_file)
        pycache = Path(scratch) / "pycache"
        programs = {
            "bare": (["-c", BARE], _env(empty, keyring_file, pycache)),
            "empty": (APP, _env(empty, keyring_file, pycache)),
            "full": (APP, _env(full, keyring_file, pycache)),
        }
        for code, env in programs.values():  # warm the disk cache and .pyc files
            _spawn(code, env)
        samples: dict[str, list[Run]] = {name: [] for name in programs}
        for _ in range(runs):
            for name, (code, env) in programs.items():
                samples[name].append(_spawn(code, env))

    def median(name: str, field: str) -> float:
        return statistics.median(getattr(r, field) for r in samples[name])

    def fastest(name: str) -> float:
        return min(r.seconds for r in samples[name])

    bare, empty_s, full_s = (median(n, "seconds") for n in ("bare", "empty", "full"))
    bare_rss, full_rss = median("bare", "peak_rss_mb"), median("full", "peak_rss_mb")
    bare_cpu, empty_cpu, full_cpu = (median(n, "cpu_seconds") for n in ("bare", "empty", "full"))
    spread = {n: (min(r.seconds for r in s), max(r.seconds for r in s)) for n, s in samples.items()}
    note = ", ".join(f"{n} {lo:.2f}-{hi:.2f} s" for n, (lo, hi) in spread.items())
    return [
        Figure(
            "start to idle window (20 accounts, 10,000 posts) vs bare QMainWindow",
            full_s,
            "s",
            bare,
            full_s / bare,
            "ratio <= 2",
            full_s / bare <= 2.0,
            f"median of {runs} fresh processes each, fork to exit; ranges: {note}",
        ),
        Figure(
            "start to idle window (20 accounts, 10,000 posts) vs empty database",
            full_s,
            "s",
            empty_s,
            full_s / empty_s,
            "ratio <= 1.1",
            full_s / empty_s <= 1.1,
        ),
        Figure(
            "start to idle window, empty database, vs bare QMainWindow",
            empty_s,
            "s",
            bare,
            empty_s / bare,
            note="information: what the app's imports, outbox and engine thread cost by themselves",
        ),
        Figure(
            "CPU time to idle window (20 accounts, 10,000 posts) vs bare QMainWindow",
            full_cpu,
            "s",
            bare_cpu,
            full_cpu / bare_cpu,
            note=f"information: user+system time of the process, which a busy machine does not "
            f"inflate; empty database {empty_cpu:.2f} s ({empty_cpu / bare_cpu:.2f}x bare)",
        ),
        Figure(
            "fastest start to idle window (20 accounts, 10,000 posts) vs fastest bare",
            fastest("full"),
            "s",
            fastest("bare"),
            fastest("full") / fastest("bare"),
            note=f"information: the quickest of {runs} runs each, the least disturbed by other "
            f"programs; empty database {fastest('empty'):.3f} s "
            f"({fastest('empty') / fastest('bare'):.2f}x bare)",
        ),
        Figure(
            "peak RSS of the window (20 accounts, 10,000 posts) vs bare QMainWindow",
            full_rss,
            "MB",
            bare_rss,
            full_rss / bare_rss,
            "ratio <= 1.6",
            full_rss / bare_rss <= 1.6,
            f"empty database: {median('empty', 'peak_rss_mb'):.0f} MB",
        ),
    ]
