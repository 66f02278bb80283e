-- list_repeatables: the queue's definitions in the order first saved.
-- :queue -> rows (key, job, every, cron, created_at, paused)

-- name: list_repeatables
SELECT key, job, every, cron, created_at, paused
FROM repeatables WHERE queue = :queue ORDER BY rowid;
