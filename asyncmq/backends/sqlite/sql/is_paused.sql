-- is_paused: the queue's pause flag.
-- :queue -> one row (paused) or none (never paused)

-- name: is_paused
SELECT paused FROM queues WHERE name = :queue;
