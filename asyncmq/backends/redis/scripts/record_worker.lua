-- record_worker: insert or refresh a worker's report and its heartbeat time.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: worker id, WorkerInfo JSON, heartbeat_at
-- Returns: 1
--@include common

redis.call('HSET', K.workers, ARGV[1], ARGV[2])
redis.call('ZADD', K.seen, ARGV[3], ARGV[1])
return 1
