-- Moves shared by several transitions, always run inside a BEGIN IMMEDIATE transaction.
-- Parameters are named; each statement says what it returns.

-- name: job_state
-- :queue, :id -> one row (state) or none
SELECT state FROM jobs WHERE queue = :queue AND id = :id;

-- name: next_seq
-- :queue -> one row (next_seq) or none: the last claim-order number handed out
SELECT next_seq FROM queues WHERE name = :queue;

-- name: save_queue
-- :queue, :bump (0 or 1), :next_seq -> nothing. Bumping `version` wakes pollers in
-- wait_for_jobs; next_seq only grows.
INSERT INTO queues (name, version, next_seq) VALUES (:queue, :bump, :next_seq)
ON CONFLICT (name) DO UPDATE SET
    version = version + excluded.version,
    next_seq = max(next_seq, excluded.next_seq);

-- name: finish
-- :queue, :id, :state, :now, :seq, :error (JSON or NULL to keep the stored one) -> nothing
UPDATE jobs
SET state = :state, finished_at = :now, seq = :seq, lease_token = NULL, lease_until = NULL,
    error = coalesce(:error, error)
WHERE queue = :queue AND id = :id;

-- name: ready
-- :queue, :id, :now, :seq -> one row (the new state): delayed while run_at is ahead
UPDATE jobs
SET state = CASE WHEN run_at > :now THEN 'delayed' ELSE 'waiting' END, seq = :seq
WHERE queue = :queue AND id = :id
RETURNING state;

-- name: any_dependencies
-- :queue -> one row if some job of the queue waits on a dependency, else none
SELECT 1 FROM dependencies WHERE queue = :queue LIMIT 1;

-- name: take_dependents
-- :queue, :id -> rows (job_id) of jobs that waited on :id; their edges to it are deleted
DELETE FROM dependencies WHERE queue = :queue AND dependency_id = :id RETURNING job_id;

-- name: has_dependencies
-- :queue, :id -> one row if :id still waits on some dependency, else none
SELECT 1 FROM dependencies WHERE queue = :queue AND job_id = :id LIMIT 1;

-- name: drop_dependencies
-- :queue, :id -> nothing: :id no longer waits on anything
DELETE FROM dependencies WHERE queue = :queue AND job_id = :id;

-- name: fail_dependent
-- :queue, :id, :now, :seq, :error -> nothing; changes a row only if :id is waiting-children
UPDATE jobs
SET state = 'failed', error = :error, finished_at = :now, seq = :seq,
    lease_token = NULL, lease_until = NULL
WHERE queue = :queue AND id = :id AND state = 'waiting-children';
