import { randomUUID } from 'node:crypto'
import { RatesError } from '../domain/errors.js'
import type { Snapshot } from '../domain/rate.js'
import { createChangeFeed } from './changes.js'
import { createLeaderElection } from './leader.js'
import { createAnswerProbe } from './redis-probe.js'
import { createRedisFollower } from './redis-follow.js'
import { createConnections, redisHealth, redisKeys } from './redis-io.js'
import { ARCHIVE, archiveArgs, PUBLISH, publishArgs, RESTORE, restoreArgs, SAVE } from './redis-scripts.js'
import { applyArchive, applyPublish, createLocalState } from './state.js'
import { SILENT_LOG } from './store.js'
import type { ArchiveUpdate, PublishInput, Store, StoreLog } from './store.js'
import { checkObservations } from './validate.js'

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
  /** FX_HISTORY_DAYS: the history keeps at least this many fixings per base. */
  historyDays?: number
  /** Prefix of every key and of the channel; default `fx:`. */
  keyPrefix?: string
  /** Reconnect backoff: doubles from retryMinMs (default 50) up to retryMaxMs (default 2000). */
  retryMinMs?: number
  retryMaxMs?: number
  /**
   * How long one Redis command may take before it fails; default max(1000, lockMs - renewMs), so that a
   * Redis is reported as not answering (last answered PING older than renewMs plus this) no sooner than the
   * leader's lock would lapse anyway: a busy host's slow answer is not an outage.
   */
  commandTimeoutMs?: number
  /** CLIENT SETNAME of this instance's connections (the subscriber gets a `:sub` suffix); default `fx-ticker`. */
  name?: string
}

/**
 * Many instances on one Redis: each serves reads from its in-memory copy and follows the channel;
 * the elected leader writes through fenced Lua scripts. After an outage every instance re-reads the stored state.
 */
export async function createRedisStore (options: RedisStoreOptions): Promise<Store> {
  const { url, quote, lockMs, renewMs, log = SILENT_LOG, now = () => new Date(), keyPrefix = 'fx:' } = options
  const { retryMinMs = 50, retryMaxMs = 2000, name = 'fx-ticker', commandTimeoutMs = Math.max(1000, lockMs - renewMs) } = options
  const keys = redisKeys(keyPrefix)
  const { redis, sub } = createConnections(url, { name, commandTimeoutMs, connectTimeoutMs: Math.max(lockMs, 1000), retryMinMs, retryMaxMs })
  const local = createLocalState(quote, undefined, options.historyDays)
  const changes = createChangeFeed()
  const origin = randomUUID()
  let closing: Promise<void> | undefined

  let chain: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn)
    chain = run.catch(() => {})
    return run
  }

  const follower = createRedisFollower({
    redis,
    sub,
    keys,
    quote,
    local,
    emit: changes.emit,
    serial,
    log,
    origin,
    onReady: () => { probe.reset() },
    // the lock cannot be renewed from here: stop leading now rather than when a renewal fails
    onDown: () => { election.lose('redis connection lost') }
  })

  const election = createLeaderElection({
    redis,
    key: keys.lock,
    lockMs,
    renewMs,
    log,
    // a new leader starts from the stored state, and puts its own back if Redis lost it
    beforeLead: () => serial(async () => {
      const storedSeq = await follower.resync()
      const state = local.current()
      if (state.snapshot === undefined || storedSeq >= state.snapshot.seq) return
      await redis.eval(RESTORE, keys.all.length, ...keys.all, election.token, ...restoreArgs(state, keys.channel))
      log.warn({ seq: state.snapshot.seq }, 'restored the state redis had lost')
    })
  })

  const fenced = async (script: string, args: Array<string | number>): Promise<number> => {
    if (!election.isLeader()) throw new RatesError('RATES_NOT_LEADER', 'this instance is not the leader', 503)
    let result: unknown
    try {
      result = await redis.eval(script, keys.all.length, ...keys.all, election.token, ...args)
    } catch (err) {
      throw new RatesError('RATES_STORE', `redis write failed: ${(err as Error).message}`, 503, { cause: err })
    }
    if (result === -1) {
      election.lose('the lock holds another instance\'s token')
      throw new RatesError('RATES_NOT_LEADER', 'leadership was taken over by another instance', 503)
    }
    return Number(result)
  }

  // applied to the copy only once stored, under the seq the script allocated
  const publish = (input: PublishInput): Promise<Snapshot> => serial(async () => {
    const current = local.current()
    const next = applyPublish(current, input, quote, now(), 0, local.keep)
    const seq = await fenced(PUBLISH, publishArgs(current.snapshot?.seq ?? 0, next, input.fixings, keys.channel))
    const snapshot: Snapshot = { ...(next.snapshot as Snapshot), seq }
    follower.adopt({ ...next, snapshot })
    return snapshot
  })

  // no new seq: the snapshot stays, followers re-read the fields the message names
  const saveArchive = (update: ArchiveUpdate): Promise<void> => serial(async () => {
    const next = applyArchive(local.current(), update, local.keep)
    await fenced(ARCHIVE, archiveArgs(next, update, keys.channel, origin))
    local.replace(next)
  })

  const probe = createAnswerProbe({
    connections: [redis, sub],
    intervalMs: renewMs,
    timeoutMs: commandTimeoutMs,
    log,
    // the lock cannot be renewed through a Redis that does not answer: stop leading now
    onSilent: () => { election.lose('redis not answering') },
    onAnswering: follower.resyncLater
  })

  await follower.start()
  await election.tick()
  election.start()
  probe.start()

  return {
    ...local.reads,
    publish,
    saveObservations: (observations) => serial(async () => {
      checkObservations(observations)
      await fenced(SAVE, [JSON.stringify(observations)])
      local.replace({ ...local.current(), observations })
    }),
    saveArchive,
    subscribe: changes.subscribe,
    health: () => redisHealth({ redis, sub, answering: probe.answering, syncError: follower.syncError(), inSync: follower.inSync() }),
    leadership: { isLeader: election.isLeader, onChange: election.onChange },
    close () {
      closing ??= (async () => {
        follower.stop()
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
