"""The queue index's one Lua script: every change to the index is one atomic call.

KEYS: due (sorted set), ready (stream), queued (sorted set); see ``keys.py``.
ARGV: now_ms, requeue_before_ms, promote_limit, group, n_acks, n_acks stream entry ids, then
(endpoint_id, due_ms) pairs.

1. Acknowledge and delete the given entries (their claim rounds committed): the stream only holds
   entries not yet handled, so it needs no trimming.
2. Promote up to ``promote_limit`` members of ``due`` whose time has come.
3. Apply the pairs: due now -> pushed to ``ready`` (once: ``queued`` remembers endpoints already
   waiting there, unless marked before ``requeue_before_ms``); due later -> ``due`` keeps the
   earlier of the old and new time (``ZADD LT``).
4. If the earliest time in ``due`` got earlier, push an empty entry: a reader blocked for longer
   wakes and shortens its wait.

Returns the earliest time left in ``due`` (a string), or false when it is empty. Times are kept
as the caller's strings: Lua numbers would print large ones in exponent form.
"""

from __future__ import annotations

INDEX = """
local due, ready, queued = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local requeue_before = tonumber(ARGV[2])
local group = ARGV[4]
local n_acks = tonumber(ARGV[5])

if n_acks > 0 then
  local ids = {}
  for i = 6, 5 + n_acks do ids[#ids + 1] = ARGV[i] end
  -- pcall: entries of a Redis that lost its data (the group may not exist yet) ack nothing.
  redis.pcall('XACK', ready, group, unpack(ids))
  redis.call('XDEL', ready, unpack(ids))
end

local function push(endpoint)
  local marked = redis.call('ZSCORE', queued, endpoint)
  if (not marked) or tonumber(marked) < requeue_before then
    redis.call('ZADD', queued, ARGV[1], endpoint)
    redis.call('XADD', ready, '*', 'e', endpoint)
  end
end

local promote = tonumber(ARGV[3])
if promote > 0 then
  local members = redis.call('ZRANGEBYSCORE', due, '-inf', ARGV[1], 'LIMIT', 0, promote)
  for _, endpoint in ipairs(members) do
    redis.call('ZREM', due, endpoint)
    push(endpoint)
  end
end

local first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
local earliest_before = first[2] and tonumber(first[2]) or nil
local earliest_added = nil
for i = 6 + n_acks, #ARGV, 2 do
  local endpoint, at = ARGV[i], tonumber(ARGV[i + 1])
  if at <= now then
    redis.call('ZREM', due, endpoint)
    push(endpoint)
  else
    redis.call('ZADD', due, 'LT', ARGV[i + 1], endpoint)
    if earliest_added == nil or at < earliest_added then earliest_added = at end
  end
end
if earliest_added and (earliest_before == nil or earliest_added < earliest_before) then
  redis.call('XADD', ready, '*', 'e', '')
end

first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
return first[2] or false
"""
