-- maintain: keep the cost per job flat while jobs churn (PostgresBackend.maintain).
-- Every claim and settle leaves a dead row version behind, and its entries in the partial
-- indexes stay until a VACUUM: a claim reads the waiting index from its start, so without one
-- each claim walks past every job claimed since the last vacuum. Autovacuum runs at most once a
-- minute per database by default, only after a fifth of the table changed, and may be off.

-- name: table_stats
-- No parameters. Returns the dead row versions the statistics collector counts in the jobs
-- table (0 when track_counts is off; the backend then goes by its own count), and whether the
-- table was never vacuumed nor analyzed (pg_class.reltuples < 0): the planner then knows
-- neither its size nor its queues, and a plan cached while it was small (a settle reading its
-- whole queue through the primary key's prefix) stays until a vacuum updates them.
SELECT coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = c.oid), 0)::bigint,
       c.reltuples < 0
FROM pg_class AS c
WHERE c.oid = '{schema}.{prefix}jobs'::regclass;

-- name: vacuum
-- No parameters, no transaction (VACUUM cannot run inside one). SKIP_LOCKED: when another
-- process is vacuuming a table already, skip it rather than wait.
VACUUM (SKIP_LOCKED) {schema}.{prefix}jobs, {schema}.{prefix}counts, {schema}.{prefix}deps;
