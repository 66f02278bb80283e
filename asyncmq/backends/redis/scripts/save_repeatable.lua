-- save_repeatable: compare-and-set one repeatable definition, so a read-modify-write from
-- Python (keeping created_at, flipping paused) cannot lose a concurrent change.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: key, the JSON expected now ('' for absent), the new JSON
-- Returns: 1 if stored, 0 if the definition changed meanwhile (the caller reads again).
--@include common

local current = redis.call('HGET', K.repeatables, ARGV[1]) or ''
if current ~= ARGV[2] then return 0 end
redis.call('HSET', K.repeatables, ARGV[1], ARGV[3])
return 1
