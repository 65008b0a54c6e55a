import fp from 'fastify-plugin'
import { Agent } from 'undici'
import type { Dispatcher } from 'undici'
import type { Config } from '../config.js'
import type { SourceHealth } from '../domain/health.js'
import { createBackfill } from '../history/backfill.js'
import { createPipeline } from '../poller/pipeline.js'
import type { Source } from '../sources/source.js'
import type { Store } from '../store/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    ingest: {
      /** Per-source poll health; empty on an instance that is not polling. */
      health: () => SourceHealth[]
      /** Re-runs reconciliation now (also runs on a timer so staleness is re-evaluated). */
      reconcileNow: () => Promise<void>
      /** The history backfill: `done` once a first pass has ended, `idle` resolves when no pass runs. */
      backfill: { done: () => boolean, idle: () => Promise<void> }
    }
  }
}

export interface IngestOptions {
  config: Config
  /** The app's engine: the pipeline publishes into its state while it leads. */
  store: Store
  sources: Source[]
  /** Owned by the app from here on; closed with it. */
  dispatcher?: Dispatcher
  now?: () => Date
  /** How often staleness is re-evaluated without a poll. */
  reevaluateMs?: number
}

/** Runs the ingest pipeline with the app: it starts once the app is ready and is drained before the store closes. */
export default fp<IngestOptions>(async (fastify, opts) => {
  const { config, store } = opts
  const dispatcher = opts.dispatcher ?? new Agent({
    keepAliveTimeout: 30_000,
    connections: 4,
    connectTimeout: Math.min(10_000, config.httpTimeoutMs)
  })
  const { metrics } = fastify
  const now = opts.now ?? (() => new Date())
  const backfill = createBackfill({
    sources: opts.sources,
    state: store,
    currencies: config.currencies,
    outlierPct: config.outlierPct,
    days: config.historyDays,
    paceMs: config.historyPaceMs,
    dispatcher,
    timeoutMs: config.httpTimeoutMs,
    maxBytes: config.httpMaxBytes,
    userAgent: config.userAgent,
    now,
    log: fastify.log.child({ component: 'backfill' }),
    onHistory () { pipeline.reconcileNow().catch(() => {}) },
    onRequest (source, outcome) { metrics.archiveRequestsTotal.inc({ source, outcome }) }
  })
  const pipeline = createPipeline({
    config,
    state: store,
    leadership: store.leadership,
    sources: opts.sources,
    dispatcher,
    now,
    log: fastify.log.child({ component: 'ingest' }),
    pollerLog: fastify.log.child({ component: 'poller' }),
    reevaluateMs: opts.reevaluateMs ?? 60_000,
    onPoll (source, outcome, durationMs) {
      metrics.pollsTotal.inc({ source, outcome })
      metrics.pollSeconds.observe({ source }, durationMs / 1000)
    },
    onPublish () { metrics.publishesTotal.inc() },
    // a few archive requests per source, a pace apart, reach the previous fixings; one slow one is allowed
    history: { done: backfill.done, waitMs: config.httpTimeoutMs * 2 + config.historyPaceMs * 4 }
  })
  // only the leader asks the archives; a new leader goes on from the progress the store holds
  const followLeadership = (leader: boolean): void => {
    if (leader) backfill.start()
    else backfill.stop().catch(() => {})
  }
  let unfollow: (() => void) | undefined
  fastify.decorate('ingest', {
    health: pipeline.health,
    reconcileNow: pipeline.reconcileNow,
    backfill: { done: backfill.done, idle: backfill.idle }
  })
  fastify.addHook('onReady', async () => {
    pipeline.start()
    unfollow = store.leadership.onChange(followLeadership)
    followLeadership(store.leadership.isLeader())
  })
  fastify.addHook('onClose', async () => {
    unfollow?.()
    await backfill.stop()
    await pipeline.close()
    await dispatcher.close()
  })
}, { name: 'ingest', dependencies: ['store', 'metrics'], fastify: '5.x' })
