"""The outbox store: migrations, refusal of files it must not touch, atomic publish, leases."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from staffetta.core.clock import FakeClock
from staffetta.core.errors import StoreError
from staffetta.core.model import ChannelGroup, Image, Post, State, needs_owned_channel
from staffetta.core.schema import MIGRATIONS, SCHEMA_VERSION
from staffetta.core.store import Store, new_owner_id


def _db_at_version(path: Path, version: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:version]:
        conn.executescript(script)
    conn.execute(f"PRAGMA user_version = {version}")
    if version >= 1:
        conn.execute(
            "INSERT INTO accounts (id, channel, name, settings, created_at)"
            " VALUES ('mastodon-1', 'mastodon', 'me', '{}', 1)"
        )
        conn.execute("INSERT INTO posts (id, created_at, body) VALUES (7, 1, 'old post')")
        conn.execute(
            "INSERT INTO deliveries (id, post_id, account_id, state, idempotency_key,"
            " not_before, next_attempt_at, attempts, updated_at)"
            " VALUES (3, 7, 'mastodon-1', 'waiting', 'key-3', 1, 50, 2, 1)"
        )
        conn.execute("INSERT INTO attempts (delivery_id, started_at) VALUES (3, 10)")
        conn.execute("INSERT INTO attempts (delivery_id, started_at) VALUES (3, 40)")
    conn.close()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("outbox*"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_every_earlier_schema_migrates_and_keeps_its_data(tmp_path: Path, version: int) -> None:
    path = tmp_path / "outbox.sqlite3"
    _db_at_version(path, version)

    store = Store.open(path)

    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    if version >= 1:
        delivery = store.delivery(3)
        assert delivery.state is State.WAITING
        assert delivery.attempts == 2
        if version < 2:
            assert delivery.last_attempt_at == 40  # backfilled from the attempt log by 1 -> 2
        assert store.post(7).body == "old post"
        assert store.post(7).thread_numbering is True  # the 2 -> 3 default
        # 3 -> 4: posts written before the search index existed are found, and a change to an
        # old delivery moves the outbox tick.
        assert [p.id for p in store.post_page(search="old")] == [7]
        tick = store.outbox_tick()
        store.cancel(3)
        assert [d.id for d in store.changed_deliveries(tick)] == [3]
    assert store.endpoints() == []
    store.close()


def test_newer_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    _db_at_version(path, SCHEMA_VERSION)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = _digest(path)

    with pytest.raises(StoreError, match="newer version of Staffetta"):
        Store.open(path)

    assert _digest(path) == before
    assert _files(tmp_path) == ["outbox.sqlite3"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: os.urandom(4096), id="random-bytes"),
        pytest.param(lambda data: data[: len(data) // 3], id="truncated"),
        pytest.param(lambda data: data[:100] + os.urandom(len(data) - 100), id="scrambled"),
    ],
)
def test_corrupt_database_is_reported_and_left_untouched(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "outbox.sqlite3"
    store = Store.open(path)
    account = store.add_account("static_site", "blog")
    for n in range(200):
        store.enqueue(Post(body=f"post {n} " * 20), [account.id])
    store.close()
    path.write_bytes(damage(path.read_bytes()))
    for extra in tmp_path.glob("outbox.sqlite3-*"):
        extra.unlink()
    before = _digest(path)

    with pytest.raises(StoreError) as raised:
        Store.open(path)

    assert "damaged" in str(raised.value) or "could not be used" in str(raised.value)
    assert "left untouched" in str(raised.value) or "could not be used" in str(raised.value)
    assert _digest(path) == before
    assert _files(tmp_path) == ["outbox.sqlite3"]


def test_publish_to_fifteen_accounts_is_one_transaction(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "outbox.sqlite3")
    ids = [store.add_account("mastodon", f"account {n}").id for n in range(14)]

    with pytest.raises(StoreError, match="Unknown account: nope"):
        store.enqueue(Post(body="hello"), [*ids, "nope"])
    assert store.deliveries() == []
    assert store.post_ids() == []

    post_id = store.enqueue(Post(body="hello", images=(Image("/m/a.png", "alt", "abc"),)), ids)
    deliveries = store.deliveries(post_id=post_id)
    assert [d.account_id for d in deliveries] == ids
    assert {d.state for d in deliveries} == {State.QUEUED}
    assert len({d.idempotency_key for d in deliveries}) == 14
    assert store.post(post_id).images == (Image("/m/a.png", "alt", "abc", ""),)


_ENQUEUE_FOREVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from staffetta.core.model import Post
    from staffetta.core.store import Store
    store = Store.open(Path(sys.argv[1]))
    ids = [a.id for a in store.accounts()]
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        store.enqueue(Post(body=f"post {n}"), ids)
        if n == 1:
            print("committed", flush=True)
    """
)


