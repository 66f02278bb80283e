-- cancel: any unfinished job -> cancelled (moves.sql finish then cascades its dependents).
-- :queue, :id -> one row (state) if the job exists and is unfinished, else none

-- name: unfinished
SELECT state FROM jobs
WHERE queue = :queue AND id = :id
    AND state NOT IN ('completed', 'failed', 'expired', 'cancelled');
