import type { Fixing, Snapshot } from '../domain/rate.js'
import type { StoreState } from './state.js'
import type { ArchiveUpdate } from './store.js'

// KEYS: lock, seq, snapshot, history, observations, archive. ARGV: token, then per script below.
// Every write first checks that the lock still holds this instance's token: a paused ex-leader cannot overwrite.
// PUBLISH: floor seq, snapshot JSON without its opening brace, observations, channel, fixings, history base/JSON pairs.
// The floor keeps seq increasing even if Redis lost its data (restart without persistence, empty replica).
// The message carries the whole publish, so a follower that is current applies it without a read.
export const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local seq = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[2])
if seq <= floor then seq = floor + 1; redis.call('SET', KEYS[2], seq) end
local snapshot = '{"seq":' .. seq .. ',' .. ARGV[3]
redis.call('SET', KEYS[3], snapshot)
redis.call('SET', KEYS[5], ARGV[4])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
redis.call('PUBLISH', ARGV[5], '{"seq":' .. seq .. ',"snapshot":' .. snapshot .. ',"fixings":' .. ARGV[6] .. ',"observations":' .. ARGV[4] .. '}')
return seq`
// RESTORE: seq, snapshot JSON, observations, channel, n, n archive source/JSON pairs, then history base/JSON
// pairs; only over an older (or lost) state. The bare seq it announces makes every follower re-read it all.
export const RESTORE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
redis.call('SET', KEYS[5], ARGV[4])
redis.call('DEL', KEYS[4], KEYS[6])
local last = 6 + 2 * tonumber(ARGV[6])
for i = 7, last, 2 do redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
redis.call('PUBLISH', ARGV[5], '{"seq":' .. ARGV[2] .. '}')
return 1`
// SAVE: observations.
export const SAVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[5], ARGV[2])
return 1`
// ARCHIVE: channel, message body without its opening brace, n, n archive source/JSON pairs, then history
// base/JSON pairs. No new seq: the message names the stored seq and the changed fields, which followers
// at that seq re-read (one behind or more re-reads everything, as after any gap).
export const ARCHIVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local last = 4 + 2 * tonumber(ARGV[4])
for i = 5, last, 2 do redis.call('HSET', KEYS[6], ARGV[i], ARGV[i + 1]) end
for i = last + 1, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
redis.call('PUBLISH', ARGV[2], '{"seq":' .. (redis.call('GET', KEYS[2]) or '0') .. ',' .. ARGV[3])
return 1`

const historyPairs = (state: StoreState, bases: string[]): string[] =>
  bases.flatMap((base) => [base, JSON.stringify(state.history[base] ?? [])])

const archivePairs = (state: StoreState, sources: string[]): string[] =>
  sources.flatMap((id) => [id, JSON.stringify(state.archive[id])])

/** PUBLISH's arguments after the token, for `next` (a publish applied under any seq: the script allocates it). */
export function publishArgs (floor: number, next: StoreState, fixings: Record<string, Fixing>, channel: string): Array<string | number> {
  const { seq: _allocatedByTheScript, ...rest } = next.snapshot as Snapshot
  return [floor, JSON.stringify(rest).slice(1), JSON.stringify(next.observations), channel, JSON.stringify(fixings),
    ...historyPairs(next, Object.keys(fixings))]
}

/** RESTORE's arguments after the token: the whole of `state`, which holds a snapshot. */
export function restoreArgs (state: StoreState, channel: string): Array<string | number> {
  const snapshot = state.snapshot as Snapshot
  const sources = Object.keys(state.archive)
  return [snapshot.seq, JSON.stringify(snapshot), JSON.stringify(state.observations), channel,
    sources.length, ...archivePairs(state, sources), ...historyPairs(state, Object.keys(state.history))]
}

/**
 * ARCHIVE's arguments after the token. The history lists are the leader's copy with the update applied
 * (`next`): the copy equals the stored state, since a leader re-reads it before leading and only the lock's
 * holder writes. `origin` lets the writer skip its own message.
 */
export function archiveArgs (next: StoreState, update: ArchiveUpdate, channel: string, origin: string): Array<string | number> {
  const sources = Object.keys(update.archive)
  const bases = Object.keys(update.fixings)
  const body = JSON.stringify({ archive: sources, history: bases, origin }).slice(1)
  return [channel, body, sources.length, ...archivePairs(next, sources), ...historyPairs(next, bases)]
}
