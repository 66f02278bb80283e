-- list_queues: queues holding jobs, repeatables, workers or a pause flag.
-- no parameters -> rows (name) sorted

-- name: list_queues
SELECT queue FROM counts WHERE n > 0
UNION SELECT queue FROM repeatables
UNION SELECT queue FROM workers
UNION SELECT name FROM queues WHERE paused
ORDER BY 1;
