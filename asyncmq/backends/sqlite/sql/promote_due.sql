-- promote_due: delayed jobs with run_at <= now -> waiting, earliest first.

-- name: due
-- :queue, :now -> rows (rowid) of due delayed jobs in (run_at, seq) order
SELECT rowid FROM jobs
WHERE queue = :queue AND state = 'delayed' AND run_at <= :now
ORDER BY run_at, seq;

-- name: promote
-- :rowid, :seq -> nothing
UPDATE jobs SET state = 'waiting', seq = :seq WHERE rowid = :rowid AND state = 'delayed';

-- name: next_run_at
-- :queue -> one row (the earliest run_at still delayed, or NULL). Also read first on the
-- reader connection, so a scan with nothing due never takes the write lock.
SELECT min(run_at) FROM jobs WHERE queue = :queue AND state = 'delayed';
