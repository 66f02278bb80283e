-- The asyncmq schema, version 1 (stored in PRAGMA user_version).
-- Run with executescript() when user_version is 0. Every statement is IF NOT EXISTS and the
-- whole script is one BEGIN IMMEDIATE transaction, so processes racing to create it are safe.
-- Parameters: none. Returns: nothing.

BEGIN IMMEDIATE;

-- One row per job. The columns are what queries filter or sort on; the producer's fields that
-- no query reads (task_id, args, kwargs, retries, backoff, timeout, depends_on, hard_timeout,
-- context) travel as one JSON document in `data`, written once at enqueue; a field added
-- later is a new key with a default for the rows that lack it, not a new column.
CREATE TABLE IF NOT EXISTS jobs (
    queue       TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    priority    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,  -- order of entering the current state (FIFO within a priority)
    run_at      REAL,
    created_at  REAL    NOT NULL,
    ttl         REAL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    stalls      INTEGER NOT NULL DEFAULT 0,
    started_at  REAL,
    finished_at REAL,
    lease_token TEXT,
    lease_until REAL,
    data        BLOB    NOT NULL,
    result      BLOB,
    error       BLOB,
    progress    BLOB,
    PRIMARY KEY (queue, id)
);

-- Partial indexes: each covers only the rows of one state, so the claim, the delayed-job
-- scanner and the lease reaper each read a small index in the order they need.
CREATE INDEX IF NOT EXISTS jobs_waiting ON jobs (queue, priority, seq) WHERE state = 'waiting';
CREATE INDEX IF NOT EXISTS jobs_delayed ON jobs (queue, run_at, seq) WHERE state = 'delayed';
CREATE INDEX IF NOT EXISTS jobs_active ON jobs (queue, lease_until) WHERE state = 'active';
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (queue, state, finished_at DESC, seq)
    WHERE state IN ('completed', 'failed', 'expired', 'cancelled');

-- Unmet dependencies only: an edge is deleted when its dependency completes, and a job has
-- edges exactly while it is waiting-children.
CREATE TABLE IF NOT EXISTS dependencies (
    queue         TEXT NOT NULL,
    dependency_id TEXT NOT NULL,
    job_id        TEXT NOT NULL,
    PRIMARY KEY (queue, dependency_id, job_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dependencies_job ON dependencies (queue, job_id);

-- Jobs per state, kept by the triggers below in the same transaction as the change, so
-- counts() is one indexed read however many jobs there are and no transition can forget it.
CREATE TABLE IF NOT EXISTS counts (
    queue TEXT    NOT NULL,
    state TEXT    NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (queue, state)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS jobs_counted_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO counts (queue, state, n) VALUES (new.queue, new.state, 1)
        ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER IF NOT EXISTS jobs_counted_update AFTER UPDATE OF state ON jobs
WHEN old.state IS NOT new.state BEGIN
    UPDATE counts SET n = n - 1 WHERE queue = old.queue AND state = old.state;
    INSERT INTO counts (queue, state, n) VALUES (new.queue, new.state, 1)
        ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER IF NOT EXISTS jobs_counted_delete AFTER DELETE ON jobs BEGIN
    UPDATE counts SET n = n - 1 WHERE queue = old.queue AND state = old.state;
END;

-- Per-queue state: the pause flag, the wake-up version that wait_for_jobs polls (bumped by
-- every transaction that makes work ready), the next claim-order number and the rate bucket.
CREATE TABLE IF NOT EXISTS queues (
    name          TEXT    PRIMARY KEY,
    paused        INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 0,
    next_seq      INTEGER NOT NULL DEFAULT 0,
    rate_limit    INTEGER,
    rate_interval REAL,
    tokens        REAL,
    tokens_at     REAL
);

CREATE TABLE IF NOT EXISTS repeatables (
    queue      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    job        BLOB    NOT NULL,
    every      REAL,
    cron       TEXT,
    created_at REAL    NOT NULL,
    paused     INTEGER NOT NULL,
    PRIMARY KEY (queue, key)
);

CREATE TABLE IF NOT EXISTS workers (
    queue        TEXT NOT NULL,
    id           TEXT NOT NULL,
    heartbeat_at REAL NOT NULL,
    info         BLOB NOT NULL,
    PRIMARY KEY (queue, id)
);

PRAGMA user_version = 1;

COMMIT;
