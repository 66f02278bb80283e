-- clean: delete finished jobs older than :finished_before or beyond the newest :keep_last,
-- newest of those first, at most :limit.
-- :queue, :state, :finished_before (or NULL), :keep_last (or NULL), :limit -> nothing;
-- rowcount is the number deleted

-- name: clean
DELETE FROM jobs WHERE rowid IN (
    SELECT rowid FROM (
        SELECT rowid, coalesce(finished_at, 0.0) AS finished,
            row_number() OVER (ORDER BY coalesce(finished_at, 0.0) DESC, seq) - 1 AS newer
        FROM jobs
        WHERE queue = :queue AND state = :state
            AND state IN ('completed', 'failed', 'expired', 'cancelled')
    )
    WHERE finished < :finished_before OR newer >= :keep_last
    ORDER BY newer
    LIMIT :limit
);
