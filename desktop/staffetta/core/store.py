"""The outbox: one SQLite file, the single source of truth for posts, accounts and deliveries.

Durability: WAL with ``synchronous=FULL``, so a commit that returned survives power loss. Every
state change is one short ``BEGIN IMMEDIATE`` transaction (one writer at a time; other processes
wait on the busy timeout). Two processes never send the same delivery: a delivery is leased by its
engine before sending, and a lease held by a live process is respected until it expires.

The store opens an existing file read-only first and checks it, so a damaged file or one written by
a newer Staffetta is reported and left exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from staffetta.core.clock import Clock, SystemClock
from staffetta.core.errors import StoreError
from staffetta.core.lazy import lazy_module
from staffetta.core.model import (
    BLOCKING_STATES,
    SENDABLE_STATES,
    Account,
    Delivery,
    Image,
    Post,
    State,
)
from staffetta.core.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    import socket
else:
    socket = lazy_module("socket")

_SQLITE_MAGIC = b"SQLite format 3\x00"
_BLOCKING = tuple(s.value for s in BLOCKING_STATES)
_BLOCKING_SQL = ",".join("?" * len(_BLOCKING))
_SENDABLE = tuple(s.value for s in SENDABLE_STATES)
_SENDABLE_SQL = ",".join("?" * len(_SENDABLE))
# Deliveries still on their way, as "posts waiting" counts them (scheduled ones are not late, and
# an assisted copy waits for the user, not for a platform).
_PENDING = tuple(s.value for s in SENDABLE_STATES if s is not State.SCHEDULED)
_PENDING_SQL = ",".join("?" * len(_PENDING))
EXCERPT_CHARS = 400  # of a post's body, enough for a list row's first lines
_NO_ID_ABOVE = 2**63 - 1
# What the full-text index counts as a word (unicode61: letters, digits; ``_`` separates).
_WORD = re.compile(r"[^\W_]+")
# In DeliverySummary's field order (``_delivery_summary`` reads them by position).
_DELIVERY_SUMMARY_COLUMNS = (
    "d.id, d.post_id, d.account_id, d.state, d.next_attempt_at,"
    " d.last_error, d.remote_url, d.updated_at, d.attempts, d.tick"
)


class EndpointHealth(NamedTuple):
    """A platform endpoint's circuit breaker, as stored."""

    key: str
    down_since: float | None = None
    failures: int = 0
    probes: int = 0
    next_probe_at: float | None = None
    last_error: str = ""

    @property
    def is_down(self) -> bool:
        return self.down_since is not None


class DeliverySummary(NamedTuple):
    """What the outbox list shows of one delivery (no checkpoint, no lease)."""

    id: int
    post_id: int
    account_id: str
    state: State
    next_attempt_at: float
    last_error: str = ""
    remote_url: str = ""
    updated_at: float = 0.0
    attempts: int = 0
    tick: int = 0  # the outbox tick of its last visible change (see ``outbox_tick``)


class PostSummary(NamedTuple):
    """One post as the outbox list shows it, with every delivery of it (in delivery id order).

    ``excerpt`` is the start of the body as written (at most ``EXCERPT_CHARS`` characters).
    """

    id: int
    created_at: float
    title: str
    excerpt: str
    scheduled_at: float | None
    deliveries: tuple[DeliverySummary, ...]


class Attempt(NamedTuple):
    delivery_id: int
    started_at: float
    finished_at: float | None
    outcome: str
    detail: str


