-- retry_job: a failed, expired or cancelled job goes back to waiting with attempts, stalls,
-- error, finished_at and run_at reset.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: id
-- Returns: 1 if requeued, 0 otherwise.
--@include common

local id = ARGV[1]
local jk = K.job .. id
local state = redis.call('HGET', jk, 'state')
if not FINISHED[state] or state == 'completed' then return 0 end
leave(id, jk, state)
redis.call('HSET', jk, 'attempts', 0, 'stalls', 0)
redis.call('HDEL', jk, 'error', 'finished_at', 'run_at')
to_waiting(id, jk, nil)
flush_wake()
return 1
