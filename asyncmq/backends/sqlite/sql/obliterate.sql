-- obliterate: delete everything of a queue. The queues row stays, reset, so its wake-up
-- version keeps growing and no poller mistakes a new queue of that name for the old one.
-- Each statement: :queue -> nothing; `jobs` has rowcount = the number of jobs deleted

-- name: jobs
DELETE FROM jobs WHERE queue = :queue;

-- name: dependencies
DELETE FROM dependencies WHERE queue = :queue;

-- name: counts
DELETE FROM counts WHERE queue = :queue;

-- name: repeatables
DELETE FROM repeatables WHERE queue = :queue;

-- name: workers
DELETE FROM workers WHERE queue = :queue;

-- name: reset_queue
UPDATE queues
SET paused = 0, rate_limit = NULL, rate_interval = NULL, tokens = NULL, tokens_at = NULL
WHERE name = :queue;
