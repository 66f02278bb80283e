-- wait_for_jobs polls the queue's wake-up version: one primary-key read.
-- :queue -> one row (version) or none (the queue was never touched: version 0)

-- name: version
SELECT version FROM queues WHERE name = :queue;
