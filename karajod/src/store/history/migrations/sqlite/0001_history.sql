-- Run history (SPEC 15), the SQLite dialect. Keep in step with
-- ../postgres/0001_history.sql: same tables, columns, meanings.
-- Times are milliseconds since the Unix epoch, UTC.

-- One row per job of any kind: the counter allocator (never goes back,
-- also when every log and row is deleted) and the last fired timer slot
-- (catch-up, SPEC 17).
CREATE TABLE jobs (
    kind         TEXT    NOT NULL,          -- job | job_http | check
    job_id       TEXT    NOT NULL,
    last_counter INTEGER NOT NULL DEFAULT 0,
    last_slot    INTEGER,
    PRIMARY KEY (kind, job_id)
);

-- One row per run, missed slot (status missed, log 0) or check ping.
CREATE TABLE runs (
    kind        TEXT    NOT NULL,
    job_id      TEXT    NOT NULL,
    counter     INTEGER NOT NULL,
    status      TEXT    NOT NULL,           -- running | success | failed | canceled | missed | ...
    trigger     TEXT,                       -- timer | http | manual | retry | catch_up | ping
    slot        INTEGER,                    -- nominal schedule time of a timer run
    queued_at   INTEGER,
    started_at  INTEGER,
    ended_at    INTEGER,
    duration_ms INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 1,
    exit_code   INTEGER,
    node        TEXT,                       -- cluster node that ran it (SPEC 19)
    fence       INTEGER,                    -- its fencing token (SPEC 19)
    actor       TEXT,                       -- who asked (SPEC 21)
    log         INTEGER NOT NULL DEFAULT 1, -- 0 once retention deleted the log file, or it never had one
    PRIMARY KEY (kind, job_id, counter)
);
CREATE INDEX runs_by_status ON runs (kind, job_id, status, counter);
-- The rows start-up reconciles: those whose log should be on disk (a few per job).
CREATE INDEX runs_with_log ON runs (kind, job_id, counter) WHERE log = 1 OR status = 'running';

-- The audit log (SPEC 21); the same rows are also written as JSON lines.
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT    NOT NULL,
    via    TEXT    NOT NULL,
    source TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    result TEXT    NOT NULL
);
