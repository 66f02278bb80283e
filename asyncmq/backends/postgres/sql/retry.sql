-- retry: active + same token -> delayed (run_at > now) or waiting, error kept, lease cleared.
-- $1 queue text, $2 job ids text[], $3 tokens text[], $4 errors (JSON) text[],
-- $5 run_at float8[], $6 now float8, $7 synchronous_commit for this statement text ('on' or
-- 'off').
-- Returns id, token of each job moved; notifies the queue's listeners.
-- Fenced by the lease token alone, by the primary key (see lease_token in schema.sql).
WITH moved AS (
    UPDATE {schema}.{prefix}jobs AS j
    SET state = CASE WHEN i.run_at > $6::float8 THEN 'delayed' ELSE 'waiting' END,
        error = i.error, run_at = i.run_at, lease_token = NULL, lease_until = NULL,
        seq = nextval('{schema}.{prefix}seq')
    FROM unnest($2::text[], $3::text[], $4::text[], $5::float8[]) AS i(id, token, error, run_at)
    WHERE j.queue = $1::text AND j.id = ANY($2::text[]) AND j.id = i.id AND j.lease_token = i.token
        AND set_config('synchronous_commit', $7::text, true) IS NOT NULL
    RETURNING i.id, i.token
),
notified AS (
    SELECT pg_notify('{channel}', $1::text) FROM (SELECT 1 FROM moved LIMIT 1) AS any_moved
)
SELECT id, token, (SELECT count(*) FROM notified) AS notified FROM moved;
