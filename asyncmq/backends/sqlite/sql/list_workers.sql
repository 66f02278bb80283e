-- list_workers: forget workers silent since before :seen_since, then list the rest.

-- name: forget
-- :queue, :seen_since -> nothing
DELETE FROM workers WHERE queue = :queue AND heartbeat_at < :seen_since;

-- name: list
-- :queue -> rows (info: JSON of WorkerInfo) in the order first reported
SELECT info FROM workers WHERE queue = :queue ORDER BY rowid;
