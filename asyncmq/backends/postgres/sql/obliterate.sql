-- obliterate: delete everything of a queue in bounded batches: jobs (repeated by the caller
-- while a full batch went), then the rest.

-- name: jobs
-- $1 queue text, $2 batch size integer. Returns deleted (count).
WITH doomed AS (
    SELECT id FROM {schema}.{prefix}jobs WHERE queue = $1::text LIMIT $2::integer
),
deleted AS (
    DELETE FROM {schema}.{prefix}jobs AS j
    WHERE j.queue = $1::text AND j.id = ANY(ARRAY(SELECT id FROM doomed))
    RETURNING j.id
)
SELECT count(*)::integer AS deleted FROM deleted;

-- name: rest
-- $1 queue text. Deletes edges, pause flag, rate-limit bucket, repeatables, workers and the
-- counts log; wakes listeners so they see the queue is gone. Returns notified.
WITH edges AS (
    DELETE FROM {schema}.{prefix}deps WHERE queue = $1::text
),
flags AS (
    DELETE FROM {schema}.{prefix}queues WHERE queue = $1::text
),
buckets AS (
    DELETE FROM {schema}.{prefix}rate_limits WHERE queue = $1::text
),
repeatables AS (
    DELETE FROM {schema}.{prefix}repeatables WHERE queue = $1::text
),
workers AS (
    DELETE FROM {schema}.{prefix}workers WHERE queue = $1::text
),
logged AS (
    DELETE FROM {schema}.{prefix}counts WHERE queue = $1::text
)
SELECT count(*)::integer AS notified FROM (SELECT pg_notify('{channel}', $1::text)) AS n;