def new_owner_id() -> str:
    """A lease owner id that says which process holds it, so a dead owner's lease can be broken."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def _owner_is_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's process: only the lease expiry can tell
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Store:
    """Synchronous access to the outbox. One instance per thread; all methods are short."""

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Clock) -> None:
        self._conn = conn
        self.path = path
        self._clock = clock

    # --- opening --------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, clock: Clock | None = None) -> Store:
        """Open (creating or migrating) the database at ``path``, or raise :class:`StoreError`."""
        if path.exists():
            _check_existing(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, isolation_level=None, timeout=10.0, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the outbox at {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        store = cls(conn, path, clock or SystemClock())
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            store._migrate()
        except sqlite3.Error as exc:
            conn.close()
            raise _store_error(path, exc) from exc
        except StoreError:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self._conn.close()

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise _newer_error(self.path, version)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._write():
                # executescript would COMMIT our transaction; run statements one by one instead.
                for statement in _statements(MIGRATIONS[target - 1]):
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {target}")

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One durable write transaction; disk and permission problems become StoreError."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc) from exc
        try:
            yield self._conn
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise _store_error(self.path, exc) from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc) from exc

    def _read_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Like ``_read`` with plain tuples: for the hot list queries, where Row costs show."""
        try:
            cursor = self._conn.cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc) from exc

    # --- accounts -------------------------------------------------------------------------------
    def add_account(
        self, channel: str, name: str, settings: dict[str, Any] | None = None, account_id: str = ""
    ) -> Account:
        account_id = account_id or self._free_account_id(channel)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO accounts (id, channel, name, settings, created_at) VALUES (?,?,?,?,?)",
                (account_id, channel, name, json.dumps(settings or {}), self._clock.now()),
            )
        return Account(id=account_id, channel=channel, name=name, settings=dict(settings or {}))

    def _free_account_id(self, channel: str) -> str:
        taken = {r["id"] for r in self._read("SELECT id FROM accounts")}
        n = 1
        while f"{channel}-{n}" in taken:
            n += 1
        return f"{channel}-{n}"

    def accounts(self) -> list[Account]:
        return [_account(r) for r in self._read("SELECT * FROM accounts ORDER BY created_at, id")]

    def account(self, account_id: str) -> Account | None:
        rows = self._read("SELECT * FROM accounts WHERE id = ?", (account_id,))
        return _account(rows[0]) if rows else None

    def update_account(
        self, account_id: str, *, name: str | None = None, settings: dict[str, Any] | None = None
    ) -> None:
        with self._write() as conn:
            if name is not None:
                conn.execute("UPDATE accounts SET name = ? WHERE id = ?", (name, account_id))
            if settings is not None:
                conn.execute(
                    "UPDATE accounts SET settings = ? WHERE id = ?",
                    (json.dumps(settings), account_id),
                )

    def pause_account(self, account_id: str, reason: str) -> None:
        """The account's credentials were refused: it and its waiting deliveries need the user."""
        now = self._clock.now()
        with self._write() as conn:
            conn.execute("UPDATE accounts SET paused_reason = ? WHERE id = ?", (reason, account_id))
            conn.execute(
                f"UPDATE deliveries SET state = ?, last_error = ?, updated_at = ?,"
                f" lease_owner = NULL WHERE account_id = ? AND state IN ({_SENDABLE_SQL})",
                (State.NEEDS_RECONNECT.value, reason, now, account_id, *_SENDABLE),
            )

    def resume_account(self, account_id: str) -> None:
        """The user reconnected: waiting deliveries go back in the queue, due now."""
        now = self._clock.now()
        with self._write() as conn:
            conn.execute("UPDATE accounts SET paused_reason = '' WHERE id = ?", (account_id,))
            conn.execute(
                "UPDATE deliveries SET state = CASE WHEN not_before > ? THEN ? ELSE ? END,"
                " next_attempt_at = max(not_before, ?), updated_at = ?"
                " WHERE account_id = ? AND state = ?",
                (
                    now,
                    State.SCHEDULED.value,
                    State.QUEUED.value,
                    now,
                    now,
                    account_id,
                    State.NEEDS_RECONNECT.value,
                ),
            )

    def remove_account(self, account_id: str) -> None:
        """Forget the account; its unsent deliveries are cancelled, history is kept."""
        now = self._clock.now()
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET state = ?, updated_at = ?, lease_owner = NULL"
                " WHERE account_id = ? AND state NOT IN (?, ?, ?)",
                (
                    State.CANCELLED.value,
                    now,
                    account_id,
                    State.SENT.value,
                    State.FAILED.value,
                    State.UNCONFIRMED.value,
                ),
            )
            conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,))

    # --- posts ----------------------------------------------------------------------------------
    def enqueue(self, post: Post, account_ids: Sequence[str]) -> int:
        """Queue ``post`` for every account in one durable transaction; returns the post id.

        Images must already be stored copies (``core.media.store_media``) so the queued post never
        depends on the user's original files.
        """
        if not account_ids:
            raise StoreError("Choose at least one account to publish to.")
        now = self._clock.now()
        not_before = max(now, post.scheduled_at or now)
        state = State.SCHEDULED if not_before > now else State.QUEUED
        with self._write() as conn:
            known = {
                r[0]
                for r in conn.execute(
                    f"SELECT id FROM accounts WHERE id IN ({','.join('?' * len(account_ids))})",
                    tuple(account_ids),
                )
            }
            missing = [a for a in account_ids if a not in known]
            if missing:
                raise StoreError(f"Unknown account: {', '.join(missing)}")
            cursor = conn.execute(
                "INSERT INTO posts (created_at, title, body, link, tags, content_warning,"
                " overrides, scheduled_at, thread_numbering) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    now,
                    post.title,
                    post.body,
                    post.link,
                    json.dumps(list(post.tags)),
                    post.content_warning,
                    json.dumps(post.overrides),
                    post.scheduled_at,
                    int(post.thread_numbering),
                ),
            )
            post_id = int(cursor.lastrowid or 0)
            for position, image in enumerate(post.images):
                conn.execute(
                    "INSERT OR IGNORE INTO media (sha256, path, mime) VALUES (?,?,?)",
                    (image.sha256 or image.path, image.path, image.mime),
                )
                conn.execute(
                    "INSERT INTO post_media (post_id, position, sha256, alt) VALUES (?,?,?,?)",
                    (post_id, position, image.sha256 or image.path, image.alt),
                )
            conn.executemany(
                "INSERT INTO deliveries (post_id, account_id, state, idempotency_key, not_before,"
                " next_attempt_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                [
                    (
                        post_id,
                        account_id,
                        state.value,
                        os.urandom(16).hex(),
                        not_before,
                        not_before,
                        now,
                    )
                    for account_id in dict.fromkeys(account_ids)
                ],
            )
        return post_id

    def post(self, post_id: int) -> Post:
        rows = self._read("SELECT * FROM posts WHERE id = ?", (post_id,))
        if not rows:
            raise StoreError(f"No post with id {post_id}.")
        row = rows[0]
        images = tuple(
            Image(path=r["path"], alt=r["alt"], sha256=r["sha256"], mime=r["mime"])
            for r in self._read(
                "SELECT pm.alt, pm.sha256, m.path, m.mime FROM post_media pm"
                " JOIN media m ON m.sha256 = pm.sha256 WHERE pm.post_id = ? ORDER BY pm.position",
                (post_id,),
            )
        )
        return Post(
            body=row["body"],
            title=row["title"],
            link=row["link"],
            images=images,
            tags=tuple(json.loads(row["tags"])),
            overrides=json.loads(row["overrides"]),
            content_warning=row["content_warning"],
            scheduled_at=row["scheduled_at"],
            thread_numbering=bool(row["thread_numbering"]),
        )

    def post_page(
        self,
        before_id: int | None = None,
        limit: int = 100,
        search: str = "",
        *,
        after_id: int | None = None,
    ) -> list[PostSummary]:
        """Newest first: up to ``limit`` posts with an id below ``before_id`` (and above
        ``after_id``) that match ``search``, each with its deliveries. One query per page.

        ``search`` matches words and word beginnings in the title and body, whatever their case
        or accents ("cafe rel" finds "Café release notes"); text with no letters or digits in it
        (an emoji, "#") is looked for as written.
        """
        below = _NO_ID_ABOVE if before_id is None else before_id
        above = 0 if after_id is None else after_id
        where = "p.id < ? AND p.id > ?"
        params: list[Any] = [below, above]
        query = _fts_query(search)
        if query:
            # Newest matches first, straight from the index: a page never reads every match.
            where += (
                " AND p.id IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?"
                " AND rowid < ? AND rowid > ? ORDER BY rowid DESC LIMIT ?)"
            )
            params += [query, below, above, limit]
        elif search.strip():
            pattern = "%" + _like_escape(search.strip()) + "%"
            where += " AND (p.title LIKE ? ESCAPE '\\' OR p.body LIKE ? ESCAPE '\\')"
            params += [pattern, pattern]
        rows = self._read_tuples(
            f"WITH page AS (SELECT p.id, p.created_at, p.title,"
            f" substr(p.body, 1, {EXCERPT_CHARS}) AS excerpt, p.scheduled_at FROM posts p"
            f" WHERE {where} ORDER BY p.id DESC LIMIT ?)"
            f" SELECT page.*, {_DELIVERY_SUMMARY_COLUMNS} FROM page"
            f" LEFT JOIN deliveries d ON d.post_id = page.id ORDER BY page.id DESC, d.id",
            [*params, limit],
        )
        posts: list[PostSummary] = []
        deliveries: list[DeliverySummary] = []
        last = len(rows) - 1
        for index, row in enumerate(rows):
            if row[5] is not None:
                deliveries.append(_delivery_summary(row[5:]))
            if index == last or rows[index + 1][0] != row[0]:
                posts.append(PostSummary(row[0], row[1], row[2], row[3], row[4], tuple(deliveries)))
                deliveries = []
        return posts

    def outbox_tick(self) -> int:
        """A counter that every visible change of a delivery moves on (in commit order)."""
        rows = self._read("SELECT tick FROM outbox_clock WHERE id = 1")
        return int(rows[0]["tick"]) if rows else 0

    def data_version(self) -> int:
        """A number that changes whenever another connection (another thread or process, such
        as ``staffetta flush``) commits; cheap enough to poll every second or two."""
        return int(self._read_tuples("PRAGMA data_version")[0][0])

    def changed_deliveries(self, since_tick: int, limit: int = 5000) -> list[DeliverySummary]:
        """Deliveries whose state, reason, retry time or link changed after ``since_tick``,
        oldest change first (at most ``limit``; a caller that gets ``limit`` should reload)."""
        rows = self._read_tuples(
            f"SELECT {_DELIVERY_SUMMARY_COLUMNS} FROM deliveries d WHERE d.tick > ?"
            f" ORDER BY d.tick LIMIT ?",
            (since_tick, limit),
        )
        return [_delivery_summary(r) for r in rows]

    def pending_by_account(self) -> dict[str, int]:
        """How many deliveries each account still has on their way (not scheduled, not
        finished, not waiting for the user)."""
        rows = self._read(
            f"SELECT account_id, count(*) AS n FROM deliveries WHERE state IN ({_PENDING_SQL})"
            f" GROUP BY account_id",
            _PENDING,
        )
        return {r["account_id"]: int(r["n"]) for r in rows}

    def post_ids(self, limit: int = 100, offset: int = 0) -> list[int]:
        rows = self._read("SELECT id FROM posts ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset))
        return [int(r["id"]) for r in rows]

    # --- deliveries -----------------------------------------------------------------------------
    def deliveries(
        self, *, post_id: int | None = None, states: Iterable[State] | None = None
    ) -> list[Delivery]:
        sql = "SELECT * FROM deliveries WHERE 1=1"
        params: list[Any] = []
        if post_id is not None:
            sql += " AND post_id = ?"
            params.append(post_id)
        if states is not None:
            wanted = [s.value for s in states]
            sql += f" AND state IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        return [_delivery(r) for r in self._read(sql + " ORDER BY id", params)]

    def delivery(self, delivery_id: int) -> Delivery:
        rows = self._read("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
        if not rows:
            raise StoreError(f"No delivery with id {delivery_id}.")
        return _delivery(rows[0])

    def attempts(self, delivery_id: int) -> list[Attempt]:
        return [
            Attempt(r["delivery_id"], r["started_at"], r["finished_at"], r["outcome"], r["detail"])
            for r in self._read(
                "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY id", (delivery_id,)
            )
        ]

    def heads(self) -> list[tuple[Delivery, str]]:
        """The first unfinished delivery of every active account, with its lease owner.

        Strict order within an account: a later post never overtakes an earlier one that is still
        waiting, so only these heads may be sent.
        """
        rows = self._read(
            f"SELECT * FROM (SELECT d.*, row_number() OVER (PARTITION BY d.account_id"
            f" ORDER BY d.not_before, d.id) AS place FROM deliveries d"
            f" JOIN accounts a ON a.id = d.account_id"
            f" WHERE a.paused_reason = '' AND d.state IN ({_BLOCKING_SQL})) WHERE place = 1",
            _BLOCKING,
        )
        return [(_delivery(row), row["lease_owner"] or "") for row in rows]

    def head(self, account_id: str) -> Delivery | None:
        """The first unfinished delivery of one account (see :meth:`heads`)."""
        rows = self._read(
            f"SELECT * FROM deliveries WHERE account_id = ? AND state IN ({_BLOCKING_SQL})"
            f" ORDER BY not_before, id LIMIT 1",
            (account_id, *_BLOCKING),
        )
        return _delivery(rows[0]) if rows else None

    def begin_attempt(self, delivery_id: int, owner: str, lease_seconds: float) -> Delivery | None:
        """Lease the delivery for ``owner`` and record, durably, that a request is about to leave.

        One transaction: returns None (and changes nothing) if the delivery is finished or a live
        process holds its lease. From the commit on, a crash is reconciled, never blindly resent.
        The state before the attempt is kept in ``Delivery.state`` of the returned value so the
        caller knows whether an earlier attempt must be reconciled first.
        """
        now = self._clock.now()
        with self._write() as conn:
            row = conn.execute(
                "SELECT lease_owner, lease_expires_at, state FROM deliveries WHERE id = ?",
                (delivery_id,),
            ).fetchone()
            if row is None or row[2] not in _SENDABLE:
                return None  # finished, or waiting for the user (an assisted copy)
            holder, expires = row[0], row[1] or 0.0
            if holder and holder != owner and expires > now and not _owner_is_dead(holder):
                return None
            previous = self._read("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))[0]
            conn.execute(
                "UPDATE deliveries SET lease_owner = ?, lease_expires_at = ?, state = ?,"
                " attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ?),"
                " last_attempt_at = ?, updated_at = ? WHERE id = ?",
                (owner, now + lease_seconds, State.SENDING.value, now, now, now, delivery_id),
            )
            conn.execute(
                "INSERT INTO attempts (delivery_id, started_at) VALUES (?, ?)", (delivery_id, now)
            )
        return _delivery(previous)

    def finish(
        self,
        delivery_id: int,
        state: State,
        *,
        detail: str = "",
        next_attempt_at: float | None = None,
        remote_id: str = "",
        remote_url: str = "",
    ) -> None:
        """Move a leased delivery to its next state, release the lease and close the attempt."""
        now = self._clock.now()
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ?,"
                " next_attempt_at = coalesce(?, next_attempt_at),"
                " remote_id = CASE WHEN ? = '' THEN remote_id ELSE ? END,"
                " remote_url = CASE WHEN ? = '' THEN remote_url ELSE ? END,"
                " lease_owner = NULL, lease_expires_at = NULL WHERE id = ?",
                (
                    state.value,
                    detail,
                    now,
                    next_attempt_at,
                    remote_id,
                    remote_id,
                    remote_url,
                    remote_url,
                    delivery_id,
                ),
            )
            conn.execute(
                "UPDATE attempts SET finished_at = ?, outcome = ?, detail = ?"
                " WHERE id = (SELECT max(id) FROM attempts WHERE delivery_id = ?)"
                " AND finished_at IS NULL",
                (now, state.value, detail, delivery_id),
            )

    def save_checkpoint(self, delivery_id: int, checkpoint: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET checkpoint = ?, updated_at = ? WHERE id = ?",
                (json.dumps(checkpoint), self._clock.now(), delivery_id),
            )

    def set_state(
        self,
        delivery_ids: Sequence[int],
        state: State,
        *,
        only_from: Iterable[State] | None = None,
        detail: str | None = None,
        next_attempt_at: float | None = None,
    ) -> int:
        """Move deliveries to ``state`` (optionally only those currently in ``only_from``)."""
        if not delivery_ids:
            return 0
        now = self._clock.now()
        sql = (
            "UPDATE deliveries SET state = ?, updated_at = ?,"
            " last_error = coalesce(?, last_error), next_attempt_at = coalesce(?, next_attempt_at)"
            f" WHERE id IN ({','.join('?' * len(delivery_ids))})"
        )
        params: list[Any] = [state.value, now, detail, next_attempt_at, *delivery_ids]
        if only_from is not None:
            sources = [s.value for s in only_from]
            sql += f" AND state IN ({','.join('?' * len(sources))})"
            params.extend(sources)
        with self._write() as conn:
            return conn.execute(sql, params).rowcount

    def retry_now(self, delivery_id: int) -> bool:
        """User action: try this delivery again at once (waiting, down, failed or scheduled)."""
        now = self._clock.now()
        movable = (State.WAITING, State.DOWN, State.FAILED, State.SCHEDULED, State.QUEUED)
        return bool(
            self.set_state([delivery_id], State.QUEUED, only_from=movable, next_attempt_at=now)
        )

    def cancel(self, delivery_id: int) -> bool:
        """User action: never send this delivery. A delivery being sent right now can't be."""
        cancellable = [s for s in BLOCKING_STATES if s is not State.SENDING]
        cancellable += [State.NEEDS_RECONNECT, State.FAILED, State.UNCONFIRMED]
        return bool(self.set_state([delivery_id], State.CANCELLED, only_from=cancellable))

    def resolve_unconfirmed(self, delivery_id: int, *, went_out: bool) -> bool:
        """User decision on an unconfirmed delivery: it went out, or send it again."""
        if went_out:
            return bool(
                self.set_state([delivery_id], State.SENT, only_from=[State.UNCONFIRMED], detail="")
            )
        return bool(
            self.set_state(
                [delivery_id],
                State.QUEUED,
                only_from=[State.UNCONFIRMED],
                next_attempt_at=self._clock.now(),
                detail="",
            )
        )

    def confirm_assisted(self, delivery_id: int, *, posted: bool, url: str = "") -> bool:
        """User decision on an assisted copy whose turn came: posted by hand (sent, with the link
        to it when given) or skipped (cancelled). False when it is not waiting for the user."""
        if not posted:
            return bool(
                self.set_state(
                    [delivery_id], State.CANCELLED, only_from=[State.YOUR_TURN], detail=""
                )
            )
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE deliveries SET state = ?, last_error = '', updated_at = ?,"
                " remote_url = CASE WHEN ? = '' THEN remote_url ELSE ? END"
                " WHERE id = ? AND state = ?",
                (
                    State.SENT.value,
                    self._clock.now(),
                    url,
                    url,
                    delivery_id,
                    State.YOUR_TURN.value,
                ),
            ).rowcount
        return bool(changed)

    def counts(self, states: Iterable[State] | None = None) -> dict[State, int]:
        """Deliveries per state; with ``states``, only those (read from the state index alone:
        a history of sent posts costs nothing to skip)."""
        if states is None:
            rows = self._read("SELECT state, count(*) AS n FROM deliveries GROUP BY state")
        else:
            wanted = [s.value for s in states]
            rows = self._read(
                f"SELECT state, count(*) AS n FROM deliveries"
                f" WHERE state IN ({','.join('?' * len(wanted))}) GROUP BY state",
                wanted,
            )
        return {State(r["state"]): int(r["n"]) for r in rows}

    # --- platform health ------------------------------------------------------------------------
    def endpoint(self, key: str) -> EndpointHealth:
        rows = self._read("SELECT * FROM endpoints WHERE key = ?", (key,))
        return _endpoint(rows[0]) if rows else EndpointHealth(key=key)

    def endpoints(self) -> list[EndpointHealth]:
        return [_endpoint(r) for r in self._read("SELECT * FROM endpoints ORDER BY key")]

    def save_endpoint(self, health: EndpointHealth) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO endpoints (key, down_since, failures, probes, next_probe_at,"
                " last_error, updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET"
                " down_since = excluded.down_since, failures = excluded.failures,"
                " probes = excluded.probes, next_probe_at = excluded.next_probe_at,"
                " last_error = excluded.last_error, updated_at = excluded.updated_at",
                (
                    health.key,
                    health.down_since,
                    health.failures,
                    health.probes,
                    health.next_probe_at,
                    health.last_error,
                    self._clock.now(),
                ),
            )


# --- helpers ------------------------------------------------------------------------------------


def _statements(script: str) -> list[str]:
    """Split a migration into statements; a trigger body's inner ``;`` does not end it."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()!r}")
    return statements


def _check_existing(path: Path) -> None:
    """Validate an existing file without writing to it (read-only URI, no WAL switch)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"Cannot read the outbox at {path}: {exc.strerror or exc}") from exc
    if header and header != _SQLITE_MAGIC:
        raise _corrupt_error(path, "it is not an SQLite database")
    if not header:
        return  # an empty file is a new database
    try:
        # immutable: no locks, no -wal/-shm files created beside a file we may not touch.
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise _store_error(path, exc) from exc
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise _newer_error(path, version)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if version:
            conn.execute("SELECT count(*) FROM deliveries").fetchone()
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return
        raise _corrupt_error(path, str(exc)) from exc
    finally:
        conn.close()


