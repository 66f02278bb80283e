-- wait_start: an idle worker is about to block on the marker (wait_and_claim): note when,
-- by the server's clock, so the claim sent behind the wait can tell how long it lasted.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: token of the claim behind the wait, expiry of the note in milliseconds.
-- Returns: 1
--@include common

local woke = K.woke .. ARGV[1]
local t = redis.call('TIME')
redis.call('DEL', woke)
redis.call('RPUSH', woke, t[1] .. '.' .. string.format('%06d', tonumber(t[2])))
redis.call('PEXPIRE', woke, ARGV[2])
return 1
