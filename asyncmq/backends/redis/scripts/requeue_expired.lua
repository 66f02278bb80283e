-- requeue_expired: hand back up to `batch` active jobs whose lease_until <= now. Each gets
-- stalls + 1 and goes to waiting with its lease cleared, or to failed with a
-- StalledJobError once stalls exceeds max_stalls (dependents cascade).
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, max_stalls, batch
-- Returns: {jobs moved, index entries looked at} (the caller loops while the second is batch).
--@include common

local now_s = ARGV[1]
local now = tonumber(now_s)
local max_stalls = tonumber(ARGV[2])
local lost = redis.call('ZRANGEBYSCORE', K.active, '-inf', now_s, 'LIMIT', 0, ARGV[3])
local moved = 0
for _, id in ipairs(lost) do
  local jk = K.job .. id
  if redis.call('HGET', jk, 'state') ~= 'active' then
    redis.call('ZREM', K.active, id) -- an index entry without its job
  else
    moved = moved + 1
    local stalls = redis.call('HINCRBY', jk, 'stalls', 1)
    if stalls > max_stalls then
      redis.call('HSET', jk, 'error', job_error('StalledJobError', string.format(
        'job lost its lease %d times (max_stalls=%d)', stalls, max_stalls)))
      finish(id, jk, 'active', 'failed', now, now_s)
    else
      redis.call('HDEL', jk, 'lease_token', 'lease_until')
      redis.call('ZREM', K.active, id)
      to_waiting(id, jk, nil)
    end
  end
end
flush_wake()
return { moved, #lost }
