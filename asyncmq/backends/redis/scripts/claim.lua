-- claim: unless paused, take up to `limit` waiting jobs (priority, then arrival), taking one
-- token per job from the queue's shared rate-limit bucket; jobs never started whose ttl
-- passed end expired instead and do not count.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, limit, lease_until, token, rate_limit or '' (no limit), rate_interval,
--       lease in milliseconds, '1' when this is a retry of a claim whose reply was lost,
--       '1' when sent behind an idle worker's wait (wait_start, then BLMOVE of the marker
--       to woke:<token>): claim only if the wait got the wake-up, and move now and
--       lease_until on by how long the wait lasted on the server's clock
-- Returns: {throttled_until or false, job...}, each job {id, JOB_FIELDS values...} as stored
--          after the claim. throttled_until ('inf' when rate_limit is 0) is set when the
--          bucket kept the claim from taking `limit` jobs. A retry whose first attempt did
--          run returns that attempt's jobs still held under the token, and takes no more.
--@include common

local now_s, lease_until, token = ARGV[1], ARGV[3], ARGV[4]
local record = K.claims .. token
if ARGV[9] == '1' then
  local woke = K.woke .. token
  local got = redis.call('LRANGE', woke, 0, -1)
  redis.call('DEL', woke)
  -- {start} alone: the wait timed out or was ended; the worker claims as usual next.
  if #got < 2 then return { false } end
  local t = redis.call('TIME')
  local waited = tonumber(t[1]) + tonumber(t[2]) / 1e6 - tonumber(got[1])
  if waited > 0 then
    now_s = string.format('%.17g', tonumber(now_s) + waited)
    lease_until = string.format('%.17g', tonumber(lease_until) + waited)
  end
end
if ARGV[8] == '1' then
  local ids = redis.call('GET', record)
  if ids then
    local reply = { false }
    for _, id in ipairs(cjson.decode(ids)) do
      local f = redis.call('HMGET', K.job .. id, unpack(JOB_FIELDS))
      if f[2] == 'active' and f[12] == token then
        table.insert(f, 1, id)
        reply[#reply + 1] = f
      end
    end
    return reply
  end
end
if redis.call('HEXISTS', K.meta, 'paused') == 1 then return { false } end
local now = tonumber(now_s)
local limit = tonumber(ARGV[2])
local wanted = limit

-- The bucket: the arithmetic of asyncmq.ratelimit.TokenBucket, step for step, so a
-- queue limited in Redis behaves as one limited in memory.
local rate, interval, tokens, updated_s
if ARGV[5] ~= '' then
  rate, interval = tonumber(ARGV[5]), tonumber(ARGV[6])
  local b = redis.call('HMGET', K.meta, 'rate_limit', 'rate_interval', 'tokens', 'updated_at')
  if b[1] and tonumber(b[1]) == rate and tonumber(b[2]) == interval then
    tokens, updated_s = tonumber(b[3]), b[4]
  else
    tokens, updated_s = rate, now_s
  end
  if now > tonumber(updated_s) then
    tokens = math.min(rate, tokens + (now - tonumber(updated_s)) * (rate / interval))
    updated_s = now_s
  end
  wanted = math.max(math.min(wanted, math.floor(tokens)), 0)
  tokens = tokens - wanted
end

local reply = { false }
local actives, ids = {}, {}
local taken = 0
while taken < wanted do
  local popped = redis.call('ZPOPMIN', K.waiting, wanted - taken)
  if #popped == 0 then break end
  for p = 1, #popped, 2 do
    local id = string.sub(popped[p], 13)
    local jk = K.job .. id
    local f = redis.call('HMGET', jk, 'data', 'state', 'priority', 'run_at', 'attempts',
      'stalls', 'started_at', 'finished_at', 'result', 'error', 'progress', 'lease_token',
      'lease_until', 'expires_at', 'ttl')
    local attempts = tonumber(f[5] or '0')
    if not f[2] then
      -- an index entry without its job: drop it
    elseif f[14] and attempts == 0 and tonumber(f[14]) <= now then
      redis.call('HSET', jk, 'error',
        job_error('JobExpiredError', 'not started within ttl=' .. f[15] .. 's'))
      finish(id, jk, nil, 'expired', now, now_s)
    else
      attempts = attempts + 1
      redis.call('HSET', jk, 'state', 'active', 'attempts', attempts, 'started_at', now_s,
        'lease_token', token, 'lease_until', lease_until)
      actives[#actives + 1] = lease_until
      actives[#actives + 1] = id
      ids[#ids + 1] = id
      f[2], f[5], f[7], f[12], f[13], f[14], f[15] =
        'active', attempts, now_s, token, lease_until, nil, nil
      table.insert(f, 1, id)
      taken = taken + 1
      reply[taken + 1] = f
    end
  end
end
if taken > 0 then
  bulk('ZADD', K.active, actives)
  redis.call('SET', record, cjson.encode(ids), 'PX', ARGV[7])
  -- Jobs left: wake the next idle worker too (the enqueue woke only one).
  if redis.call('EXISTS', K.waiting) == 1 then wake = true end
end

if rate then
  tokens = math.min(rate, tokens + (wanted - taken))
  if wanted < limit and taken == wanted then
    if rate == 0 then
      reply[1] = 'inf'
    elseif tokens >= 1 then
      reply[1] = now_s
    else
      reply[1] = string.format('%.17g', now + (1 - tokens) * interval / rate)
    end
  end
  redis.call('HSET', K.meta, 'rate_limit', ARGV[5], 'rate_interval', ARGV[6],
    'tokens', string.format('%.17g', tokens), 'updated_at', updated_s)
end
flush_wake()
return reply
