-- release: undo a claim whose worker never started its jobs (a wait_and_claim cancelled
-- while its claim ran): each job still active under the token goes back to waiting at its
-- old place, with the attempt the claim counted taken back.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: token
-- Returns: the number of jobs released.
--@include common

local token = ARGV[1]
local record = K.claims .. token
local ids = redis.call('GET', record)
if not ids then return 0 end
local released = 0
for _, id in ipairs(cjson.decode(ids)) do
  local jk = K.job .. id
  local f = redis.call('HMGET', jk, 'state', 'lease_token', 'attempts', 'priority', 'member')
  if f[1] == 'active' and f[2] == token then
    redis.call('ZREM', K.active, id)
    redis.call('ZADD', K.waiting, f[4], f[5])
    redis.call('HSET', jk, 'state', 'waiting', 'attempts', math.max(tonumber(f[3]) - 1, 0))
    redis.call('HDEL', jk, 'lease_token', 'lease_until')
    released = released + 1
    wake = true
  end
end
redis.call('DEL', record)
flush_wake()
return released
