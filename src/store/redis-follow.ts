import type { Redis } from 'ioredis'
import { z } from 'zod'
import { loadFields, loadState, MessageSchema } from './redis-io.js'
import type { Fields, Message, RedisKeys } from './redis-io.js'
import { applyPublish } from './state.js'
import type { LocalState, StoreState } from './state.js'
import type { SnapshotListener, StoreLog } from './store.js'
import { describeIssues } from './validate.js'

export interface RedisFollowerOptions {
  redis: Redis
  sub: Redis
  keys: RedisKeys
  quote: string
  local: LocalState
  /** Where a state that moved seq forward is announced. */
  emit: SnapshotListener
  /** The engine's one queue: publishes, saves and re-reads never work from a state another is replacing. */
  serial: <T>(fn: () => Promise<T>) => Promise<T>
  log: StoreLog
  /** This instance's name on the channel: the archive updates it wrote itself are already in its copy. */
  origin: string
  /** Both connections are ready (again). */
  onReady: () => void
  /** A connection closed: what needs Redis to answer (the lock) ends now. */
  onDown: () => void
}

export interface RedisFollower {
  /** Takes a newer state into the copy and announces it when its seq moved forward. */
  adopt: (next: StoreState) => void
  /** Re-reads the stored state; adopts it unless this copy is newer (Redis lost data). Returns the stored seq. */
  resync: () => Promise<number>
  /** Queues a re-read, after a gap in what this instance heard. */
  resyncLater: () => void
  /** Connects both connections, subscribes and loads the stored state; a Redis not there yet is not fatal. */
  start: () => Promise<void>
  stop: () => void
  /** Why the stored state could not be read, while it cannot. */
  syncError: () => string | undefined
  /** False from a gap until the re-read after it succeeded. */
  inSync: () => boolean
}

/**
 * Keeps this instance's copy equal to the stored state: applies each update on the channel, and after any
 * gap (reconnect, missed message, a Redis that stopped answering) re-reads the whole state.
 */
export function createRedisFollower (options: RedisFollowerOptions): RedisFollower {
  const { redis, sub, keys, quote, local, emit, serial, log } = options
  let down = false
  let inSync = false
  let syncError: string | undefined
  let stopped = false
  let dropped = ''
  const localSeq = (): number => local.current().snapshot?.seq ?? 0

  // every re-read meets the same bad entry again: log it when the set changes, not once per read
  const reportDropped = (lines: string[], whole: boolean): void => {
    const now = lines.join('; ')
    if (lines.length > 0 && now !== dropped) log.warn({ dropped: lines }, 'invalid archive entries in redis left out')
    if (whole || lines.length > 0) dropped = now
  }

  const adopt = (next: StoreState): void => {
    const previous = local.replace(next)
    if (next.snapshot !== undefined && (previous?.seq ?? 0) < next.snapshot.seq) emit(next.snapshot, previous)
  }

  const resync = async (): Promise<number> => {
    let stored: StoreState
    try {
      const loaded = await loadState(redis, keys.all)
      stored = loaded.value
      reportDropped(loaded.dropped, true)
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

  const resyncLater = (): void => {
    inSync = false
    serial(resync).catch((err: unknown) => { log.warn({ err }, 'redis resync failed') })
  }

  const withFields = (state: StoreState, fields: Fields): StoreState => {
    const history = { ...state.history }
    const archive = { ...state.archive }
    for (const [base, fixings] of Object.entries(fields.history)) {
      if (fixings === undefined) delete history[base]
      else history[base] = fixings
    }
    for (const [id, entry] of Object.entries(fields.archive)) {
      if (entry === undefined) delete archive[id]
      else archive[id] = entry
    }
    return { ...state, history, archive }
  }

  // A backfill save at the seq this copy holds: re-read the fields it names (what is read is at least as
  // new as the message, and applying a later publish's fixing again changes nothing). Behind: a gap.
  const refresh = async ({ seq, history = [], archive = [] }: Message): Promise<void> => {
    // the channel keeps order, so only a re-read made after the save can have moved the copy past it
    if (seq < localSeq()) return
    if (seq > localSeq()) {
      await resync()
      return
    }
    let fields: Fields
    try {
      const loaded = await loadFields(redis, keys.all, history, archive)
      fields = loaded.value
      reportDropped(loaded.dropped, false)
    } catch (err) {
      if (err instanceof z.ZodError || err instanceof SyntaxError) {
        await resync()
        return
      }
      throw err
    }
    local.replace(withFields(local.current(), fields))
  }

  // the next seq is applied from the message itself; a gap (missed messages) or a bare seq means a full re-read
  const follow = async (message: Message): Promise<void> => {
    const { seq, snapshot, fixings, observations } = message
    if (message.archive !== undefined || message.history !== undefined) return await refresh(message)
    if (seq <= localSeq()) return
    if (seq === localSeq() + 1 && snapshot?.seq === seq && fixings !== undefined && observations !== undefined) {
      const next = applyPublish(local.current(), { rates: snapshot.rates, fixings, observations }, quote, new Date(snapshot.updatedAt), seq, local.keep)
      adopt({ ...next, snapshot })
    } else {
      await resync()
    }
  }

  for (const connection of [redis, sub]) {
    connection.on('error', (err: Error) => {
      if (!down && !stopped) log.warn({ err: err.message }, 'redis unreachable')
      down = true
    })
    connection.on('close', () => {
      inSync = false
      options.onDown()
    })
    connection.on('ready', () => {
      if (stopped || redis.status !== 'ready' || sub.status !== 'ready') return
      if (down) log.info({}, 'redis reachable again; resynchronising')
      down = false
      options.onReady()
      sub.subscribe(keys.channel).catch(() => {})
      resyncLater()
    })
  }
  sub.on('message', (from: string, text: string) => {
    if (from !== keys.channel) return
    let message: Message
    try {
      message = MessageSchema.parse(JSON.parse(text))
    } catch (err) {
      log.warn({ err }, 'ignored an invalid update message')
      return
    }
    const saved = message.archive !== undefined || message.history !== undefined
    // a save keeps the seq, so only its writer can tell it is already applied
    if (saved ? message.origin === options.origin : message.seq <= localSeq()) return
    serial(() => follow(message)).catch((err: unknown) => { log.warn({ err }, 'redis resync failed') })
  })

  return {
    adopt,
    resync,
    resyncLater,
    async start () {
      try {
        await Promise.all([redis.connect(), sub.connect()])
        await sub.subscribe(keys.channel)
        await serial(resync)
      } catch (err) {
        // not fatal: the ready handler loads the state once Redis answers; until then health says why
        log.warn({ err }, 'redis state not loaded at start')
      }
    },
    stop () { stopped = true },
    syncError: () => syncError,
    inSync: () => inSync
  }
}
