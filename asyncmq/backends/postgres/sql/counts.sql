-- counts: jobs per state, summed from the counts log (see schema.sql).
-- $1 queue text. Returns state, n for each state with a nonzero count.
SELECT state, sum(n)::bigint AS n
FROM {schema}.{prefix}counts
WHERE queue = $1::text
GROUP BY state;
