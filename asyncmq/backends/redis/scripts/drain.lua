-- drain: delete up to `batch` waiting, delayed and waiting-children jobs.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: batch
-- Returns: the number deleted (the caller repeats until it is below batch).
--@include common

local left = tonumber(ARGV[1])
local deleted = 0
for _, state in ipairs({ 'waiting', 'delayed', 'waiting-children' }) do
  if left <= 0 then break end
  local members = redis.call('ZRANGE', SET_OF[state], 0, left - 1)
  local keyed_by_member = state ~= 'waiting-children'
  for _, m in ipairs(members) do
    local id = keyed_by_member and string.sub(m, 13) or m
    redis.call('ZREM', SET_OF[state], m)
    delete(id, K.job .. id, nil)
    redis.call('DEL', K.dependents .. id)
  end
  deleted = deleted + #members
  left = left - #members
end
return deleted