def _corrupt_error(path: Path, why: str) -> StoreError:
    return StoreError(
        f"The outbox database {path} is damaged ({why}). It has been left untouched. "
        f"Move it somewhere safe (or restore a backup) and start Staffetta again to begin "
        f"with an empty outbox."
    )


def _newer_error(path: Path, version: int) -> StoreError:
    return StoreError(
        f"The outbox database {path} was written by a newer version of Staffetta (schema "
        f"{version}; this version understands up to {SCHEMA_VERSION}). It has been left "
        f"untouched: please update Staffetta."
    )


def _store_error(path: Path, exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return StoreError(
            f"The outbox database {path} is read-only. Nothing was changed; make the folder "
            f"writable (or set STAFFETTA_HOME to a writable folder) and try again."
        )
    if "disk is full" in text or "disk I/O" in text:
        return StoreError(
            f"Could not write to the outbox database {path} ({text}). Nothing was lost; free "
            f"some disk space and try again."
        )
    if "not a database" in text or "malformed" in text:
        return _corrupt_error(path, text)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"The outbox database {path} is busy in another Staffetta process; try again."
        )
    return StoreError(f"The outbox database {path} could not be used: {text}")


def _account(row: sqlite3.Row) -> Account:
    return Account(
        id=row["id"],
        channel=row["channel"],
        name=row["name"],
        settings=json.loads(row["settings"]),
        paused_reason=row["paused_reason"],
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        id=row["id"],
        post_id=row["post_id"],
        account_id=row["account_id"],
        state=State(row["state"]),
        idempotency_key=row["idempotency_key"],
        not_before=row["not_before"],
        next_attempt_at=row["next_attempt_at"],
        attempts=row["attempts"],
        first_attempt_at=row["first_attempt_at"],
        last_attempt_at=row["last_attempt_at"],
        remote_id=row["remote_id"],
        remote_url=row["remote_url"],
        last_error=row["last_error"],
        checkpoint=json.loads(row["checkpoint"]),
        updated_at=row["updated_at"],
    )


_STATES = {state.value: state for state in State}


def _delivery_summary(row: Sequence[Any]) -> DeliverySummary:
    """From the columns of ``_DELIVERY_SUMMARY_COLUMNS``, in that order."""
    id_, post_id, account_id, state, *rest = row
    return DeliverySummary(id_, post_id, account_id, _STATES[state], *rest)


def _fts_query(search: str) -> str:
    """The user's words as an FTS5 query: every word must appear, as a word or its beginning.

    Each word is quoted, so nothing the user types is read as FTS5 syntax.
    """
    words = _WORD.findall(search)
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _endpoint(row: sqlite3.Row) -> EndpointHealth:
    return EndpointHealth(
        key=row["key"],
        down_since=row["down_since"],
        failures=row["failures"],
        probes=row["probes"],
        next_probe_at=row["next_probe_at"],
        last_error=row["last_error"],
    )
