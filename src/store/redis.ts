import { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import type { Snapshot } from '../domain/rate.js'
import { createLeaderElection } from './leader.js'
import { applyPublish, createListeners } from './memory.js'
import type { StoreState } from './memory.js'
import { createAnswerProbe } from './redis-probe.js'
import { createConnections, loadState, MessageSchema, PUBLISH, redisHealth, RESTORE, SAVE } from './redis-io.js'
import type { Message } from './redis-io.js'
import type { PublishInput, Store, StoreLog } from './store.js'
import { checkObservations, describeIssues } from './validate.js'

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
  /**
   * How long one Redis command may take before it fails; default max(1000, renewMs). A Redis whose last
   * answered PING is older than renewMs plus this is reported as not answering.
   */
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
  const connectTimeoutMs = Math.max(lockMs, 1000)
  const { redis, sub } = createConnections(url, { name, commandTimeoutMs, connectTimeoutMs, retryMinMs, retryMaxMs })
  const listeners = createListeners()
  let state: StoreState = EMPTY
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

  /** Re-reads the stored state; adopts it unless this copy is newer (Redis lost data). Returns the stored seq. */
  const resync = async (): Promise<number> => {
    let stored: StoreState
    try {
      stored = await loadState(redis, keys)
    } catch (err) {
      if (err instanceof z.ZodError || err instanceof SyntaxError) {
        const problem = err instanceof z.ZodError ? describeIssues(err) : err.message.slice(0, 200)
        // every leadership attempt re-reads: log the problem when it appears or changes, not once per attempt
        if (problem !== syncError) log.error({ problem }, 'stored state is invalid; keeping the in-memory copy')
        syncError = problem
      }
      throw err
    }
    if (syncError !== undefined) log.info({}, 'stored state is valid again')
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

  const resyncLater = (): void => {
    inSync = false
    serial(resync).catch((err: unknown) => { log.warn({ err }, 'redis resync failed') })
  }
  const probe = createAnswerProbe({
    connections: [redis, sub],
    intervalMs: renewMs,
    timeoutMs: commandTimeoutMs,
    log,
    // the lock cannot be renewed through a Redis that does not answer: stop leading now
    onSilent: () => { election.lose('redis not answering') },
    onAnswering: resyncLater
  })

  const onReady = (): void => {
    if (closed || redis.status !== 'ready' || sub.status !== 'ready') return
    if (down) log.info({}, 'redis reachable again; resynchronising')
    down = false
    probe.reset()
    sub.subscribe(channel).catch(() => {})
    resyncLater()
  }
  const onDown = (): void => {
    inSync = false
    // the lock cannot be renewed from here: stop leading now rather than when a renewal fails
    election.lose('redis connection lost')
  }
  for (const connection of [redis, sub]) {
    connection.on('error', (err: Error) => {
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
    log.warn({ err }, 'redis state not loaded at start')
  }
  await election.tick()
  election.start()
  probe.start()

  return {
    snapshot: () => state.snapshot,
    history: (base) => state.history[base] ?? [],
    observations: () => state.observations,
    publish,
    saveObservations: (observations) => serial(async () => {
      checkObservations(observations)
      await fenced(SAVE, [JSON.stringify(observations)])
      state = { ...state, observations }
    }),
    subscribe: listeners.add,
    health: () => redisHealth({ redis, sub, answering: probe.answering, syncError, inSync }),
    leadership: { isLeader: election.isLeader, onChange: election.onChange },
    close () {
      closing ??= (async () => {
        closed = true
        probe.stop()
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
