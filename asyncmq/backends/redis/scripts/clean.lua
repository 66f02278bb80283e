-- clean: delete up to `limit` jobs of a finished state: those finished before
-- `finished_before` and those beyond the newest `keep_last`, the newest of them first (as
-- the reference backend does). Both are prefixes of the set in finished_at order, so their
-- union is the longer prefix, and the jobs deleted are its top `limit`.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: state, finished_before or '', keep_last or '', limit
-- Returns: the number of jobs deleted.
--@include common

local state, before, keep_last = ARGV[1], ARGV[2], ARGV[3]
local set = SET_OF[state]
local n = 0
if keep_last ~= '' then
  n = math.max(0, redis.call('ZCARD', set) - tonumber(keep_last))
end
if before ~= '' then
  n = math.max(n, redis.call('ZCOUNT', set, '-inf', '(' .. before))
end
local take = math.min(n, tonumber(ARGV[4]))
if take <= 0 then return 0 end
for _, id in ipairs(redis.call('ZRANGE', set, n - take, n - 1)) do
  delete(id, K.job .. id, state)
  redis.call('DEL', K.dependents .. id)
end
return take
