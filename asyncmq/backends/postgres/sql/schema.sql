-- Schema version 1: the baseline, applied on first use and by `asyncmq db migrate`.
-- Idempotent and never drops data. Later changes go in sql/migrations/NNNN_<what>.sql, applied
-- in order to databases whose schema_version is lower; this file stays the version 1 baseline.
-- {schema} and {prefix} are validated identifiers substituted at load time.

CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE IF NOT EXISTS {schema}.{prefix}schema_version (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- Arrival order: a job takes the next value each time it enters `waiting`.
CREATE SEQUENCE IF NOT EXISTS {schema}.{prefix}seq;

-- Payload columns (args, kwargs, backoff, depends_on, result, error, progress) hold the JSON
-- text the payload codec wrote: the database never looks inside, and text skips re-parsing.
-- Keys use the "C" collation: byte order is all a key needs, and it spares the btrees a
-- locale-aware comparison per probe.
CREATE TABLE IF NOT EXISTS {schema}.{prefix}jobs (
    queue text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    task_id text NOT NULL,
    args text,
    kwargs text,
    priority integer NOT NULL,
    retries integer NOT NULL,
    backoff text,
    ttl double precision,
    timeout double precision,
    depends_on text,
    created_at double precision NOT NULL,
    run_at double precision,
    state text COLLATE "C" NOT NULL,
    seq bigint NOT NULL DEFAULT nextval('{schema}.{prefix}seq'),
    attempts integer NOT NULL DEFAULT 0,
    stalls integer NOT NULL DEFAULT 0,
    started_at double precision,
    finished_at double precision,
    result text,
    error text,
    progress text,
    -- Set exactly while the job is `active` (every transition out of it clears it), so the
    -- settles match on the token alone: a `state = 'active'` condition would let the planner
    -- pick the jobs_active partial index and read every active row of the queue, dead
    -- versions included, instead of the primary key.
    lease_token text COLLATE "C",
    lease_until double precision,
    -- unmet dependencies of a `waiting-children` job
    pending integer NOT NULL DEFAULT 0,
    -- some job was enqueued depending on this one (its edges are in deps)
    has_dependents boolean NOT NULL DEFAULT false,
    PRIMARY KEY (queue, id)
);

-- Partial indexes: claim, promote and requeue read only their own state's rows, so finished
-- jobs piling up in the table cost them nothing.
CREATE INDEX IF NOT EXISTS {prefix}jobs_waiting
    ON {schema}.{prefix}jobs (queue, priority, seq) WHERE state = 'waiting';
CREATE INDEX IF NOT EXISTS {prefix}jobs_delayed
    ON {schema}.{prefix}jobs (queue, run_at) WHERE state = 'delayed';
CREATE INDEX IF NOT EXISTS {prefix}jobs_active
    ON {schema}.{prefix}jobs (queue, lease_until) WHERE state = 'active';
CREATE INDEX IF NOT EXISTS {prefix}jobs_finished
    ON {schema}.{prefix}jobs (queue, state, finished_at)
    WHERE state IN ('completed', 'failed', 'expired', 'cancelled');
CREATE INDEX IF NOT EXISTS {prefix}jobs_waiting_children
    ON {schema}.{prefix}jobs (queue, seq) WHERE state = 'waiting-children';

-- Unresolved dependency edges only: an edge is deleted when its parent finishes.
CREATE TABLE IF NOT EXISTS {schema}.{prefix}deps (
    queue text COLLATE "C" NOT NULL,
    parent_id text COLLATE "C" NOT NULL,
    child_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (queue, parent_id, child_id)
);
CREATE INDEX IF NOT EXISTS {prefix}deps_child ON {schema}.{prefix}deps (queue, child_id);

-- Counts per state as a log of deltas written by statement triggers (one row per state a
-- statement changed, never a shared hot row) and compacted by promote_due and clean.
CREATE TABLE IF NOT EXISTS {schema}.{prefix}counts (
    queue text COLLATE "C" NOT NULL,
    state text COLLATE "C" NOT NULL,
    n bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}counts_queue ON {schema}.{prefix}counts (queue);

CREATE OR REPLACE FUNCTION {schema}.{prefix}count_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {schema}.{prefix}counts (queue, state, n)
    SELECT queue, state, count(*) FROM new_rows GROUP BY queue, state;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION {schema}.{prefix}count_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {schema}.{prefix}counts (queue, state, n)
    SELECT queue, state, sum(n) FROM (
        SELECT queue, state, -1 AS n FROM old_rows
        UNION ALL
        SELECT queue, state, 1 AS n FROM new_rows
    ) AS moves
    GROUP BY queue, state HAVING sum(n) <> 0;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION {schema}.{prefix}count_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {schema}.{prefix}counts (queue, state, n)
    SELECT queue, state, -count(*) FROM old_rows GROUP BY queue, state;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER {prefix}jobs_count_inserted
    AFTER INSERT ON {schema}.{prefix}jobs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{prefix}count_inserted();
CREATE OR REPLACE TRIGGER {prefix}jobs_count_updated
    AFTER UPDATE ON {schema}.{prefix}jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{prefix}count_updated();
CREATE OR REPLACE TRIGGER {prefix}jobs_count_deleted
    AFTER DELETE ON {schema}.{prefix}jobs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{prefix}count_deleted();

CREATE TABLE IF NOT EXISTS {schema}.{prefix}queues (
    queue text COLLATE "C" PRIMARY KEY,
    paused boolean NOT NULL DEFAULT false
);

-- The shared token bucket of a rate-limited queue (asyncmq.ratelimit.TokenBucket arithmetic).
CREATE TABLE IF NOT EXISTS {schema}.{prefix}rate_limits (
    queue text COLLATE "C" PRIMARY KEY,
    lim integer NOT NULL,
    per double precision NOT NULL,
    tokens double precision NOT NULL,
    updated_at double precision NOT NULL
);

CREATE TABLE IF NOT EXISTS {schema}.{prefix}repeatables (
    queue text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    job json NOT NULL,
    every double precision,
    cron text,
    created_at double precision NOT NULL,
    paused boolean NOT NULL DEFAULT false,
    PRIMARY KEY (queue, key)
);

CREATE TABLE IF NOT EXISTS {schema}.{prefix}workers (
    queue text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    heartbeat_at double precision NOT NULL,
    info json NOT NULL,
    PRIMARY KEY (queue, id)
);

INSERT INTO {schema}.{prefix}schema_version (version) VALUES (1) ON CONFLICT DO NOTHING;
