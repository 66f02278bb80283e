-- Repeatable definitions, keyed by (queue, key).

-- name: save
-- $1 queue text, $2 key text, $3 job (JSON) text, $4 every float8, $5 cron text,
-- $6 created_at float8, $7 paused boolean. Replaces an existing definition but keeps its
-- created_at (so its schedule does not shift) and its paused flag (so an app declaring its
-- repeatables at start-up does not resume one an operator paused). Returns nothing.
INSERT INTO {schema}.{prefix}repeatables AS r (queue, key, job, every, cron, created_at, paused)
VALUES ($1::text, $2::text, $3::json, $4::float8, $5::text, $6::float8, $7::boolean)
ON CONFLICT (queue, key) DO UPDATE
SET job = excluded.job, every = excluded.every, cron = excluded.cron;

-- name: list
-- $1 queue text. Returns key, job, every, cron, created_at, paused.
SELECT key, job, every, cron, created_at, paused
FROM {schema}.{prefix}repeatables
WHERE queue = $1::text
ORDER BY created_at, key;

-- name: remove
-- $1 queue text, $2 key text. Returns one row when deleted.
DELETE FROM {schema}.{prefix}repeatables WHERE queue = $1::text AND key = $2::text RETURNING key;

-- name: set_paused
-- $1 queue text, $2 key text, $3 paused boolean. Returns one row when found.
UPDATE {schema}.{prefix}repeatables SET paused = $3::boolean
WHERE queue = $1::text AND key = $2::text
RETURNING key;
