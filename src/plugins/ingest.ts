import fp from 'fastify-plugin'
import { Agent } from 'undici'
import type { Dispatcher } from 'undici'
import type { Config } from '../config.js'
import type { Observation } from '../domain/rate.js'
import { createPoller } from '../poller/poller.js'
import type { Poller, PollOutcome } from '../poller/poller.js'
import { mergeObservations, sameObservations, usableObservations } from '../poller/observations.js'
import { reconcile, sameRates } from '../reconciler/reconcile.js'
import type { Source } from '../sources/source.js'

declare module 'fastify' {
  interface FastifyInstance {
    ingest: {
      /** Per-source poll health; empty on an instance that is not polling. */
      poller: Poller | undefined
      /** Re-runs reconciliation now (also runs on a timer so staleness is re-evaluated). */
      reconcileNow: () => Promise<void>
    }
  }
}

export interface IngestOptions {
  config: Config
  sources: Source[]
  /** Owned by the app from here on; closed with it. */
  dispatcher?: Dispatcher
  now?: () => Date
  /** How often staleness is re-evaluated without a poll. */
  reevaluateMs?: number
}

/**
 * Polls the upstreams (only while this instance leads), folds each result into the observations,
 * reconciles and publishes through the store when a published field changed.
 */
export default fp<IngestOptions>(async (fastify, opts) => {
  const { config, sources } = opts
  const now = opts.now ?? (() => new Date())
  const dispatcher = opts.dispatcher ?? new Agent({
    keepAliveTimeout: 30_000,
    connections: 4,
    connectTimeout: Math.min(10_000, config.httpTimeoutMs)
  })
  const store = fastify.store
  const log = fastify.log.child({ component: 'ingest' })
  // what a store holds may predate today's rules (a future value date persisted by an older version):
  // it is re-checked whenever it is taken over, and the cleaned set is what gets saved next
  const stored = (): Observation[] => {
    const all = store.observations()
    const usable = usableObservations(all, now())
    if (usable.length < all.length) log.warn({ dropped: all.length - usable.length }, 'stored observations dropped: future value date or implausible value')
    return usable
  }
  let observations: Observation[] = stored()
  let chain: Promise<void> = Promise.resolve()
  let closed = false

  // serialised: two sources answering at once must not publish from the same previous snapshot
  const reconcileNow = async (): Promise<void> => {
    const run = chain.then(async () => {
      if (closed || !store.leadership.isLeader()) return
      const previous = store.snapshot()
      const result = reconcile({
        currencies: config.currencies,
        quote: config.quote,
        observations,
        previous,
        history: store.history,
        now: now(),
        outlierPct: config.outlierPct,
        staleAfterMs: config.staleAfterMs
      })
      if (previous === undefined ? result.rates.length > 0 : !sameRates(previous.rates, result.rates)) {
        const snapshot = await store.publish({ rates: result.rates, fixings: result.fixings, observations })
        fastify.metrics.publishesTotal.inc()
        log.info({ seq: snapshot.seq, rates: snapshot.rates.map((r) => `${r.pair}=${r.price} ${r.basis}${r.stale ? ' stale' : ''}`) }, 'snapshot published')
      } else if (!sameObservations(store.observations(), observations)) {
        await store.saveObservations(observations)
      }
    })
    chain = run.catch((err: unknown) => { log.error({ err }, 'reconcile failed') })
    await run
  }

  const onQuotes = async (outcome: PollOutcome): Promise<void> => {
    fastify.metrics.pollsTotal.inc({ source: outcome.source, outcome: 'ok' })
    fastify.metrics.pollSeconds.observe({ source: outcome.source }, outcome.durationMs / 1000)
    observations = mergeObservations(observations, outcome.source, outcome.quotes, outcome.fetchedAt, config.currencies, now())
    await reconcileNow().catch(() => {})
  }

  const poller = sources.length === 0
    ? undefined
    : createPoller({
      sources,
      dispatcher,
      intervalMs: config.pollIntervalMs,
      timeoutMs: config.httpTimeoutMs,
      maxBytes: config.httpMaxBytes,
      userAgent: config.userAgent,
      now,
      onQuotes,
      onFailure (failure) {
        fastify.metrics.pollsTotal.inc({ source: failure.source, outcome: failure.error.code })
        fastify.metrics.pollSeconds.observe({ source: failure.source }, failure.durationMs / 1000)
      },
      log: fastify.log.child({ component: 'poller' })
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

  let timer: NodeJS.Timeout | undefined
  let unfollow: (() => void) | undefined
  // only a polling instance reports poll health: a follower's would list every source as never polled
  const reported: Poller | undefined = poller === undefined ? undefined : { ...poller, health: () => (poller.running() ? poller.health() : []) }
  fastify.decorate('ingest', { poller: reported, reconcileNow })
  fastify.addHook('onReady', async () => {
    unfollow = store.leadership.onChange(follow)
    follow(store.leadership.isLeader())
    timer = setInterval(() => { reconcileNow().catch(() => {}) }, opts.reevaluateMs ?? 60_000)
    timer.unref()
  })
  fastify.addHook('onClose', async () => {
    closed = true
    unfollow?.()
    clearInterval(timer)
    await poller?.stop()
    await chain
    await dispatcher.close()
  })
}, { name: 'ingest', dependencies: ['store', 'metrics'], fastify: '5.x' })
