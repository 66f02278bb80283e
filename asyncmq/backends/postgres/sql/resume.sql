-- resume: unpause the queue and wake its listeners. $1 queue text. Returns notified.
WITH resumed AS (
    UPDATE {schema}.{prefix}queues SET paused = false WHERE queue = $1::text
)
SELECT count(*)::integer AS notified FROM (SELECT pg_notify('{channel}', $1::text)) AS n;
