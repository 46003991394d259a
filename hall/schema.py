"""Numbered schema migrations; ``PRAGMA user_version`` records the last one applied.

Append new migrations at the end; never edit one that has shipped.
"""

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        day TEXT NOT NULL,              -- local date of issue (site timezone)
        number TEXT NOT NULL,           -- dept code + daily sequence: 02001
        dept TEXT NOT NULL,             -- current department (changes on transfer)
        item TEXT,                      -- NULL after a transfer that named no item
        phone TEXT,                     -- full number: only here and on the SMS path
        kiosk TEXT NOT NULL,
        status TEXT NOT NULL,           -- waiting serving skipped completed accepted expired
        priority INTEGER NOT NULL DEFAULT 0,  -- 1: requeued or transferred, goes first
        queue_seq INTEGER NOT NULL,     -- order within a priority: issue order
        issued_at REAL NOT NULL,        -- all *_at are UTC epoch seconds
        called_at REAL,
        limit_s REAL,
        window TEXT,
        clerk TEXT,
        recalls INTEGER NOT NULL DEFAULT 0,
        finished_at REAL,
        UNIQUE (day, number)
    );
    CREATE INDEX tickets_waiting ON tickets (status, dept, priority DESC, queue_seq);
    CREATE INDEX tickets_phone ON tickets (phone, dept, status);

    CREATE TABLE counters (
        day TEXT NOT NULL, dept TEXT NOT NULL, last INTEGER NOT NULL,
        PRIMARY KEY (day, dept)
    );

    CREATE TABLE windows (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,           -- open paused closed
        clerk TEXT,
        serving INTEGER REFERENCES tickets (id)
    );

    CREATE TABLE cases (
        id TEXT PRIMARY KEY,            -- YYYYMMDD-number
        ticket INTEGER NOT NULL REFERENCES tickets (id),
        dept TEXT NOT NULL, item TEXT, window TEXT NOT NULL, clerk TEXT,
        accepted_at REAL NOT NULL,
        due_date TEXT NOT NULL,         -- last working day it may be finished on
        red_date TEXT NOT NULL,         -- after this day: red card
        status TEXT NOT NULL,           -- open done
        done_at REAL, done_by TEXT
    );
    CREATE INDEX cases_open ON cases (status);

    CREATE TABLE cards (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        level TEXT NOT NULL,            -- yellow red
        dept TEXT NOT NULL, window TEXT, clerk TEXT,
        ticket INTEGER REFERENCES tickets (id),
        case_id TEXT REFERENCES cases (id),
        since REAL NOT NULL,            -- when the limit was crossed
        recorded_at REAL NOT NULL,
        UNIQUE (ticket, level), UNIQUE (case_id, level)
    );

    CREATE TABLE requests (
        source TEXT NOT NULL, request_id TEXT NOT NULL,
        response TEXT NOT NULL, at REAL NOT NULL,
        PRIMARY KEY (source, request_id)
    );

    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    -- The audit log: every state change, append-only. It is the supervision
    -- record, so the database itself refuses to change or delete a row.
    CREATE TABLE journal (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        type TEXT NOT NULL,
        window TEXT, clerk TEXT, ticket TEXT, request_id TEXT,
        data TEXT NOT NULL              -- the published event, phone masked
    );
    CREATE INDEX journal_type ON journal (type, seq);
    CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    """,
    # 2: evaluation by SMS, monthly reports, phone retention (issues 6 and 7)
    """
    -- Every text the controller wants sent, until the SMS bridge confirms it (docs/protocol.md).
    CREATE TABLE sms_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a row id is never given twice
        sms_id TEXT UNIQUE,             -- the id on the bus: {site}-{meta sms_id_prefix}-{id}
        phone TEXT,                     -- full number; NULL after [storage] phone_retention_days
        kind TEXT NOT NULL,             -- evaluation help opted_out
        text TEXT NOT NULL,
        status TEXT NOT NULL,           -- pending sent failed cancelled (and cancelling, from 3)
        created_at REAL NOT NULL,
        done_at REAL,                   -- when it became sent, failed or cancelled
        error TEXT                      -- failed: the bridge's {code, message} as JSON
    );
    CREATE INDEX sms_outbox_pending ON sms_outbox (id) WHERE status = 'pending';
    CREATE INDEX sms_outbox_phone ON sms_outbox (phone, kind, created_at);
    CREATE INDEX sms_outbox_with_phone ON sms_outbox (created_at) WHERE phone IS NOT NULL;

    -- One row per evaluation text queued after complete or accept. It keeps no phone
    -- number (the outbox row does, until retention), so the rating outlives it, anonymous.
    CREATE TABLE evaluations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket INTEGER NOT NULL UNIQUE REFERENCES tickets (id),
        day TEXT NOT NULL,              -- the ticket's day: the month it counts in
        dept TEXT NOT NULL, window TEXT NOT NULL, clerk TEXT, item TEXT,
        finished_at REAL NOT NULL,
        outbox INTEGER NOT NULL REFERENCES sms_outbox (id),
        rating TEXT,                    -- satisfied basic unsatisfied; NULL: not rated
        rated_at REAL
    );
    -- The monthly report groups by these in this order: read in index order, no sort.
    CREATE INDEX evaluations_month ON evaluations (day, dept, window, clerk);
    CREATE INDEX evaluations_outbox ON evaluations (outbox);

    -- Numbers that answered TD. Only a keyed hash (meta phone_salt) is kept, never the
    -- number, so an opt-out outlives the phone retention and lasts for good.
    CREATE TABLE sms_opt_outs (
        phone_hash TEXT PRIMARY KEY,
        at REAL NOT NULL
    );

    -- The daily erasure of old phone numbers visits only the rows that still have one.
    CREATE INDEX tickets_with_phone ON tickets (issued_at) WHERE phone IS NOT NULL;
    CREATE INDEX cards_since ON cards (since);
    CREATE INDEX cases_done ON cases (done_at) WHERE done_at IS NOT NULL;

    -- Random per database: ids stay unique even against a bridge that outlived a fresh database.
    INSERT INTO meta (key, value) VALUES ('sms_id_prefix', lower(hex(randomblob(3))));
    INSERT INTO meta (key, value) VALUES ('phone_salt', lower(hex(randomblob(16))));
    """,
    # 3: a TD also withdraws texts the SMS bridge already holds (sms/cancel, docs/protocol.md)
    """
    -- cancelling: withdrawn, its id offered on sms/cancel until the bridge answers.
    CREATE INDEX sms_outbox_cancelling ON sms_outbox (id) WHERE status = 'cancelling';
    -- Texts cancelled before this version were never withdrawn from the bridge, which may
    -- still hold one (a modem without network): tell it now. Its answer is the truth, so
    -- one that did go out becomes sent.
    UPDATE sms_outbox SET status = 'cancelling', done_at = NULL WHERE status = 'cancelled';
    """,
]
