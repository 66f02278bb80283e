-- remove_worker: forget a worker's report.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: worker id
-- Returns: 1
--@include common

redis.call('HDEL', K.workers, ARGV[1])
redis.call('ZREM', K.seen, ARGV[1])
return 1
