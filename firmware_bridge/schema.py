"""The bridge's SQLite schema: numbered migrations; ``PRAGMA user_version`` records the last applied.

Append new migrations at the end; never edit one that has shipped (firmware_bridge/store.py applies them).
"""

SCHEMA = [
    """
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        text TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
        parts_total INTEGER,
        parts_done INTEGER NOT NULL DEFAULT 0,
        ref INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        offered_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE INDEX outbox_due ON outbox (state, next_try_at);
    CREATE TABLE inbox (
        request_id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        text TEXT NOT NULL,
        received_at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'answered', 'refused')),
        stored_at TEXT NOT NULL,
        answered_at TEXT,
        error TEXT
    );
    CREATE INDEX inbox_pending ON inbox (state, stored_at);
    CREATE TABLE parts (
        sender TEXT NOT NULL,
        ref INTEGER NOT NULL,
        total INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        encoding TEXT NOT NULL,
        units BLOB NOT NULL,
        sent_at TEXT,
        stored_at TEXT NOT NULL,
        PRIMARY KEY (sender, ref, total, seq)
    );
    CREATE TABLE seen (pdu_hash TEXT PRIMARY KEY, stored_at TEXT NOT NULL);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: sms/cancel. SQLite cannot change a CHECK in place: the table is copied.
    """
    CREATE TABLE outbox_2 (
        id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,            -- '' once cancelled: the bridge keeps no number it no longer needs
        text TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
        parts_total INTEGER,
        parts_done INTEGER NOT NULL DEFAULT 0,
        ref INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        offered_at TEXT NOT NULL,
        done_at TEXT
    );
    INSERT INTO outbox_2 SELECT * FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_2 RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox (state, next_try_at);
    """,
]