@pytest.mark.slow
def test_killed_publish_leaves_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    store = Store.open(path)
    for n in range(15):
        store.add_account("mastodon", f"account {n}")
    store.close()

    # Killed at five moments, then once more right after its first commit: on a busy machine
    # the child may commit nothing within 0.4 s, which failed the test for no bug.
    for delay in (0.05, 0.13, 0.2, 0.31, 0.4, 0.0):
        child = subprocess.Popen(
            [sys.executable, "-c", _ENQUEUE_FOREVER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        if not delay:
            assert child.stdout.readline().strip() == "committed"
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()

    store = Store.open(path)
    rows = store._conn.execute(
        "SELECT p.id, count(d.id) FROM posts p LEFT JOIN deliveries d ON d.post_id = p.id"
        " GROUP BY p.id"
    ).fetchall()
    assert rows, "the child never committed a post"
    assert {count for _post, count in rows} == {15}
    store.close()


def test_heads_keep_order_within_an_account(tmp_path: Path) -> None:
    clock = FakeClock()
    store = Store.open(tmp_path / "outbox.sqlite3", clock)
    a = store.add_account("mastodon", "a").id
    b = store.add_account("mastodon", "b").id
    first = store.enqueue(Post(body="first"), [a, b])
    clock.advance(1)
    store.enqueue(Post(body="second"), [a])
    store.enqueue(Post(body="later", scheduled_at=clock.now() + 3600), [b])

    heads = {d.account_id: d for d, _ in store.heads()}
    assert heads[a].post_id == first
    assert heads[b].post_id == first

    # The first post to `a` waits for a retry: the second must not overtake it.
    store.set_state([heads[a].id], State.WAITING, next_attempt_at=clock.now() + 60)
    assert {d.account_id: d for d, _ in store.heads()}[a].post_id == first


def test_a_live_lease_is_respected_and_a_dead_owners_is_broken(tmp_path: Path) -> None:
    clock = FakeClock()
    store = Store.open(tmp_path / "outbox.sqlite3", clock)
    account = store.add_account("mastodon", "a").id
    store.enqueue(Post(body="x"), [account])
    ((delivery, _),) = store.heads()

    mine, other = new_owner_id(), new_owner_id()
    assert store.begin_attempt(delivery.id, mine, 60) is not None
    assert store.delivery(delivery.id).state is State.SENDING
    assert len(store.attempts(delivery.id)) == 1  # recorded before any request leaves
    assert (
        store.begin_attempt(delivery.id, other, 60) is None
    )  # same live process, different engine

    # An owner whose process is gone loses its lease immediately.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = new_owner_id().split(":")[0]
    store._conn.execute(
        "UPDATE deliveries SET lease_owner = ?", (f"{host}:{dead.stdout.strip()}:x",)
    )
    assert store.begin_attempt(delivery.id, other, 60) is not None

    # An expired lease is free too.
    clock.advance(61)
    assert store.begin_attempt(delivery.id, mine, 60) is not None


def test_user_actions_on_deliveries(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "outbox.sqlite3")
    account = store.add_account("mastodon", "a").id
    store.enqueue(Post(body="x"), [account])
    (delivery,) = store.deliveries()

    store.set_state([delivery.id], State.UNCONFIRMED, detail="connection lost after sending")
    assert store.resolve_unconfirmed(delivery.id, went_out=False)
    assert store.delivery(delivery.id).state is State.QUEUED
    assert store.cancel(delivery.id)
    assert store.delivery(delivery.id).state is State.CANCELLED
    assert not store.retry_now(delivery.id)  # cancelled stays cancelled

    store.pause_account(account, "token revoked")
    assert store.account(account).paused_reason == "token revoked"  # type: ignore[union-attr]
    store.resume_account(account)
    assert store.account(account).paused_reason == ""  # type: ignore[union-attr]


def test_thread_numbering_choice_survives_the_store(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "outbox.sqlite3")
    account = store.add_account("static_site", "Site", {})
    numbered = store.enqueue(Post(body="a"), [account.id])
    plain = store.enqueue(Post(body="b", thread_numbering=False), [account.id])
    assert store.post(numbered).thread_numbering is True
    assert store.post(plain).thread_numbering is False


def test_owned_first_rule_nudges_only_all_social_selections() -> None:
    assert needs_owned_channel([ChannelGroup.SOCIAL, ChannelGroup.SOCIAL])
    assert not needs_owned_channel([ChannelGroup.SOCIAL, ChannelGroup.OWNED])
    assert not needs_owned_channel([])
