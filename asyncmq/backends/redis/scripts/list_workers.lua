-- list_workers: delete reports whose heartbeat is before `seen_since`, return the rest.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: seen_since
-- Returns: the WorkerInfo JSON of each live worker.
--@include common

local gone = redis.call('ZRANGEBYSCORE', K.seen, '-inf', '(' .. ARGV[1])
bulk('HDEL', K.workers, gone)
bulk('ZREM', K.seen, gone)
return redis.call('HVALS', K.workers)
