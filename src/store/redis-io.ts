import { Redis } from 'ioredis'
import { z } from 'zod'
import { FixingSchema, ObservationSchema, SnapshotSchema } from '../domain/rate.js'
import type { Fixing, Snapshot } from '../domain/rate.js'
import type { StoreState } from './state.js'
import type { EngineHealth } from './store.js'

/** One key space: its keys in the order every script takes them, and its update channel. */
export interface RedisKeys {
  /** lock, seq, snapshot, history, observations: KEYS[1..5] of every script. */
  all: string[]
  lock: string
  channel: string
}

export function redisKeys (prefix: string): RedisKeys {
  const all = ['lock', 'seq', 'snapshot', 'history', 'observations'].map((k) => `${prefix}${k}`)
  return { all, lock: all[0] as string, channel: `${prefix}updates` }
}

export interface ConnectionOptions {
  name: string
  commandTimeoutMs: number
  connectTimeoutMs: number
  retryMinMs: number
  retryMaxMs: number
}

/** The command connection and the subscriber of one instance; both connect on `connect()`. */
export function createConnections (url: string, { name, commandTimeoutMs, connectTimeoutMs, retryMinMs, retryMaxMs }: ConnectionOptions): { redis: Redis, sub: Redis } {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    // commands fail fast while Redis is away instead of queueing or hanging; the state is re-read on reconnect
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (times) => Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(times - 1, 16))
  })
  return { redis, sub: redis.duplicate({ connectionName: `${name}:sub` }) }
}

export interface RedisConditions {
  redis: Redis
  sub: Redis
  answering: () => boolean
  syncError: string | undefined
  inSync: boolean
}

/** The one public reason an instance is not ready, most fundamental first; the details are in the logs. */
export function redisHealth ({ redis, sub, answering, syncError, inSync }: RedisConditions): EngineHealth {
  const reason = redis.status !== 'ready'
    ? 'redis unreachable'
    : sub.status !== 'ready'
      ? 'redis pub/sub unreachable'
      : !answering()
          ? 'redis not answering'
          : syncError !== undefined ? 'redis state invalid' : !inSync ? 'resynchronising' : undefined
  return reason === undefined ? { ok: true, reasons: [] } : { ok: false, reasons: [reason] }
}

// KEYS: lock, seq, snapshot, history, observations. ARGV: token, then per script below.
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
// RESTORE: seq, snapshot JSON, observations, channel, history pairs; only over an older (or lost) state.
export const RESTORE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
redis.call('SET', KEYS[5], ARGV[4])
redis.call('DEL', KEYS[4])
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]) end
redis.call('PUBLISH', ARGV[5], '{"seq":' .. ARGV[2] .. '}')
return 1`
// SAVE: observations.
export const SAVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[5], ARGV[2])
return 1`

const historyPairs = (state: StoreState, bases: string[]): string[] =>
  bases.flatMap((base) => [base, JSON.stringify(state.history[base] ?? [])])

/** PUBLISH's arguments after the token, for `next` (a publish applied under any seq: the script allocates it). */
export function publishArgs (floor: number, next: StoreState, fixings: Record<string, Fixing>, channel: string): Array<string | number> {
  const { seq: _allocatedByTheScript, ...rest } = next.snapshot as Snapshot
  return [floor, JSON.stringify(rest).slice(1), JSON.stringify(next.observations), channel, JSON.stringify(fixings),
    ...historyPairs(next, Object.keys(fixings))]
}

/** RESTORE's arguments after the token: the whole of `state`, which holds a snapshot. */
export function restoreArgs (state: StoreState, channel: string): Array<string | number> {
  const snapshot = state.snapshot as Snapshot
  return [snapshot.seq, JSON.stringify(snapshot), JSON.stringify(state.observations), channel,
    ...historyPairs(state, Object.keys(state.history))]
}

const HistorySchema = z.array(FixingSchema)
const ObservationsSchema = z.array(ObservationSchema)
/** An update on the channel: the whole publish, or a bare seq that asks followers to re-read. */
export const MessageSchema = z.object({
  seq: z.number().int().nonnegative(),
  snapshot: SnapshotSchema.optional(),
  fixings: z.record(z.string(), FixingSchema).optional(),
  observations: ObservationsSchema.optional()
})
export type Message = z.infer<typeof MessageSchema>

/** Reads the stored state in one transaction; throws a ZodError or SyntaxError when it is not valid. */
export async function loadState (redis: Redis, keys: string[]): Promise<StoreState> {
  const replies = await redis.multi().get(keys[2] as string).hgetall(keys[3] as string).get(keys[4] as string).exec()
  const [snapshot, history, observations] = (replies ?? []).map(([err, value]) => {
    if (err !== null) throw err
    return value
  }) as [string | null, Record<string, string>, string | null]
  return {
    snapshot: snapshot === null ? undefined : SnapshotSchema.parse(JSON.parse(snapshot)),
    history: Object.fromEntries(Object.entries(history).map(([base, json]) => [base, HistorySchema.parse(JSON.parse(json))])),
    observations: observations === null ? [] : ObservationsSchema.parse(JSON.parse(observations)),
    archive: {}
  }
}
