-- obliterate: delete up to `batch` jobs of the queue in any state; once none is left,
-- delete the rest of the queue (meta with the pause flag and rate-limit bucket, marker,
-- repeatables, workers).
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: batch
-- Returns: {jobs deleted, 1 when the queue is gone else 0}
--@include common

local left = tonumber(ARGV[1])
local deleted = 0
for state, set in pairs(SET_OF) do
  if left <= 0 then break end
  local members = redis.call('ZRANGE', set, 0, left - 1)
  local keyed_by_member = state == 'waiting' or state == 'delayed'
  for _, m in ipairs(members) do
    local id = keyed_by_member and string.sub(m, 13) or m
    redis.call('DEL', K.job .. id, K.pending .. id, K.dependents .. id)
  end
  bulk('ZREM', set, members)
  deleted = deleted + #members
  left = left - #members
end
if left <= 0 then return { deleted, 0 } end
redis.call('DEL', K.meta, K.marker, K.repeatables, K.workers, K.seen)
return { deleted, 1 }
