-- common.lua: the moves every transition shares. The loader splices this file in where a
-- script says `--@include common`, so each script stays one self-contained EVALSHA.
--
-- KEYS (every script, in keys.QUEUE_KEYS order):
--   1 meta  2 waiting  3 delayed  4 waiting-children  5 active  6 completed  7 failed
--   8 expired  9 cancelled  10 marker  11 repeatables  12 workers  13 workers-seen
--   14 job: prefix  15 pending: prefix  16 dependents: prefix  17 claims: prefix
--   18 woke: prefix
-- Times travel as the caller's decimal strings and are stored verbatim, never re-formatted
-- by Lua (whose tostring keeps only 14 digits).

local K = {
  meta = KEYS[1], waiting = KEYS[2], delayed = KEYS[3], children = KEYS[4], active = KEYS[5],
  marker = KEYS[10], repeatables = KEYS[11], workers = KEYS[12], seen = KEYS[13],
  job = KEYS[14], pending = KEYS[15], dependents = KEYS[16], claims = KEYS[17],
  woke = KEYS[18],
}
local SET_OF = {
  ['waiting'] = KEYS[2], ['delayed'] = KEYS[3], ['waiting-children'] = KEYS[4],
  ['active'] = KEYS[5], ['completed'] = KEYS[6], ['failed'] = KEYS[7], ['expired'] = KEYS[8],
  ['cancelled'] = KEYS[9],
}
local FINISHED = { completed = true, failed = true, expired = true, cancelled = true }
-- The order of backend.JOB_FIELDS: HMGET replies decode with one function in Python.
local JOB_FIELDS = {
  'data', 'state', 'priority', 'run_at', 'attempts', 'stalls', 'started_at', 'finished_at',
  'result', 'error', 'progress', 'lease_token', 'lease_until',
}
-- Must equal asyncmq.backends.base.DEPENDENCY_FAILED.
local DEPENDENCY_FAILED = 'DependencyFailedError'

-- redis.call(command, key, items...) in slices: Lua's unpack stops at a few thousand values.
local function bulk(command, key, items)
  for first = 1, #items, 2000 do
    redis.call(command, key, unpack(items, first, math.min(first + 1999, #items)))
  end
end

local wake = false
local seq_next, seq_last = 0, -1

-- Reserve `n` arrival numbers in one HINCRBY (enqueue knows how many it needs).
local function reserve(n)
  seq_last = redis.call('HINCRBY', K.meta, 'seq', n)
  seq_next = seq_last - n + 1
end

local function next_seq()
  if seq_next > seq_last then reserve(1) end
  seq_next = seq_next + 1
  return seq_next - 1
end

-- Waiting and delayed members lead with a fixed-width arrival number: equal scores sort by
-- member, so jobs of one priority (or one run_at) keep their arrival order.
local function member(id)
  return string.format('%012x', next_seq()) .. id
end

local function job_error(kind, message)
  return cjson.encode({ type = kind, message = message, traceback = '' })
end

local function dependency_error(dep, what)
  if SET_OF[what] then what = 'ended ' .. what end
  return job_error(DEPENDENCY_FAILED, 'dependency ' .. dep .. ' ' .. what)
end

-- Take job `id` out of the index of its current `state`.
local function leave(id, jk, state)
  if state == 'waiting' or state == 'delayed' then
    local m = redis.call('HGET', jk, 'member')
    if m then redis.call('ZREM', SET_OF[state], m) end
  elseif state and SET_OF[state] then
    redis.call('ZREM', SET_OF[state], id)
  end
end

local function to_waiting(id, jk, priority)
  local m = member(id)
  redis.call('ZADD', K.waiting, priority or redis.call('HGET', jk, 'priority'), m)
  redis.call('HSET', jk, 'state', 'waiting', 'member', m)
  wake = true
end

local function to_delayed(id, jk, run_at)
  local m = member(id)
  redis.call('ZADD', K.delayed, run_at, m)
  redis.call('HSET', jk, 'state', 'delayed', 'member', m)
  wake = true
end

-- waiting, or delayed while run_at is still ahead of `now`.
local function ready(id, jk, now)
  local f = redis.call('HMGET', jk, 'run_at', 'priority')
  if f[1] and tonumber(f[1]) > now then
    to_delayed(id, jk, f[1])
  else
    to_waiting(id, jk, f[2])
  end
end

local function sorted_dependents(id)
  local dk = K.dependents .. id
  local children = redis.call('SMEMBERS', dk)
  if #children > 0 then
    redis.call('DEL', dk)
    table.sort(children)
  end
  return children
end

local finish

-- `id` completed: each dependent whose last unmet dependency it was becomes ready.
local function release(id, now)
  for _, child in ipairs(sorted_dependents(id)) do
    local pk = K.pending .. child
    if redis.call('SREM', pk, id) == 1 and redis.call('SCARD', pk) == 0 then
      local ck = K.job .. child
      leave(child, ck, 'waiting-children')
      ready(child, ck, now)
    end
  end
end

-- `id` ended otherwise (`what`: its state, or 'was removed'): its waiting dependents fail.
local function cascade(id, what, now, now_s)
  for _, child in ipairs(sorted_dependents(id)) do
    local ck = K.job .. child
    if redis.call('HGET', ck, 'state') == 'waiting-children' then
      redis.call('DEL', K.pending .. child)
      redis.call('HSET', ck, 'error', dependency_error(id, what))
      finish(child, ck, 'waiting-children', 'failed', now, now_s)
    end
  end
end

finish = function(id, jk, old, state, now, now_s)
  leave(id, jk, old)
  redis.call('HSET', jk, 'state', state, 'finished_at', now_s)
  redis.call('HDEL', jk, 'lease_token', 'lease_until')
  redis.call('ZADD', SET_OF[state], now_s, id)
  if state == 'completed' then
    release(id, now)
  else
    cascade(id, state, now, now_s)
  end
end

-- Forget that `id` waits on anything (it is leaving waiting-children some other way).
local function drop_pending(id)
  local pk = K.pending .. id
  for _, dep in ipairs(redis.call('SMEMBERS', pk)) do
    redis.call('SREM', K.dependents .. dep, id)
  end
  redis.call('DEL', pk)
end

-- Delete job `id` in `state` with its index entry and dependency records.
local function delete(id, jk, state)
  leave(id, jk, state)
  redis.call('DEL', jk)
  drop_pending(id)
end

-- The one wake-up a blocked worker pops; a single element however many moves happened.
local function flush_wake()
  if wake then
    redis.call('LPUSH', K.marker, '1')
    redis.call('LTRIM', K.marker, 0, 0)
  end
end
