-- hdis-sync state schema. The single source of the schema: embedded in the
-- binary and applied by `store::Store::open`; the version lives in
-- PRAGMA user_version (see SCHEMA_VERSION in src/store/mod.rs).
-- Times are RFC 3339 text in UTC.

-- One row per Lexmark case we have seen.
--   phase: new       stored, ticket not yet created
--          ticketed  ticket created, number not yet written back to Lexmark
--          open      linked and written back; polled
--          closed    Resolved/Canceled; still polled until the grace period ends
--          archived  closed for longer than the grace period; no longer polled
CREATE TABLE IF NOT EXISTS cases (
    case_number    TEXT PRIMARY KEY,
    phase          TEXT NOT NULL DEFAULT 'new'
                   CHECK (phase IN ('new', 'ticketed', 'open', 'closed', 'archived')),
    ticket_id      TEXT,
    ticket_number  TEXT,
    document       TEXT NOT NULL,      -- the last case document read (JSON)
    snapshot       TEXT NOT NULL,      -- trigger-field snapshot (JSON)
    first_seen_at  TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    last_polled_at TEXT,
    closed_at      TEXT,
    last_error     TEXT,
    last_error_at  TEXT
);
CREATE INDEX IF NOT EXISTS cases_by_phase ON cases (phase);

-- Everything to deliver, committed before delivery, marked done after it.
--   kind:      create_ticket | write_back | ticket_update
--   status:    pending | done | dead (parked after max attempts or a permanent error)
--   in_flight: 1 from just before a delivery until its outcome is recorded;
--              found set on the next attempt, the outcome is unknown.
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number     TEXT NOT NULL REFERENCES cases (case_number),
    kind            TEXT NOT NULL CHECK (kind IN ('create_ticket', 'write_back', 'ticket_update')),
    change_key      TEXT,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    in_flight       INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    done_at         TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, case_number, id);

-- One row per cycle.
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT,                  -- ok | failed | interrupted (NULL while running)
    counts      TEXT,                  -- the cycle report (JSON)
    error       TEXT
);
