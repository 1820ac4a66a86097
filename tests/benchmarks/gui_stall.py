"""The window stays responsive while the engine flushes 1,000 deliveries after an outage.

The real window (``Shell``: main window on the Outbox page, health strip, tray state,
notifications) runs with its engine bridge, as ``staffetta`` runs it, in a child process with Qt's
offscreen platform. The platforms live in this (parent) process, as remote servers would: four
sandbox Mastodon instances (25 requests per second each, as in the recovery-flush benchmark)
were down while 1,000 deliveries piled up. They come back, the machine "comes online"
(``bridge.check_now()``), and the engine thread sends everything. Meanwhile a ``QTimer`` on the
GUI thread ticks every 5 ms; the longest gap between ticks, minus the 5 ms, is the longest time
the window could not react to the user.

The tokens are in the tests' file keyring (a stand-in for the OS keyring both processes can read).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_common import Figure, percentile

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "support"
PLATFORMS = ("mastodon", "mastodon2", "mastodon3", "mastodon4")
LIMIT, WINDOW = 25, 1.0
TICK_MS = 5
TARGET_MS = 50.0
KEYRING_ENV = "STAFFETTA_TEST_KEYRING"


async def _prepare(home: Path, keyring_file: Path, sandbox: Any, per_platform: int) -> None:
    """Four accounts, and every post left the way an outage of all four leaves them: each
    platform's breaker open (next probe an hour away) and every copy waiting for it."""
    sys.path.insert(0, str(SUPPORT))
    os.environ[KEYRING_ENV] = str(keyring_file)
    from file_keyring import FileKeyring

    from staffetta.core.http import new_http_client
    from staffetta.core.model import Post, State
    from staffetta.core.paths import Paths
    from staffetta.core.secrets import SecretStore
    from staffetta.core.store import EndpointHealth
    from staffetta.runtime import Runtime

    runtime = Runtime.open(Paths.under(home), secrets=SecretStore(FileKeyring()))
    try:
        accounts = []
        async with new_http_client() as http:
            for name in PLATFORMS:
                token = sandbox.issue_token(name, username=f"bench_{name}")
                settings = {"instance_url": sandbox.platform_url(name)}
                accounts.append(
                    await runtime.connect(http, "mastodon", f"Bench {name}", settings, token)
                )
        channel = runtime.channels["mastodon"]
        ids = [a.id for a in accounts]
        for n in range(per_platform):
            runtime.queue(Post(body=f"Written during the outage, post {n} #staffetta"), ids)
        now = runtime.clock.now()
        for account in accounts:
            runtime.store.save_endpoint(
                EndpointHealth(
                    key=channel.endpoint(account),
                    down_since=now - 600.0,
                    failures=3,
                    probes=5,
                    next_probe_at=now + 3600.0,  # only the network coming back releases them
                    last_error="Could not reach Mastodon: ConnectError",
                )
            )
        held = [d.id for d in runtime.store.deliveries(states=[State.QUEUED])]
        runtime.store.set_state(held, State.DOWN, only_from=[State.QUEUED])
    finally:
        runtime.close()


def child(total: int) -> dict[str, Any]:
    """The window, in the child process: returns the measurements as JSON-able values."""
    import time

    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from staffetta.core.model import State
    from staffetta.core.paths import Paths
    from staffetta.core.secrets import SecretStore
    from staffetta.ui.app import Shell, close_context, open_context

    app = QApplication(sys.argv[:1])
    ctx = open_context(Paths.default(), SecretStore())
    shell = Shell(ctx, tray_available=False)
    shell.window.resize(1180, 760)
    shell.show()
    shell.window.show_page("outbox")  # the busiest page while deliveries change

    gaps: list[float] = []
    clock = QElapsedTimer()
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(TICK_MS)

    cpu: list[float] = []  # the GUI thread's own CPU time in each gap

    def tick() -> None:
        gaps.append(clock.nsecsElapsed() / 1e6)
        clock.restart()
        now = time.thread_time()
        cpu.append((now - cpu_mark[0]) * 1000.0)
        cpu_mark[0] = now

    cpu_mark = [0.0]

    heartbeat.timeout.connect(tick)
    sent: set[int] = set()
    times: dict[str, float] = {}

    def on_delivery(event: Any) -> None:
        if event.state is State.SENT:
            sent.add(event.delivery_id)
            if len(sent) >= total and "done" not in times:
                times["done"] = time.perf_counter()
                heartbeat.stop()
                QTimer.singleShot(0, app.quit)

    def begin() -> None:
        gaps.clear()
        cpu.clear()
        cpu_mark[0] = time.thread_time()
        clock.start()
        heartbeat.start()
        times["start"] = time.perf_counter()
        ctx.bridge.check_now()  # "the network is back"

    ctx.bridge.deliveryChanged.connect(on_delivery)
    QTimer.singleShot(1000, begin)  # once the window is up and idle
    QTimer.singleShot(300_000, app.quit)  # a bound, should the flush never finish
    app.exec()
    seconds = times["done"] - times["start"] if "done" in times else None
    shell.quit()
    close_context(ctx)
    stalls = [max(0.0, gap - TICK_MS) for gap in gaps[1:]]
    return {"stalls_ms": stalls, "cpu_ms": cpu[1:], "seconds": seconds, "sent": len(sent)}


