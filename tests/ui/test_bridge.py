"""The engine bridge: jobs run on the worker thread; results and events come back on the GUI one."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytestqt.qtbot import QtBot

from staffetta.core.engine import EngineEvent
from staffetta.core.errors import InputError
from staffetta.core.model import Account, Post, State
from staffetta.core.paths import Paths
from staffetta.core.schema import SCHEMA_VERSION
from staffetta.core.secrets import SecretStore
from staffetta.core.store import Store
from staffetta.ui.bridge import EngineBridge, Worker, has_work


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


def test_start_returns_at_once_and_jobs_sent_meanwhile_run_in_order(
    home: Path, secrets: SecretStore, qtbot: QtBot
) -> None:
    gate = threading.Event()  # holds the worker inside its start until the jobs are in

    def client() -> httpx.AsyncClient:
        gate.wait(timeout=30)
        return httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(204)))

    bridge = EngineBridge(Paths.under(home), secrets, http_factory=client)
    order: list[str] = []
    bridge.started.connect(lambda: order.append("started"))
    try:
        bridge.start()  # returns although the worker cannot finish starting yet
        assert bridge.running
        for name in ("first", "second", "third"):
            bridge.submit(lambda w, name=name: name, order.append)
        gate.set()
        qtbot.waitUntil(lambda: len(order) == 4)
        assert order == ["started", "first", "second", "third"]
    finally:
        gate.set()
        bridge.stop()
    assert not bridge.running


def test_an_engine_that_cannot_start_says_why_and_so_do_the_jobs_that_waited(
    home: Path, secrets: SecretStore, qtbot: QtBot
) -> None:
    paths = Paths.under(home)
    Store.open(paths.database).close()
    conn = sqlite3.connect(paths.database)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")  # from a newer Staffetta
    conn.close()
    bridge = EngineBridge(paths, secrets)
    started: list[bool] = []
    bridge.started.connect(lambda: started.append(True))
    errors: list[Exception] = []
    with qtbot.waitSignal(bridge.startFailed, timeout=10_000) as failed:
        bridge.start()
        bridge.submit(lambda w: "never", None, errors.append)
    assert "newer" in str(failed.args[0])
    qtbot.waitUntil(lambda: bool(errors))
    assert "not running" in str(errors[0])
    assert "newer" in str(errors[0])
    assert not bridge.running
    assert not started
    bridge.stop()  # nothing left to stop: no error


def test_stop_while_the_engine_is_still_starting(
    home: Path, secrets: SecretStore, qtbot: QtBot
) -> None:
    bridge = EngineBridge(Paths.under(home), secrets)
    bridge.start()
    with qtbot.waitSignal(bridge.stopped):
        bridge.stop()
    assert not bridge.running
    errors: list[Exception] = []
    bridge.submit(lambda w: None, None, errors.append)
    assert "not running" in str(errors[0])


def test_the_engine_has_work_for_anything_on_its_way_but_not_for_the_user(home: Path) -> None:
    store = Store.open(Paths.under(home).database)
    try:
        blog = store.add_account("static_site", "Blog", {"folder": str(home / "site")})
        assert not has_work(store)  # no posts at all
        sent = store.enqueue(Post(body="Old news"), [blog.id])
        store.set_state([d.id for d in store.deliveries(post_id=sent)], State.SENT)
        assert not has_work(store)
        assisted = store.add_account("whatsapp", "Channel", {})
        by_hand = store.enqueue(Post(body="Posted by hand"), [assisted.id])
        store.set_state([d.id for d in store.deliveries(post_id=by_hand)], State.YOUR_TURN)
        assert not has_work(store)  # the user's turn, not the engine's
        store.enqueue(Post(body="Tomorrow", scheduled_at=10**10), [blog.id])
        assert has_work(store)  # a scheduled post must go out at its time
        store.pause_account(blog.id, "reconnect")
        assert not has_work(store)  # it waits for the user to reconnect
        store.resume_account(blog.id)
        assert has_work(store)
    finally:
        store.close()
