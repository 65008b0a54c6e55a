import { Redis } from 'ioredis'
import { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import { FixingSchema, ObservationSchema, SnapshotSchema } from '../domain/rate.js'
import type { Snapshot } from '../domain/rate.js'
import { createLeaderElection } from './leader.js'
import { applyPublish, createListeners } from './memory.js'
import type { StoreState } from './memory.js'
import type { PublishInput, Store, StoreLog } from './store.js'

// KEYS: lock, seq, snapshot, history, observations. ARGV: token, then per script below.
// Every write first checks that the lock still holds this instance's token: a paused ex-leader cannot overwrite.
// PUBLISH: floor seq, snapshot JSON without its opening brace, observations, channel, fixings, history base/JSON pairs.
// The floor keeps seq increasing even if Redis lost its data (restart without persistence, empty replica).
// The message carries the whole publish, so a follower that is current applies it without a read.
const PUBLISH = `
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
const RESTORE = `
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
const SAVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[5], ARGV[2])
return 1`

const HistorySchema = z.array(FixingSchema)
const ObservationsSchema = z.array(ObservationSchema)
const MessageSchema = z.object({
  seq: z.number().int().nonnegative(),
  snapshot: SnapshotSchema.optional(),
  fixings: z.record(z.string(), FixingSchema).optional(),
  observations: ObservationsSchema.optional()
})
type Message = z.infer<typeof MessageSchema>

export interface RedisStoreOptions {
  /** REDIS_URL */
  url: string
  quote: string
  /** FX_LEADER_LOCK_MS */
  lockMs: number
  /** FX_LEADER_RENEW_MS */
  renewMs: number
  log?: StoreLog
  now?: () => Date
  /** Prefix of every key and of the channel; default `fx:`. */
  keyPrefix?: string
  /** Reconnect backoff: doubles from retryMinMs (default 50) up to retryMaxMs (default 2000). */
  retryMinMs?: number
  retryMaxMs?: number
  /** How long one Redis command may take before it fails; default max(1000, renewMs). */
  commandTimeoutMs?: number
  /** CLIENT SETNAME of this instance's connections (the subscriber gets a `:sub` suffix); default `fx-ticker`. */
  name?: string
}

const silent: StoreLog = { info () {}, warn () {}, error () {} }
const EMPTY: StoreState = { snapshot: undefined, history: {}, observations: [] }

/**
 * Many instances on one Redis: each serves reads from its in-memory copy and follows the channel;
 * the elected leader writes through fenced Lua scripts. After an outage every instance re-reads the stored state.
 */
export async function createRedisStore (options: RedisStoreOptions): Promise<Store> {
  const { url, quote, lockMs, renewMs, log = silent, now = () => new Date(), keyPrefix = 'fx:' } = options
  const { retryMinMs = 50, retryMaxMs = 2000, name = 'fx-ticker', commandTimeoutMs = Math.max(1000, renewMs) } = options
  const keys = ['lock', 'seq', 'snapshot', 'history', 'observations'].map((k) => `${keyPrefix}${k}`)
  const channel = `${keyPrefix}updates`
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    // commands fail fast while Redis is away instead of queueing or hanging; the state is re-read on reconnect
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(lockMs, 1000),
    retryStrategy: (times) => Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(times - 1, 16))
  })
  const sub = redis.duplicate({ connectionName: `${name}:sub` })
  const listeners = createListeners()
  let state: StoreState = EMPTY
  let lastError: string | undefined
  let down = false
  let inSync = false
  let syncError: string | undefined
  let closed = false
  let closing: Promise<void> | undefined

  const localSeq = (): number => state.snapshot?.seq ?? 0

  // publishes, saves and re-reads run one at a time, so none of them works from a state another is replacing
  let chain: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn)
    chain = run.catch(() => {})
    return run
  }

  const adopt = (next: StoreState): void => {
    const previous = state.snapshot
    state = next
    if (next.snapshot !== undefined && (previous?.seq ?? 0) < next.snapshot.seq) listeners.emit(next.snapshot, previous)
  }

  const load = async (): Promise<StoreState> => {
    const replies = await redis.multi().get(keys[2] as string).hgetall(keys[3] as string).get(keys[4] as string).exec()
    const [snapshot, history, observations] = (replies ?? []).map(([err, value]) => {
      if (err !== null) throw err
      return value
    }) as [string | null, Record<string, string>, string | null]
    return {
      snapshot: snapshot === null ? undefined : SnapshotSchema.parse(JSON.parse(snapshot)),
      history: Object.fromEntries(Object.entries(history).map(([base, json]) => [base, HistorySchema.parse(JSON.parse(json))])),
      observations: observations === null ? [] : ObservationsSchema.parse(JSON.parse(observations))
    }
  }

  /** Re-reads the stored state; adopts it unless this copy is newer (Redis lost data). Returns the stored seq. */
  const resync = async (): Promise<number> => {
    let stored: StoreState
    try {
      stored = await load()
    } catch (err) {
      if (err instanceof z.ZodError || err instanceof SyntaxError) {
        syncError = `redis state invalid: ${err.message.slice(0, 200)}`
        log.error({ err }, 'stored state is invalid; keeping the in-memory copy')
      }
      throw err
    }
    syncError = undefined
    const storedSeq = stored.snapshot?.seq ?? 0
    if (storedSeq >= localSeq()) adopt(stored)
    else log.warn({ storedSeq, localSeq: localSeq() }, 'redis holds an older state than this instance')
    inSync = true
    return storedSeq
  }

  const historyPairs = (next: StoreState, bases: string[]): string[] =>
    bases.flatMap((base) => [base, JSON.stringify(next.history[base] ?? [])])

  const election = createLeaderElection({
    redis,
    key: keys[0] as string,
    lockMs,
    renewMs,
    log,
    // a new leader starts from the stored state, and puts its own back if Redis lost it
    beforeLead: () => serial(async () => {
      const storedSeq = await resync()
      const snapshot = state.snapshot
      if (snapshot === undefined || storedSeq >= snapshot.seq) return
      await redis.eval(RESTORE, keys.length, ...keys, election.token, snapshot.seq, JSON.stringify(snapshot),
        JSON.stringify(state.observations), channel, ...historyPairs(state, Object.keys(state.history)))
      log.warn({ seq: snapshot.seq }, 'restored the state redis had lost')
    })
  })

  const fenced = async (script: string, args: Array<string | number>): Promise<number> => {
    if (!election.isLeader()) throw new RatesError('RATES_NOT_LEADER', 'this instance is not the leader', 503)
    let result: unknown
    try {
      result = await redis.eval(script, keys.length, ...keys, election.token, ...args)
    } catch (err) {
      throw new RatesError('RATES_STORE', `redis write failed: ${(err as Error).message}`, 503, { cause: err })
    }
    if (result === -1) {
      election.lose('the lock holds another instance\'s token')
      throw new RatesError('RATES_NOT_LEADER', 'leadership was taken over by another instance', 503)
    }
    return Number(result)
  }

  const publish = (input: PublishInput): Promise<Snapshot> => serial(async () => {
    const at = now()
    const next = applyPublish(state, input, quote, at, 0)
    const { seq: _placeholder, ...rest } = next.snapshot as Snapshot
    const seq = await fenced(PUBLISH, [localSeq(), JSON.stringify(rest).slice(1), JSON.stringify(input.observations),
      channel, JSON.stringify(input.fixings), ...historyPairs(next, Object.keys(input.fixings))])
    const snapshot: Snapshot = { ...(next.snapshot as Snapshot), seq }
    adopt({ ...next, snapshot })
    return snapshot
  })

  const onReady = (): void => {
    if (closed || redis.status !== 'ready' || sub.status !== 'ready') return
    if (down) log.info({}, 'redis reachable again; resynchronising')
    down = false
    sub.subscribe(channel).catch(() => {})
    serial(resync).catch((err: unknown) => { log.warn({ err }, 'redis resync failed') })
  }
  const onDown = (): void => {
    inSync = false
    // the lock cannot be renewed from here: stop leading now rather than when a renewal fails
    election.lose('redis connection lost')
  }
  for (const connection of [redis, sub]) {
    connection.on('error', (err: Error) => {
      lastError = err.message
      if (!down && !closed) log.warn({ err: err.message }, 'redis unreachable')
      down = true
    })
    connection.on('close', onDown)
    connection.on('ready', onReady)
  }
  // the next seq is applied from the message itself; a gap (missed messages) or a bare seq means a full re-read
  const follow = async ({ seq, snapshot, fixings, observations }: Message): Promise<void> => {
    if (seq <= localSeq()) return
    if (seq === localSeq() + 1 && snapshot?.seq === seq && fixings !== undefined && observations !== undefined) {
      const next = applyPublish(state, { rates: snapshot.rates, fixings, observations }, quote, new Date(snapshot.updatedAt), seq)
      adopt({ ...next, snapshot })
    } else {
      await resync()
    }
  }
  sub.on('message', (from: string, text: string) => {
    if (from !== channel) return
    let message: Message
    try {
      message = MessageSchema.parse(JSON.parse(text))
    } catch (err) {
      log.warn({ err }, 'ignored an invalid update message')
      return
    }
    if (message.seq <= localSeq()) return
    serial(() => follow(message)).catch((err: unknown) => { log.warn({ err }, 'redis resync failed') })
  })

  try {
    await Promise.all([redis.connect(), sub.connect()])
    await sub.subscribe(channel)
    await serial(resync)
  } catch (err) {
    // not fatal: the ready handler loads the state once Redis answers; until then health says why
    log.warn({ err }, 'redis unavailable at start')
  }
  await election.tick()
  election.start()

  return {
    snapshot: () => state.snapshot,
    history: (base) => state.history[base] ?? [],
    observations: () => state.observations,
    publish,
    saveObservations: (observations) => serial(async () => {
      await fenced(SAVE, [JSON.stringify(observations)])
      state = { ...state, observations }
    }),
    subscribe: listeners.add,
    health () {
      const reasons: string[] = []
      if (redis.status !== 'ready') reasons.push(`redis unreachable: ${lastError ?? redis.status}`)
      else if (sub.status !== 'ready') reasons.push(`redis pub/sub unreachable: ${lastError ?? sub.status}`)
      else if (syncError !== undefined) reasons.push(syncError)
      else if (!inSync) reasons.push('redis reachable; resynchronising')
      return { ok: reasons.length === 0, reasons }
    },
    leadership: { isLeader: election.isLeader, onChange: election.onChange },
    close () {
      closing ??= (async () => {
        closed = true
        await election.close()
        await chain
        for (const connection of [sub, redis]) {
          if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect())
          else connection.disconnect()
        }
      })()
      return closing
    }
  }
}
