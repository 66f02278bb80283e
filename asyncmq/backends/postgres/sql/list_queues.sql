-- list_queues: names of queues holding jobs, repeatables, workers or a pause flag.
-- No parameters. Returns queue, sorted.
SELECT queue FROM {schema}.{prefix}counts GROUP BY queue HAVING sum(n) <> 0
UNION SELECT queue FROM {schema}.{prefix}queues WHERE paused
UNION SELECT queue FROM {schema}.{prefix}repeatables
UNION SELECT queue FROM {schema}.{prefix}workers
ORDER BY queue;
