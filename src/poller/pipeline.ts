import type { Dispatcher } from 'undici'
import type { SourceHealth } from '../domain/health.js'
import type { Observation, Rate, Snapshot } from '../domain/rate.js'
import type { SourceId } from '../domain/sources.js'
import { sameRates } from '../domain/changes.js'
import { reconcile } from '../reconciler/reconcile.js'
import type { Source } from '../sources/source.js'
import type { Leadership, SnapshotState } from '../store/store.js'
import { mergeObservations, sameObservations, usableObservations } from './observations.js'
import { createPoller } from './poller.js'
import type { PollerLog } from './poller.js'

/** The part of Config the pipeline reads (src/poller/ does not import config.ts; a Config fits as is). */
export interface PipelineConfig {
  currencies: string[]
  quote: string
  outlierPct: number
  staleAfterMs: number
  pollIntervalMs: number
  httpTimeoutMs: number
  httpMaxBytes: number
  userAgent: string
}

export interface PipelineLog extends PollerLog {
  error: (obj: object, msg: string) => void
}

export interface PipelineOptions {
  config: PipelineConfig
  /** The state the leader reconciles from and publishes into. */
  state: SnapshotState
  /** Polling runs only while this instance leads. */
  leadership: Leadership
  sources: Source[]
  /** Not closed here: it belongs to whoever created it. */
  dispatcher: Dispatcher
  now: () => Date
  log: PipelineLog
  pollerLog: PollerLog
  /** How often staleness is re-evaluated without a poll. */
  reevaluateMs: number
  /** After every poll: `outcome` is `ok` or the failure's error code. */
  onPoll?: (source: SourceId, outcome: string, durationMs: number) => void
  onPublish?: (snapshot: Snapshot) => void
  /**
   * The history backfill. An empty state's first snapshot is held back while a currency has no rate or a
   * floating rate no change yet, until the backfill is `done` or `waitMs` has passed since the first reconcile: so that
   * first snapshot already carries each rate's change. The backfill reconciles again as fixings arrive.
   */
  history?: { done: () => boolean, waitMs: number }
}

export interface Pipeline {
  /** Follows leadership (polling while leading) and re-evaluates staleness on a timer. */
  start: () => void
  /** Reconciles now, after any reconcile already queued. */
  reconcileNow: () => Promise<void>
  /** Per-source poll health; empty while this instance does not poll (a follower's would list every source as never polled). */
  health: () => SourceHealth[]
  /** Stops polling and the timer; resolves once the queued reconciles are done. */
  close: () => Promise<void>
}

/**
 * The ingest pipeline: each poll's quotes are folded into the observations, reconciled, and published
 * when a published field changed (saved without a new seq when only the evidence did).
 */
export function createPipeline (opts: PipelineOptions): Pipeline {
  const { config, state, leadership, sources, now, log } = opts
  // what a store holds may predate today's rules (a future value date persisted by an older version):
  // it is re-checked whenever it is taken over, and the cleaned set is what gets saved next
  const stored = (): Observation[] => {
    const all = state.observations()
    const usable = usableObservations(all, now())
    if (usable.length < all.length) log.warn({ dropped: all.length - usable.length }, 'stored observations dropped: future value date or implausible value')
    return usable
  }
  let observations = stored()
  let chain: Promise<void> = Promise.resolve()
  let closed = false
  let timer: NodeJS.Timeout | undefined
  let unfollow: (() => void) | undefined
  let holdUntil: number | undefined
  let released = opts.history === undefined
  let holdTimer: NodeJS.Timeout | undefined

  // serialised: two sources answering at once must not publish from the same previous snapshot
  const reconcileNow = async (): Promise<void> => {
    const run = chain.then(async () => {
      if (closed || !leadership.isLeader()) return
      const previous = state.snapshot()
      const result = reconcile({
        currencies: config.currencies,
        quote: config.quote,
        observations,
        previous,
        history: state.history,
        now: now(),
        outlierPct: config.outlierPct,
        staleAfterMs: config.staleAfterMs
      })
      if (previous === undefined && result.rates.length > 0 && holding(result.rates)) return
      if (previous === undefined ? result.rates.length > 0 : !sameRates(previous.rates, result.rates)) {
        const snapshot = await state.publish({ rates: result.rates, fixings: result.fixings, observations })
        opts.onPublish?.(snapshot)
        log.info({ seq: snapshot.seq, rates: snapshot.rates.map((r) => `${r.pair}=${r.price} ${r.basis}${r.stale ? ' stale' : ''}`) }, 'snapshot published')
      } else if (!sameObservations(state.observations(), observations)) {
        await state.saveObservations(observations)
      }
    })
    chain = run.catch((err: unknown) => { log.error({ err }, 'reconcile failed') })
    await run
  }

  /** Whether a first snapshot of these rates waits for sources and history still on their way. */
  const holding = (rates: Rate[]): boolean => {
    if (released || opts.history === undefined) return false
    if (holdUntil === undefined) {
      holdUntil = Date.now() + opts.history.waitMs
      holdTimer = setTimeout(() => { reconcileNow().catch(() => {}) }, opts.history.waitMs)
    }
    // a currency not yet quoted at all would come without its change in the next snapshot
    const missing = config.currencies.some((base) => {
      const rate = rates.find((r) => r.base === base)
      return rate === undefined || (rate.change === null && rate.cadence !== 'peg')
    })
    if (missing && !opts.history.done() && Date.now() < holdUntil) {
      // a timer may fire a millisecond or so before the wall clock reaches holdUntil: look again then
      clearTimeout(holdTimer)
      holdTimer = setTimeout(() => { reconcileNow().catch(() => {}) }, holdUntil - Date.now() + 1)
      return true
    }
    released = true
    clearTimeout(holdTimer)
    return false
  }

  const poller = sources.length === 0
    ? undefined
    : createPoller({
      sources,
      dispatcher: opts.dispatcher,
      intervalMs: config.pollIntervalMs,
      timeoutMs: config.httpTimeoutMs,
      maxBytes: config.httpMaxBytes,
      userAgent: config.userAgent,
      now,
      async onQuotes (outcome) {
        opts.onPoll?.(outcome.source, 'ok', outcome.durationMs)
        observations = mergeObservations(observations, outcome.source, outcome.quotes, outcome.fetchedAt, config.currencies, now())
        await reconcileNow().catch(() => {})
      },
      onFailure (failure) { opts.onPoll?.(failure.source, failure.error.code, failure.durationMs) },
      log: opts.pollerLog
    })

  const follow = (leader: boolean): void => {
    if (closed || poller === undefined) return
    if (leader) {
      // a new leader starts from what the previous one stored
      observations = stored()
      log.info({ sources: sources.map((s) => s.id) }, 'polling upstreams')
      poller.start()
    } else if (poller.running()) {
      log.warn({}, 'lost leadership; polling stopped')
      poller.stop().catch(() => {})
    }
  }

  return {
    start () {
      if (closed || unfollow !== undefined) return
      unfollow = leadership.onChange(follow)
      follow(leadership.isLeader())
      timer = setInterval(() => { reconcileNow().catch(() => {}) }, opts.reevaluateMs)
      timer.unref()
    },
    reconcileNow,
    health: () => (poller?.running() === true ? poller.health() : []),
    async close () {
      closed = true
      unfollow?.()
      clearInterval(timer)
      clearTimeout(holdTimer)
      await poller?.stop()
      await chain
    }
  }
}
