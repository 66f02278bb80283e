-- remove: delete a job in any state; jobs waiting on it fail ('dependency <id> was
-- removed').
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, id
-- Returns: 1 if deleted, 0 if absent.
--@include common

local now_s, id = ARGV[1], ARGV[2]
local jk = K.job .. id
local state = redis.call('HGET', jk, 'state')
if not state then return 0 end
delete(id, jk, state)
cascade(id, 'was removed', tonumber(now_s), now_s)
flush_wake()
return 1
