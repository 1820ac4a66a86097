"""Publish: one post × 15 accounts, durably committed, against one bare SQLite commit.

Both sides use the same durability settings (WAL, ``synchronous=FULL``) on the same disk, in the
same temporary folder, and their runs are interleaved so drift in the disk's speed hits both.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from pathlib import Path

from bench_common import Figure, fresh_home, percentile

from staffetta.core.model import Post
from staffetta.core.store import Store

ACCOUNTS = 15
WARMUP = 5
BODY = (
    "Staffetta 1.4 is out: scheduled posts, alt-text reminders and a faster outbox. "
    "Release notes at https://example.org/releases/1.4 #staffetta #release 🎉"
)


def _bare(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    return conn


def _bare_commit(conn: sqlite3.Connection, n: int) -> float:
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t (v) VALUES (?)", (f"row {n}",))
    conn.execute("COMMIT")
    return time.perf_counter() - start


def _publish(store: Store, account_ids: list[str], n: int) -> float:
    post = Post(body=f"{BODY} ({n})", tags=("staffetta", "release"))
    start = time.perf_counter()
    store.enqueue(post, account_ids)
    return time.perf_counter() - start


def run(quick: bool) -> list[Figure]:
    runs = 40 if quick else 200
    with fresh_home("publish") as home:
        store = Store.open(home / "outbox.sqlite3")
        synchronous = store._conn.execute("PRAGMA synchronous").fetchone()[0]
        journal = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert (journal, synchronous) == ("wal", 2), (journal, synchronous)  # 2 = FULL
        account_ids = [
            store.add_account(
                "mastodon", f"Account {i}", {"instance_url": f"https://m{i}.example"}
            ).id
            for i in range(ACCOUNTS)
        ]
        bare = _bare(home / "bare.sqlite3")
        try:
            for n in range(WARMUP):
                _publish(store, account_ids, -n)
                _bare_commit(bare, -n)
            publish: list[float] = []
            baseline: list[float] = []
            for n in range(runs):
                publish.append(_publish(store, account_ids, n))
                baseline.append(_bare_commit(bare, n))
            queued = len(store.deliveries())
        finally:
            bare.close()
            store.close()
    assert queued == (runs + WARMUP) * ACCOUNTS, queued
    median, base_median = statistics.median(publish), statistics.median(baseline)
    p90, base_p90 = percentile(publish, 0.9), percentile(baseline, 0.9)
    ms = 1000.0
    return [
        Figure(
            f"publish 1 post x {ACCOUNTS} accounts, median ({runs} runs)",
            median * ms,
            "ms",
            base_median * ms,
            median / base_median,
            "ratio <= 3",
            median / base_median <= 3.0,
            "baseline: one bare 1-row commit, WAL + synchronous=FULL, same disk",
        ),
        Figure(
            f"publish 1 post x {ACCOUNTS} accounts, p90",
            p90 * ms,
            "ms",
            base_p90 * ms,
            p90 / base_p90,
            note="information (the target is on the median)",
        ),
    ]