def run(quick: bool) -> list[Figure]:
    from staffetta.sandbox.server import SandboxServer

    per_platform = 50 if quick else 250
    total = per_platform * len(PLATFORMS)
    limits = dict.fromkeys(PLATFORMS, (LIMIT, WINDOW))
    previous = os.environ.get(KEYRING_ENV)
    with (
        tempfile.TemporaryDirectory(prefix="staffetta-bench-stall-") as scratch,
        SandboxServer(platforms=list(PLATFORMS), rate_limits=limits) as sandbox,
    ):
        home, keyring_file = Path(scratch) / "home", Path(scratch) / "keyring.json"
        try:
            asyncio.run(_prepare(home, keyring_file, sandbox, per_platform))
        finally:
            if previous is None:
                os.environ.pop(KEYRING_ENV, None)
            else:
                os.environ[KEYRING_ENV] = previous
        env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFETTA_")}
        env.update(
            STAFFETTA_HOME=str(home),
            QT_QPA_PLATFORM="offscreen",
            PYTHON_KEYRING_BACKEND="file_keyring.FileKeyring",
            PYTHONPATH=os.pathsep.join(filter(None, [str(SUPPORT), env.get("PYTHONPATH")])),
            **{KEYRING_ENV: str(keyring_file)},
        )
        result = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(total)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        posted = sum(len(sandbox.posts(name)) for name in PLATFORMS)
    if result.returncode != 0:
        raise RuntimeError(f"gui_stall child failed:\n{result.stderr}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    stalls: list[float] = data["stalls_ms"] or [0.0]
    longest = max(stalls)
    cpu_ms: list[float] = data["cpu_ms"] or [0.0]
    worst = sorted(range(len(stalls)), key=stalls.__getitem__)[-3:][::-1]
    worst_text = ", ".join(f"{stalls[i]:.0f} ms ({cpu_ms[i]:.0f} ms CPU)" for i in worst)
    seconds = data["seconds"]
    over = sum(1 for s in stalls if s > TARGET_MS)
    done = seconds is not None and data["sent"] == total and posted == total
    return [
        Figure(
            f"GUI event-loop stall while the engine flushes {total} deliveries",
            longest,
            "ms",
            target=f"<= {TARGET_MS:g} ms",
            met=longest <= TARGET_MS and done,
            note=f"{len(stalls)} heartbeats of {TICK_MS} ms; p50 {statistics.median(stalls):.2f}"
            f" ms, p99 {percentile(stalls, 0.99):.1f} ms late; {over} over {TARGET_MS:g} ms; "
            "Outbox page shown, tray, notifications and health strip live; longest stalls "
            f"with the GUI thread's own CPU time in them: {worst_text}",
        ),
        Figure(
            "GUI stall benchmark: flush rate with the window open",
            data["sent"] / seconds if seconds else 0.0,
            "deliveries/s",
            note=f"{data['sent']} of {total} sent in "
            f"{seconds if seconds is not None else float('nan'):.1f} s, {posted} statuses on "
            f"the sandbox (4 x {LIMIT} per {WINDOW:g} s limit)",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]))))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        for figure in run(quick="--quick" in sys.argv):
            print(figure)
