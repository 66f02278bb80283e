-- retry_job: a failed, expired or cancelled job -> waiting, attempts, stalls and error reset.
-- :queue, :id, :seq -> nothing; rowcount 1 if the job was rerun

-- name: retry_job
UPDATE jobs
SET state = 'waiting', seq = :seq, attempts = 0, stalls = 0, error = NULL,
    finished_at = NULL, run_at = NULL
WHERE queue = :queue AND id = :id AND state IN ('failed', 'expired', 'cancelled');
