"""The store's read-only queries behind the outbox window: pages, search, change ticks, counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from staffetta.core.clock import FakeClock
from staffetta.core.model import Post, State
from staffetta.core.store import EXCERPT_CHARS, Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "outbox.sqlite3", FakeClock())


def _accounts(store: Store) -> tuple[str, str]:
    return store.add_account("static_site", "Blog").id, store.add_account("mastodon", "Social").id


def test_pages_are_newest_first_with_every_delivery(store: Store) -> None:
    blog, social = _accounts(store)
    ids = [store.enqueue(Post(body=f"post {n}"), [blog, social]) for n in range(5)]

    first = store.post_page(limit=2)
    second = store.post_page(before_id=first[-1].id, limit=2)
    last = store.post_page(before_id=second[-1].id, limit=2)

    assert [p.id for p in first + second + last] == ids[::-1]
    assert len(last) == 1
    assert store.post_page(before_id=ids[0], limit=2) == []
    assert [d.account_id for d in first[0].deliveries] == [blog, social]
    assert {d.state for d in first[0].deliveries} == {State.QUEUED}
    assert first[0].excerpt == "post 4"


def test_a_post_without_deliveries_still_has_its_row(store: Store, tmp_path: Path) -> None:
    blog, _ = _accounts(store)
    store.enqueue(Post(body="kept"), [blog])
    conn = sqlite3.connect(tmp_path / "outbox.sqlite3")
    conn.execute("DELETE FROM deliveries")
    conn.commit()
    conn.close()
    (post,) = store.post_page()
    assert post.deliveries == ()


def test_excerpt_is_the_start_of_a_long_body(store: Store) -> None:
    blog, _ = _accounts(store)
    store.enqueue(Post(body="x" * 100_000, title="Long"), [blog])
    (post,) = store.post_page()
    assert post.title == "Long"
    assert post.excerpt == "x" * EXCERPT_CHARS


def test_posts_newer_than_a_known_one(store: Store) -> None:
    blog, _ = _accounts(store)
    old = store.enqueue(Post(body="old"), [blog])
    new = [store.enqueue(Post(body=f"new {n}"), [blog]) for n in range(3)]
    assert [p.id for p in store.post_page(after_id=old)] == new[::-1]
    assert store.post_page(after_id=new[-1]) == []


CAFE, RELEASE, SUNDAY, SUNSET = (
    "Café opening 🎉 with release notes",
    "Release",
    "Sunday market",
    "Sunset over the harbour",
)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("sunset", [SUNSET]),
        ("SUN", [SUNDAY, SUNSET]),  # word beginnings, any case
        ("cafe", [CAFE]),  # accents do not matter
        ("market sun", [SUNDAY]),  # every word must appear, in any order
        ("release", [CAFE, RELEASE]),  # in the title or the body
        ("🎉", [CAFE]),  # no letters or digits: looked for as written
        ("100%", []),
        ("_", []),  # LIKE wildcards are literal
        ('"', []),
        ('sun" OR "harbour', []),  # FTS syntax is never interpreted: "or" is just a word
        ("(sun", [SUNDAY, SUNSET]),
        ("NEAR(sun", []),
        ("harbour*", [SUNSET]),
        ("  ", [CAFE, RELEASE, SUNDAY, SUNSET]),
    ],
)
def test_search_finds_words_in_title_and_body(
    store: Store, search: str, expected: list[str]
) -> None:
    blog, _ = _accounts(store)
    for title, body in [
        ("", SUNSET),
        ("", SUNDAY),
        (RELEASE, "Version 2 is out"),
        ("", CAFE),
    ]:
        store.enqueue(Post(body=body, title=title), [blog])
    assert [p.title or p.excerpt for p in store.post_page(search=search)] == expected


def test_search_pages_through_matches_newest_first(store: Store) -> None:
    blog, _ = _accounts(store)
    ids = [
        store.enqueue(Post(body=f"{'match' if n % 2 else 'other'} {n}"), [blog]) for n in range(9)
    ]
    matching = [i for n, i in enumerate(ids) if n % 2][::-1]
    first = store.post_page(limit=3, search="match")
    rest = store.post_page(before_id=first[-1].id, limit=3, search="match")
    assert [p.id for p in first + rest] == matching


def test_changed_deliveries_follow_the_outbox_tick(store: Store) -> None:
    blog, social = _accounts(store)
    store.enqueue(Post(body="a"), [blog, social])
    start = store.outbox_tick()
    assert store.changed_deliveries(start) == []  # queueing is not a change of a known row

    blog_copy, social_copy = store.deliveries()
    store.finish(social_copy.id, State.WAITING, detail="503", next_attempt_at=99.0)
    store.save_checkpoint(blog_copy.id, {"upload": 1})  # not visible: no tick
    (changed,) = store.changed_deliveries(start)
    assert (changed.id, changed.state, changed.last_error) == (social_copy.id, State.WAITING, "503")
    assert changed.tick == store.outbox_tick() > start

    store.finish(blog_copy.id, State.SENT, remote_url="file:///site/a.md")
    later = store.changed_deliveries(changed.tick)
    assert [(d.id, d.state, d.remote_url) for d in later] == [
        (blog_copy.id, State.SENT, "file:///site/a.md")
    ]
    assert [d.id for d in store.changed_deliveries(start)] == [social_copy.id, blog_copy.id]


def test_a_write_from_another_connection_moves_the_tick(store: Store, tmp_path: Path) -> None:
    blog, _ = _accounts(store)
    store.enqueue(Post(body="a"), [blog])
    before = store.outbox_tick()
    other = Store.open(tmp_path / "outbox.sqlite3")  # the engine's own connection
    (delivery,) = other.deliveries()
    other.cancel(delivery.id)
    other.close()
    assert [d.state for d in store.changed_deliveries(before)] == [State.CANCELLED]


def test_data_version_moves_when_another_connection_commits(store: Store, tmp_path: Path) -> None:
    blog, _ = _accounts(store)
    before = store.data_version()
    store.enqueue(Post(body="mine"), [blog])
    assert store.data_version() == before  # our own commits do not count
    other = Store.open(tmp_path / "outbox.sqlite3")
    other.enqueue(Post(body="from the CLI"), [blog])
    other.close()
    assert store.data_version() != before


def test_pending_counts_per_account(store: Store) -> None:
    blog, social = _accounts(store)
    for n in range(3):
        store.enqueue(Post(body=f"p{n}"), [blog, social])
    store.enqueue(Post(body="later", scheduled_at=10**10), [social])
    deliveries = store.deliveries()
    store.set_state([d.id for d in deliveries if d.account_id == blog], State.SENT)
    social_ids = [d.id for d in deliveries if d.account_id == social]
    store.set_state(social_ids[:1], State.DOWN)
    store.set_state(social_ids[1:2], State.FAILED)
    # Down and queued are on their way; failed needs the user; scheduled is not late.
    assert store.pending_by_account() == {social: 2}


def test_counts_of_some_states_skip_the_others(store: Store) -> None:
    blog, social = _accounts(store)
    for n in range(3):
        store.enqueue(Post(body=f"p{n}"), [blog, social])
    deliveries = store.deliveries()
    store.set_state([d.id for d in deliveries if d.account_id == blog], State.SENT)
    store.set_state([deliveries[1].id], State.FAILED)
    assert store.counts() == {State.SENT: 3, State.QUEUED: 2, State.FAILED: 1}
    assert store.counts((State.QUEUED, State.FAILED, State.WAITING)) == {
        State.QUEUED: 2,
        State.FAILED: 1,
    }
    assert store.counts(()) == {}
