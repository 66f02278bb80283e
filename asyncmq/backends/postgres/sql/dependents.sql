-- Dependency resolution, run right after the transition that finished the parents, as its own
-- statement: a fresh snapshot sees the edges of any enqueue that committed while the
-- transition waited for the parent's row lock (see enqueue.sql:lock_dependencies), which a
-- CTE of the transition itself could not. Edges are deleted as they are resolved, so each
-- counts exactly once even when several parents of one job finish at the same moment, or
-- when the scanner's sweep (unresolved) races with the transition's own resolution.

-- name: release
-- $1 queue text, $2 completed parent ids text[], $3 now float8.
-- Each waiting-children job loses one pending count per edge; at zero it becomes delayed
-- (run_at > now) or waiting. Returns released (count); notifies when any was released.
WITH edges AS (
    DELETE FROM {schema}.{prefix}deps AS d
    WHERE d.queue = $1::text AND d.parent_id = ANY($2::text[])
    RETURNING d.child_id
),
met AS (
    SELECT child_id, count(*)::integer AS n FROM edges GROUP BY child_id
),
released AS (
    UPDATE {schema}.{prefix}jobs AS c
    SET pending = c.pending - m.n,
        state = CASE
            WHEN c.pending > m.n THEN c.state
            WHEN c.run_at > $3::float8 THEN 'delayed'
            ELSE 'waiting'
        END,
        seq = CASE WHEN c.pending > m.n THEN c.seq ELSE nextval('{schema}.{prefix}seq') END
    FROM met AS m
    WHERE c.queue = $1::text AND c.id = ANY(ARRAY(SELECT child_id FROM met)) AND c.id = m.child_id
        AND c.state = 'waiting-children'
    RETURNING c.pending
),
notified AS (
    SELECT pg_notify('{channel}', $1::text)
    FROM (SELECT 1 FROM released WHERE pending = 0 LIMIT 1) AS any_released
)
SELECT (SELECT count(*) FROM released WHERE pending = 0)::integer AS released,
       (SELECT count(*) FROM notified)::integer AS notified;

-- name: cascade
-- $1 queue text, $2 parent ids text[], $3 what text[] (per parent: 'ended failed',
-- 'was removed', ...), $4 now float8.
-- Every waiting-children job depending on one of the parents ends failed with a
-- DependencyFailedError naming the parent; its other edges are dropped.
-- Returns id, has_dependents of each job failed (the caller cascades from them in turn).
WITH edges AS (
    DELETE FROM {schema}.{prefix}deps AS d
    USING unnest($2::text[], $3::text[]) AS p(id, what)
    WHERE d.queue = $1::text AND d.parent_id = p.id
    RETURNING d.child_id, d.parent_id, p.what
),
blame AS (
    SELECT DISTINCT ON (child_id) child_id, parent_id, what
    FROM edges ORDER BY child_id, parent_id
),
failed AS (
    UPDATE {schema}.{prefix}jobs AS c
    SET state = 'failed', finished_at = $4::float8, pending = 0,
        error = json_build_object(
            'type', 'DependencyFailedError',
            'message', 'dependency ' || b.parent_id || ' ' || b.what,
            'traceback', ''
        )::text
    FROM blame AS b
    WHERE c.queue = $1::text AND c.id = ANY(ARRAY(SELECT child_id FROM blame)) AND c.id = b.child_id
        AND c.state = 'waiting-children'
    RETURNING c.id, c.has_dependents
),
unlinked AS (
    DELETE FROM {schema}.{prefix}deps AS d
    USING failed AS f
    WHERE d.queue = $1::text AND d.child_id = f.id
)
SELECT id, has_dependents FROM failed;

-- name: unresolved
-- $1 queue text, $2 limit integer.
-- Parents of remaining edges that have finished or no longer exist: left behind when a process
-- died between a transition and the resolution that follows it. The scanner resolves them.
-- Returns parent_id, state (NULL when the parent is gone).
SELECT DISTINCT d.parent_id, p.state
FROM {schema}.{prefix}deps AS d
LEFT JOIN {schema}.{prefix}jobs AS p ON p.queue = d.queue AND p.id = d.parent_id
WHERE d.queue = $1::text
    AND (p.id IS NULL OR p.state IN ('completed', 'failed', 'expired', 'cancelled'))
LIMIT $2::integer;
