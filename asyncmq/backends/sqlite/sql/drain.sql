-- drain: delete every job not yet started.

-- name: drain
-- :queue -> nothing; rowcount is the number of jobs deleted
DELETE FROM jobs
WHERE queue = :queue AND state IN ('waiting', 'delayed', 'waiting-children');

-- name: drop_all_dependencies
-- :queue -> nothing. Only waiting-children jobs have edges, and drain deleted them all.
DELETE FROM dependencies WHERE queue = :queue;
