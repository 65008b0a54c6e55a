import { Redis } from 'ioredis'
import { z } from 'zod'
import { SourceArchiveSchema } from '../domain/archive.js'
import type { Archive, SourceArchive } from '../domain/archive.js'
import { CurrencySchema, FixingSchema, ObservationSchema, SnapshotSchema, SourceIdSchema } from '../domain/rate.js'
import type { Fixing } from '../domain/rate.js'
import type { StoreState } from './state.js'
import type { EngineHealth } from './store.js'
import { describeIssues } from './validate.js'

/** One key space: its keys in the order every script takes them, and its update channel. */
export interface RedisKeys {
  /** lock, seq, snapshot, history, observations, archive: KEYS[1..6] of every script. */
  all: string[]
  lock: string
  channel: string
}

export function redisKeys (prefix: string): RedisKeys {
  const all = ['lock', 'seq', 'snapshot', 'history', 'observations', 'archive'].map((k) => `${prefix}${k}`)
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

const HistorySchema = z.array(FixingSchema)
const ObservationsSchema = z.array(ObservationSchema)
/**
 * An update on the channel: the whole publish; a bare seq that asks followers to re-read; or, from a
 * backfill save, the archive sources and history bases it changed at that (unchanged) seq and its writer.
 */
export const MessageSchema = z.object({
  seq: z.number().int().nonnegative(),
  snapshot: SnapshotSchema.optional(),
  fixings: z.record(z.string(), FixingSchema).optional(),
  observations: ObservationsSchema.optional(),
  archive: z.array(SourceIdSchema).optional(),
  history: z.array(CurrencySchema).optional(),
  origin: z.string().optional()
})
export type Message = z.infer<typeof MessageSchema>

/** What was read, and a line per archive entry left out because it did not parse. */
export interface Loaded<T> {
  value: T
  dropped: string[]
}

function unwrap (replies: Array<[Error | null, unknown]> | null): unknown[] {
  return (replies ?? []).map(([err, value]) => {
    if (err !== null) throw err
    return value
  })
}

/** One source's archive progress, or undefined (named in `dropped`) when it does not parse: backfill asks its dates again. */
function parseArchiveEntry (id: string, json: string, dropped: string[]): SourceArchive | undefined {
  const label = `archive[${JSON.stringify(id.slice(0, 24))}]`
  try {
    if (!SourceIdSchema.safeParse(id).success) throw new Error('not a source id')
    const parsed = SourceArchiveSchema.safeParse(JSON.parse(json))
    if (parsed.success) return parsed.data
    dropped.push(`${label}: ${describeIssues(parsed.error)}`)
  } catch (err) {
    dropped.push(`${label}: ${(err as Error).message.slice(0, 120)}`)
  }
  return undefined
}

function parseArchive (fields: Record<string, string>, dropped: string[]): Archive {
  const archive: Archive = {}
  for (const [id, json] of Object.entries(fields)) {
    const entry = parseArchiveEntry(id, json, dropped)
    if (entry !== undefined) archive[id] = entry
  }
  return archive
}

/**
 * Reads the stored state in one transaction; throws a ZodError or SyntaxError when the snapshot, history or
 * observations are not valid. A bad archive entry is dropped alone. A state written before the archive
 * existed (no archive key, fixings without sources) reads whole: sources default to [].
 */
export async function loadState (redis: Redis, keys: string[]): Promise<Loaded<StoreState>> {
  const [snapshot, history, observations, archive] = unwrap(await redis.multi().get(keys[2] as string)
    .hgetall(keys[3] as string).get(keys[4] as string).hgetall(keys[5] as string).exec()) as
    [string | null, Record<string, string>, string | null, Record<string, string>]
  const dropped: string[] = []
  return {
    value: {
      snapshot: snapshot === null ? undefined : SnapshotSchema.parse(JSON.parse(snapshot)),
      history: Object.fromEntries(Object.entries(history).map(([base, json]) => [base, HistorySchema.parse(JSON.parse(json))])),
      observations: observations === null ? [] : ObservationsSchema.parse(JSON.parse(observations)),
      archive: parseArchive(archive, dropped)
    },
    dropped
  }
}

/** Some fields of the history and archive hashes; undefined where the field is absent (or, for the archive, invalid). */
export interface Fields {
  history: Record<string, Fixing[] | undefined>
  archive: Record<string, SourceArchive | undefined>
}

/** Reads the named history bases and archive sources in one transaction; throws as loadState does for a bad history. */
export async function loadFields (redis: Redis, keys: string[], bases: string[], sources: string[]): Promise<Loaded<Fields>> {
  const multi = redis.multi()
  // HMGET needs at least one field
  if (bases.length > 0) multi.hmget(keys[3] as string, ...bases)
  if (sources.length > 0) multi.hmget(keys[5] as string, ...sources)
  const replies = unwrap(await multi.exec()) as Array<Array<string | null>>
  const histories = bases.length > 0 ? replies[0] ?? [] : []
  const archives = sources.length > 0 ? replies.at(-1) ?? [] : []
  const dropped: string[] = []
  const history = Object.fromEntries(bases.map((base, i) => {
    const json = histories[i]
    return [base, json === null || json === undefined ? undefined : HistorySchema.parse(JSON.parse(json))]
  }))
  const archive = Object.fromEntries(sources.map((id, i) => {
    const json = archives[i]
    return [id, json === null || json === undefined ? undefined : parseArchiveEntry(id, json, dropped)]
  }))
  return { value: { history, archive }, dropped }
}
