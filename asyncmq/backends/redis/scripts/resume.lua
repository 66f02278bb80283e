-- resume: clear the pause flag and wake a waiting worker.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: none
-- Returns: 1
--@include common

redis.call('HDEL', K.meta, 'paused')
wake = true
flush_wake()
return 1
