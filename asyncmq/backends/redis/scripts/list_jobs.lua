-- list_jobs: one page of the jobs in a state: waiting in claim order, delayed by run_at,
-- waiting-children by arrival, active by lease_until, finished newest first.
--
-- KEYS: the queue's keys (see common.lua).
-- ARGV: state, offset, limit
-- Returns: one {id, JOB_FIELDS values...} per job.
--@include common

local state, first = ARGV[1], tonumber(ARGV[2])
local last = first + tonumber(ARGV[3]) - 1
local members
if FINISHED[state] then
  members = redis.call('ZREVRANGE', SET_OF[state], first, last)
else
  members = redis.call('ZRANGE', SET_OF[state], first, last)
end
local keyed_by_member = state == 'waiting' or state == 'delayed'
local out = {}
for _, m in ipairs(members) do
  local id = keyed_by_member and string.sub(m, 13) or m
  local f = redis.call('HMGET', K.job .. id, unpack(JOB_FIELDS))
  if f[1] then
    table.insert(f, 1, id)
    out[#out + 1] = f
  end
end
return out
