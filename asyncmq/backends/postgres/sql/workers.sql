-- Worker reports, refreshed by heartbeats.

-- name: record
-- $1 queue text, $2 worker id text, $3 heartbeat_at float8, $4 info (JSON) text.
INSERT INTO {schema}.{prefix}workers (queue, id, heartbeat_at, info)
VALUES ($1::text, $2::text, $3::float8, $4::json)
ON CONFLICT (queue, id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, info = excluded.info;

-- name: remove
-- $1 queue text, $2 worker id text.
DELETE FROM {schema}.{prefix}workers WHERE queue = $1::text AND id = $2::text;

-- name: list
-- $1 queue text, $2 seen_since float8. Deletes older reports; returns info of the others.
WITH gone AS (
    DELETE FROM {schema}.{prefix}workers WHERE queue = $1::text AND heartbeat_at < $2::float8
)
SELECT info FROM {schema}.{prefix}workers
WHERE queue = $1::text AND heartbeat_at >= $2::float8
ORDER BY id;
