/**
 * The Redis engine's two Lua scripts, each one atomic step on one partition's keys (they share
 * the `{p<N>}` hash tag, so on a cluster they live in one slot):
 * - PUBLISH: idempotency-key check, next offset, XADD with the offset as the stream id (bounded
 *   by MAXLEN and by age), expiry of the channel's keys, SPUBLISH of the live message.
 * - HISTORY: the channel's position and, from a position, the kept publications after it.
 * Both make the channel's meta (a new epoch) when it is missing: Redis lost it, or it expired.
 * Must not: hold any logic the engine could do outside Redis without losing atomicity.
 */

/**
 * KEYS: meta, stream, live channel, [idempotency key]
 * ARGV: data (JSON text, or 'b' and the base64 of bytes), header (JSON: channel, origin, latest),
 *       historySize, historyTtlMs, metaTtlMs, idempotencyWindowMs, epoch to use if the channel has
 *       none, origin ('' for none)
 * Returns {offset, epoch, duplicate (0 or 1)}.
 * The live message is the JSON array [offset, epoch, channel, origin, latest, data]; for bytes
 * [offset, epoch, channel, origin, latest, "b<base64>", 1] (no JSON text starts with 'b'). The
 * stream entry keeps the origin too ('o'), so that a publication filled in from history still
 * skips it.
 */
export const PUBLISH_SCRIPT = `
local meta, stream, live, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local data, header = ARGV[1], ARGV[2]
local size, ttl, metaTtl, window = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if idem then
  local seen = redis.call('GET', idem)
  if seen then
    local space = string.find(seen, ' ', 1, true)
    return {string.sub(seen, 1, space - 1), string.sub(seen, space + 1), 1}
  end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[7]
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'epoch', epoch, 'top', 0)
end
local offset = redis.call('HINCRBY', meta, 'top', 1)
redis.call('PEXPIRE', meta, metaTtl)
if size > 0 then
  redis.call('XADD', stream, 'MAXLEN', size, offset .. '-0', 'd', data, 't', now, 'o', ARGV[8])
  local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 8)
  for i = 1, #oldest do
    if tonumber(oldest[i][2][4]) >= now - ttl then break end
    redis.call('XDEL', stream, oldest[i][1])
  end
  redis.call('PEXPIRE', stream, ttl)
end
if idem then redis.call('SET', idem, offset .. ' ' .. epoch, 'PX', window) end
local item = data
if string.byte(data, 1) == 98 then item = '"' .. data .. '",1' end
redis.call('SPUBLISH', live, '[' .. offset .. ',"' .. epoch .. '",' .. header .. ',' .. item .. ']')
return {tostring(offset), epoch, 0}
`;

/**
 * KEYS: meta, stream
 * ARGV: since offset ('' for the position only), since epoch, historyTtlMs, metaTtlMs,
 *       epoch to use if the channel has none
 * Returns {top, epoch, recovered (0 or 1), offset1, data1, origin1, offset2, data2, origin2, ...},
 * each data as PUBLISH stored it (origin '' for none).
 */
export const HISTORY_SCRIPT = `
local meta, stream = KEYS[1], KEYS[2]
local ttl, metaTtl = tonumber(ARGV[3]), tonumber(ARGV[4])
local epoch = redis.call('HGET', meta, 'epoch')
local top = 0
if not epoch then
  epoch = ARGV[5]
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'epoch', epoch, 'top', 0)
  redis.call('PEXPIRE', meta, metaTtl)
else
  top = tonumber(redis.call('HGET', meta, 'top'))
end
if ARGV[1] == '' then return {tostring(top), epoch, 1} end
local since = tonumber(ARGV[1])
if ARGV[2] ~= epoch or not since or since ~= math.floor(since) or since < 0 or since > top then
  return {tostring(top), epoch, 0}
end
if since == top then return {tostring(top), epoch, 1} end
local entries = redis.call('XRANGE', stream, '(' .. since .. '-0', '+')
if #entries == 0 then return {tostring(top), epoch, 0} end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local first = entries[1]
if first[1] ~= (since + 1) .. '-0' or tonumber(first[2][4]) < now - ttl then
  return {tostring(top), epoch, 0}
end
local reply = {tostring(top), epoch, 1}
for i = 1, #entries do
  local id = entries[i][1]
  reply[#reply + 1] = string.sub(id, 1, #id - 2)
  reply[#reply + 1] = entries[i][2][2]
  reply[#reply + 1] = entries[i][2][6] or ''
end
return reply
`;
