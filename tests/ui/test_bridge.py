"""The engine bridge: jobs run on the worker thread; results and events come back on the GUI one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from staffetta.core.engine import EngineEvent
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Post, State
from staffetta.core.paths import Paths
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store
from staffetta.ui.bridge import EngineBridge, Worker


@pytest.fixture
def bridge(home: Path, secrets: SecretStore, qtbot: QtBot) -> Iterator[EngineBridge]:
    engine = EngineBridge(Paths.under(home), secrets)
    engine.start()
    yield engine
    engine.stop()


def test_publish_goes_out_and_reports_on_the_gui_thread(
    bridge: EngineBridge, home: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    site = tmp_path / "site" / "content" / "posts"
    site.mkdir(parents=True)
    accounts: list[Account] = []
    bridge.connect_account("static_site", "Blog", {"folder": str(site)}, None, accounts.append)
    qtbot.waitUntil(lambda: bool(accounts))

    events: list[tuple[EngineEvent, bool]] = []
    gui = threading.current_thread()
    bridge.deliveryChanged.connect(
        lambda event: events.append((event, threading.current_thread() is gui))
    )
    queued: list[int] = []
    post = Post(body="Hello from the window", title="Hello")
    bridge.publish(post, [accounts[0].id], queued.append)
    qtbot.waitUntil(lambda: any(e.state is State.SENT for e, _ in events), timeout=10_000)

    assert queued
    assert all(on_gui for _, on_gui in events)
    assert [p.name for p in site.rglob("*.md")]  # the file is really on disk
    store = Store.open(Paths.under(home).database)
    (delivery,) = store.deliveries(post_id=queued[0])
    assert delivery.state is State.SENT
    store.close()


def test_a_failing_job_reports_its_message_and_the_engine_keeps_running(
    bridge: EngineBridge, qtbot: QtBot
) -> None:
    errors: list[Exception] = []
    bridge.connect_account("no_such_channel", "x", {}, None, None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], InputError)
    assert "Unknown channel" in str(errors[0])

    answers: list[str] = []
    bridge.submit(lambda w: threading.current_thread().name, answers.append)
    qtbot.waitUntil(lambda: bool(answers))
    assert answers == ["staffetta-engine"]


def test_jobs_after_stop_fail_clearly(home: Path, secrets: SecretStore, qtbot: QtBot) -> None:
    bridge = EngineBridge(Paths.under(home), secrets)
    bridge.start()
    bridge.stop()
    errors: list[Exception] = []
    bridge.submit(lambda w: None, None, errors.append)
    assert "not running" in str(errors[0])
    assert not bridge.running


def test_worker_has_its_own_database_connection(bridge: EngineBridge, qtbot: QtBot) -> None:
    seen: list[Worker] = []
    bridge.submit(lambda w: w, seen.append)
    qtbot.waitUntil(lambda: bool(seen))
    assert seen[0].runtime.store.accounts() == []
