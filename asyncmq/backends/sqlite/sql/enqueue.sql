-- enqueue: insert jobs absent by id; ids already stored change nothing.
-- Parameters are named; each statement says what it returns.

-- name: insert
-- :queue, :id, :state, :priority, :seq, :run_at, :created_at, :ttl, :data (JSON of the
-- producer's other fields) -> nothing; rowcount 0 when the id exists already
INSERT INTO jobs (queue, id, state, priority, seq, run_at, created_at, ttl, data)
VALUES (:queue, :id, :state, :priority, :seq, :run_at, :created_at, :ttl, :data)
ON CONFLICT (queue, id) DO NOTHING;

-- name: add_dependency
-- :queue, :id, :dependency_id -> nothing: :id waits on :dependency_id
INSERT OR IGNORE INTO dependencies (queue, dependency_id, job_id)
VALUES (:queue, :dependency_id, :id);
