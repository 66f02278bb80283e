-- counts: jobs per state, from the trigger-kept counts table.
-- :queue -> rows (state, n); states never seen have no row

-- name: counts
SELECT state, n FROM counts WHERE queue = :queue;
