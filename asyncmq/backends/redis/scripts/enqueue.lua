-- enqueue: insert the jobs that are absent by id; each lands waiting, delayed,
-- waiting-children or (a dependency failed or does not exist) failed. Wakes a worker.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: now, count, first arrival number (reserved by the caller) or '', then per job: id, data (JSON of the producer fields), priority,
--       run_at or '', expires_at (created_at + ttl) or '', ttl as written or '',
--       number of dependencies, dependency ids...
-- Returns: the number of jobs inserted.
--@include common

local now_s = ARGV[1]
local now = tonumber(now_s)
local count = tonumber(ARGV[2])
if ARGV[3] == '' then
  reserve(count)
else
  -- Chunks of one bulk call may run in any order; numbers reserved up front keep them FIFO.
  seq_next = tonumber(ARGV[3])
  seq_last = seq_next + count - 1
end

-- Admit job `id` with dependencies ARGV[from .. to]; mirrors InMemoryBackend._admit.
local function admit(id, jk, from, to)
  local unmet = {}
  for d = from, to do
    local dep = ARGV[d]
    local state = redis.call('HGET', K.job .. dep, 'state')
    if not state then
      redis.call('HSET', jk, 'error', dependency_error(dep, 'does not exist'))
      finish(id, jk, 'waiting', 'failed', now, now_s)
      return
    end
    if FINISHED[state] and state ~= 'completed' then
      redis.call('HSET', jk, 'error', dependency_error(dep, state))
      finish(id, jk, 'waiting', 'failed', now, now_s)
      return
    end
    if state ~= 'completed' then unmet[#unmet + 1] = dep end
  end
  if #unmet > 0 then
    bulk('SADD', K.pending .. id, unmet)
    for _, dep in ipairs(unmet) do
      redis.call('SADD', K.dependents .. dep, id)
      -- Lets complete skip the dependents lookup of the many jobs nobody waits on.
      redis.call('HSET', K.job .. dep, 'has_dependents', 1)
    end
    redis.call('ZADD', K.children, next_seq(), id)
    redis.call('HSET', jk, 'state', 'waiting-children')
  else
    ready(id, jk, now)
  end
end

local inserted = 0
-- One EXISTS over the whole call: when none of the ids is stored yet (the usual bulk add),
-- the check per job is skipped, and `seen` catches an id repeated within the call.
local fresh = true
local job_keys = {}
do
  local j, prefix = 4, K.job
  for n = 1, count do
    job_keys[n] = prefix .. ARGV[j]
    j = j + 7 + tonumber(ARGV[j + 6])
  end
  for first = 1, count, 2000 do
    local last = math.min(first + 1999, count)
    if redis.call('EXISTS', unpack(job_keys, first, last)) > 0 then fresh = false end
  end
end
local seen = {}

-- Index entries of jobs without dependencies, added in one ZADD per set at the end.
local waiting, delayed = {}, {}
local i = 4
for n = 1, count do
  local id, data, priority, run_at, expires_at, ttl = unpack(ARGV, i, i + 5)
  local deps = tonumber(ARGV[i + 6])
  local from = i + 7
  i = from + deps
  local jk = job_keys[n]
  local absent
  if fresh then
    absent = not seen[id]
    seen[id] = true
  else
    absent = redis.call('EXISTS', jk) == 0
  end
  if absent and deps == 0 and run_at == '' and expires_at == '' then
    -- The usual job (no dependency, delay or ttl): one HSET without building a field list.
    inserted = inserted + 1
    local m = member(id)
    waiting[#waiting + 1] = priority
    waiting[#waiting + 1] = m
    redis.call('HSET', jk, 'data', data, 'priority', priority, 'state', 'waiting', 'member', m)
    wake = true
  elseif absent then
    inserted = inserted + 1
    local fields = { 'data', data, 'priority', priority }
    if run_at ~= '' then
      fields[#fields + 1] = 'run_at'
      fields[#fields + 1] = run_at
    end
    if expires_at ~= '' then
      fields[#fields + 1] = 'expires_at'
      fields[#fields + 1] = expires_at
      fields[#fields + 1] = 'ttl'
      fields[#fields + 1] = ttl
    end
    fields[#fields + 1] = 'state'
    if deps > 0 then
      -- Dependencies may be earlier jobs of this call, so this one must exist (as waiting,
      -- like the in-memory fresh job) before they are looked up.
      fields[#fields + 1] = 'waiting'
      redis.call('HSET', jk, unpack(fields))
      admit(id, jk, from, i - 1)
    else
      local m = member(id)
      local index = waiting
      if run_at ~= '' and tonumber(run_at) > now then
        fields[#fields + 1] = 'delayed'
        index = delayed
        index[#index + 1] = run_at
      else
        fields[#fields + 1] = 'waiting'
        index[#index + 1] = priority
      end
      index[#index + 1] = m
      fields[#fields + 1] = 'member'
      fields[#fields + 1] = m
      redis.call('HSET', jk, unpack(fields))
      wake = true
    end
  end
end
bulk('ZADD', K.waiting, waiting)
bulk('ZADD', K.delayed, delayed)
flush_wake()
return inserted
