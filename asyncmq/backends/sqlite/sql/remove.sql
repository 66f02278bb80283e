-- remove: delete one job in any state (its dependents then fail through moves.sql).
-- :queue, :id -> nothing; rowcount 1 if it existed

-- name: remove
DELETE FROM jobs WHERE queue = :queue AND id = :id;
