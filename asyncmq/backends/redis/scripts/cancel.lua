-- cancel: any unfinished job becomes cancelled with its lease cleared (so its worker's
-- settle is stale); jobs waiting on it fail.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, id
-- Returns: 1 if cancelled, 0 if finished already or absent.
--@include common

local now_s, id = ARGV[1], ARGV[2]
local jk = K.job .. id
local state = redis.call('HGET', jk, 'state')
if not state or FINISHED[state] then return 0 end
drop_pending(id)
finish(id, jk, state, 'cancelled', tonumber(now_s), now_s)
flush_wake()
return 1
