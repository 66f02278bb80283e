-- promote_due: move up to `batch` delayed jobs whose run_at <= now to waiting, earliest
-- first. Idempotent: a job already moved is no longer in the delayed set.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, batch
-- Returns: {moved, index entries looked at, run_at of the earliest job still delayed or false}
--@include common

local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local moved = 0
for _, m in ipairs(due) do
  redis.call('ZREM', K.delayed, m)
  local id = string.sub(m, 13)
  local jk = K.job .. id
  if redis.call('HGET', jk, 'state') == 'delayed' then
    to_waiting(id, jk, nil)
    moved = moved + 1
  end
end
local next_due = redis.call('ZRANGE', K.delayed, 0, 0, 'WITHSCORES')
flush_wake()
return { moved, #due, next_due[2] or false }
