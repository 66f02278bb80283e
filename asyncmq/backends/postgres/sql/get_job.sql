-- get_job: one job. $1 queue text, $2 job id text. Returns the job columns, or no row.
SELECT id, task_id, args, kwargs, priority, retries, backoff, ttl, timeout, depends_on,
    created_at, run_at, state, attempts, stalls, started_at, finished_at, result, error,
    progress, lease_token, lease_until, hard_timeout, context
FROM {schema}.{prefix}jobs
WHERE queue = $1::text AND id = $2::text;
