-- remove_worker: delete one worker's report.
-- :queue, :id -> nothing

-- name: remove_worker
DELETE FROM workers WHERE queue = :queue AND id = :id;
