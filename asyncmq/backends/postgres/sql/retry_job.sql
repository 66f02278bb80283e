-- retry_job: a failed, expired or cancelled job -> waiting with attempts, stalls, error,
-- finished_at and run_at reset. $1 queue text, $2 job id text.
-- Returns one row when the job moved; notifies the queue's listeners.
WITH moved AS (
    UPDATE {schema}.{prefix}jobs
    SET state = 'waiting', attempts = 0, stalls = 0, error = NULL, finished_at = NULL,
        run_at = NULL, seq = nextval('{schema}.{prefix}seq')
    WHERE queue = $1::text AND id = $2::text AND state IN ('failed', 'expired', 'cancelled')
    RETURNING id
),
notified AS (
    SELECT pg_notify('{channel}', $1::text) FROM moved
)
SELECT id, (SELECT count(*) FROM notified) AS notified FROM moved;
