-- enqueue: insert jobs absent by id, in order. Workers listening on the queue are woken by the
-- insert trigger (migrations/0002_notify_on_insert.sql), for these statements and for the
-- COPY that large batches take instead.

-- name: insert
-- Jobs without dependencies, one statement. $1 queue text, $2 now float8, then one array per
-- field, element i describing job i: $3 ids text[], $4 task ids text[], $5 args (JSON) text[],
-- $6 kwargs (JSON) text[], $7 priorities integer[], $8 retries integer[], $9 backoffs (JSON or
-- NULL) text[], $10 ttls float8[], $11 timeouts float8[], $12 created_at float8[],
-- $13 run_at float8[], $14 hard timeouts float8[], $15 contexts (JSON, NULL when empty) text[].
-- Each new job lands `delayed` (run_at > now) or `waiting`; an existing id changes nothing.
-- Returns inserted (how many were new).
WITH inserted AS (
    INSERT INTO {schema}.{prefix}jobs AS j (
        queue, id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout,
        created_at, run_at, hard_timeout, context, state, seq
    )
    SELECT
        $1::text, i.id, i.task_id, i.args, i.kwargs, i.priority, i.retries,
        i.backoff, i.ttl, i.timeout, i.created_at, i.run_at, i.hard_timeout, i.context,
        CASE WHEN i.run_at > $2::float8 THEN 'delayed' ELSE 'waiting' END,
        nextval('{schema}.{prefix}seq')
    FROM unnest(
        $3::text[], $4::text[], $5::text[], $6::text[], $7::integer[], $8::integer[],
        $9::text[], $10::float8[], $11::float8[], $12::float8[], $13::float8[],
        $14::float8[], $15::text[]
    ) AS i(
        id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout, created_at, run_at,
        hard_timeout, context
    )
    ON CONFLICT (queue, id) DO NOTHING
    RETURNING j.id
)
SELECT count(*)::integer AS inserted FROM inserted;

-- name: lock_dependencies
-- First step of an enqueue with dependencies, in the same transaction as insert_resolved.
-- $1 queue text, $2 ids text[] (the batch's ids and every dependency it names),
-- $3 dependency ids text[].
-- Locks the existing rows among $2 and marks dependencies as having dependents, so that a
-- settle racing with this enqueue waits for it and then sees the new edges.
-- Returns id, state of each existing row.
UPDATE {schema}.{prefix}jobs
SET has_dependents = has_dependents OR id = ANY($3::text[])
WHERE queue = $1::text AND id = ANY($2::text[])
RETURNING id, state;

-- name: insert_resolved
-- Second step: insert jobs whose state the caller resolved from the locked rows.
-- $1 queue text, then arrays as for insert: $2 ids, $3 task ids, $4 args, $5 kwargs,
-- $6 priorities, $7 retries, $8 backoffs, $9 ttls, $10 timeouts, $11 created_at, $12 run_at,
-- $13 hard timeouts, $14 contexts, and $15 depends_on (JSON) text[], $16 states text[],
-- $17 pending integer[], $18 errors (JSON) text[], $19 finished_at float8[], $20 has_dependents
-- boolean[]; $21 edge children text[], $22 edge parents text[] (the unmet dependencies of new
-- jobs).
-- Returns inserted and notified counts.
WITH inserted AS (
    INSERT INTO {schema}.{prefix}jobs AS j (
        queue, id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout,
        created_at, run_at, hard_timeout, context, depends_on, state, pending, error,
        finished_at, has_dependents, seq
    )
    SELECT
        $1::text, i.id, i.task_id, i.args, i.kwargs, i.priority, i.retries,
        i.backoff, i.ttl, i.timeout, i.created_at, i.run_at, i.hard_timeout, i.context,
        i.depends_on, i.state, i.pending, i.error, i.finished_at, i.has_dependents,
        nextval('{schema}.{prefix}seq')
    FROM unnest(
        $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::integer[],
        $8::text[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[],
        $14::text[], $15::text[], $16::text[], $17::integer[], $18::text[], $19::float8[],
        $20::boolean[]
    ) AS i(
        id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout, created_at, run_at,
        hard_timeout, context, depends_on, state, pending, error, finished_at, has_dependents
    )
    ON CONFLICT (queue, id) DO NOTHING
    RETURNING j.id, j.state
),
edges AS (
    INSERT INTO {schema}.{prefix}deps (queue, parent_id, child_id)
    SELECT $1::text, e.parent_id, e.child_id
    FROM unnest($21::text[], $22::text[]) AS e(child_id, parent_id)
    WHERE e.child_id IN (SELECT id FROM inserted)
    ON CONFLICT DO NOTHING
),
-- Always notify: lock_dependencies held the dependencies' rows, and a claim running meanwhile
-- skipped those that were waiting (SKIP LOCKED); the notification, delivered at commit when
-- the locks are gone, sends it back for them.
notified AS (
    SELECT pg_notify('{channel}', $1::text)
)
SELECT (SELECT count(*) FROM inserted)::integer AS inserted,
       (SELECT count(*) FROM notified)::integer AS notified;
