"""The outbox database schema, as a list of forward migrations.

``MIGRATIONS[n]`` takes a database from ``user_version`` n to n + 1. A released migration is never
edited: a change to the schema is a new entry at the end. The store refuses to open a database whose
version is newer than ``len(MIGRATIONS)`` (written by a newer Staffetta) rather than guess.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: posts, media, accounts, deliveries and the attempt log.
    """
    CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        link TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        content_warning TEXT NOT NULL DEFAULT '',
        overrides TEXT NOT NULL DEFAULT '{}',
        scheduled_at REAL
    );
    CREATE TABLE media (
        sha256 TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        mime TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE post_media (
        post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES media(sha256),
        alt TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (post_id, position)
    );
    CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        name TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',
        paused_reason TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL
    );
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        state TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        not_before REAL NOT NULL,
        next_attempt_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        first_attempt_at REAL,
        lease_owner TEXT,
        lease_expires_at REAL,
        remote_id TEXT NOT NULL DEFAULT '',
        remote_url TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '',
        checkpoint TEXT NOT NULL DEFAULT '{}',
        updated_at REAL NOT NULL
    );
    CREATE INDEX deliveries_by_post ON deliveries(post_id);
    CREATE INDEX deliveries_by_account ON deliveries(account_id, state, not_before, id);
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        started_at REAL NOT NULL,
        finished_at REAL,
        outcome TEXT NOT NULL DEFAULT 'started',
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX attempts_by_delivery ON attempts(delivery_id);
    """,
    # 1 -> 2: shared platform health (circuit breakers), so every process and the status view
    # agree on which platform is down, and the last attempt time that reconcile needs.
    """
    CREATE TABLE endpoints (
        key TEXT PRIMARY KEY,
        down_since REAL,
        failures INTEGER NOT NULL DEFAULT 0,
        probes INTEGER NOT NULL DEFAULT 0,
        next_probe_at REAL,
        last_error TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL
    );
    ALTER TABLE deliveries ADD COLUMN last_attempt_at REAL;
    UPDATE deliveries SET last_attempt_at = (
        SELECT max(started_at) FROM attempts WHERE attempts.delivery_id = deliveries.id
    );
    """,
    # 2 -> 3: whether a post split into a thread numbers its parts ("1/3").
    """
    ALTER TABLE posts ADD COLUMN thread_numbering INTEGER NOT NULL DEFAULT 1;
    """,
    # 3 -> 4: what the outbox window needs to stay smooth with 100,000 posts.
    # - posts_fts: full-text search over title and body (external content, kept by triggers, so
    #   every writer, GUI or CLI, keeps it right); prefix indexes make search-as-you-type cheap.
    # - outbox_clock + deliveries.tick: every change a user can see bumps one counter, so a view
    #   asks "what changed since tick N" instead of re-reading every row. Writers are serialised
    #   (BEGIN IMMEDIATE), so ticks are in commit order and no change is ever missed; no wall
    #   clock is involved.
    # - deliveries_by_state: "how many are waiting per account" and the engine's look-ups by
    #   state read only the matching rows.
    """
    CREATE VIRTUAL TABLE posts_fts USING fts5(
        title, body, content='posts', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    );
    INSERT INTO posts_fts(posts_fts) VALUES ('rebuild');
    CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
        INSERT INTO posts_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END;
    CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END;
    CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, body ON posts BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO posts_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END;
    CREATE TABLE outbox_clock (id INTEGER PRIMARY KEY CHECK (id = 1), tick INTEGER NOT NULL);
    INSERT INTO outbox_clock (id, tick) VALUES (1, 0);
    ALTER TABLE deliveries ADD COLUMN tick INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX deliveries_by_tick ON deliveries(tick);
    CREATE INDEX deliveries_by_state ON deliveries(state, account_id);
    CREATE TRIGGER deliveries_tick
    AFTER UPDATE OF state, next_attempt_at, last_error, remote_url, attempts ON deliveries
    BEGIN
        UPDATE outbox_clock SET tick = tick + 1 WHERE id = 1;
        UPDATE deliveries SET tick = (SELECT tick FROM outbox_clock WHERE id = 1)
        WHERE id = new.id;
    END;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
