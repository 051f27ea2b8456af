-- Run history (SPEC 15), the PostgreSQL dialect. Keep in step with
-- ../sqlite/0001_history.sql: same tables, columns, meanings.
-- Times are milliseconds since the Unix epoch, UTC.

CREATE TABLE jobs (
    kind         TEXT   NOT NULL,
    job_id       TEXT   NOT NULL,
    last_counter BIGINT NOT NULL DEFAULT 0,
    last_slot    BIGINT,
    PRIMARY KEY (kind, job_id)
);

CREATE TABLE runs (
    kind        TEXT    NOT NULL,
    job_id      TEXT    NOT NULL,
    counter     BIGINT  NOT NULL,
    status      TEXT    NOT NULL,
    trigger     TEXT,
    slot        BIGINT,
    queued_at   BIGINT,
    started_at  BIGINT,
    ended_at    BIGINT,
    duration_ms BIGINT,
    attempts    BIGINT  NOT NULL DEFAULT 1,
    exit_code   BIGINT ,
    node        TEXT,
    fence       BIGINT,
    actor       TEXT,
    log         BIGINT  NOT NULL DEFAULT 1,
    PRIMARY KEY (kind, job_id, counter)
);
CREATE INDEX runs_by_status ON runs (kind, job_id, status, counter);
-- The rows start-up reconciles: those whose log should be on disk (a few per job).
CREATE INDEX runs_with_log ON runs (kind, job_id, counter) WHERE log = 1 OR status = 'running';

CREATE TABLE audit (
    id     BIGSERIAL PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT   NOT NULL,
    via    TEXT   NOT NULL,
    source TEXT   NOT NULL,
    action TEXT   NOT NULL,
    target TEXT   NOT NULL,
    result TEXT   NOT NULL
);
