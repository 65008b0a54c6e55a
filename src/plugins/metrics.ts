import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { SourceHealth } from '../domain/health.js'
import { z } from 'zod'
import { documented } from '../domain/responses.js'

export interface Metrics {
  registry: Registry
  pollsTotal: Counter<'source' | 'outcome'>
  pollSeconds: Histogram<'source'>
  httpSeconds: Histogram<'method' | 'route' | 'status'>
  /** Connected push clients by transport; the hub keeps it current. */
  clients: Gauge<'transport'>
  messagesSent: Counter<'transport' | 'type'>
  /** Messages not delivered: slow consumers closed, frames refused. */
  messagesDropped: Counter<'transport' | 'reason'>
  publishesTotal: Counter
  archiveRequestsTotal: Counter<'source' | 'outcome'>
  /** One HTTP request's latency, by method, route and status. */
  observeRequest: (method: string, route: string, status: number, seconds: number) => void
}

declare module 'fastify' {
  interface FastifyInstance { metrics: Metrics }
}

/** One registry per app (tests build many apps in one process), served at /metrics. */
export default fp(async (fastify) => {
  const registry = new Registry()
  // standard names (process_*, nodejs_*), so stock Node.js dashboards and alerts find them
  collectDefaultMetrics({ register: registry })
  // one labelled child per method, route and status (a bounded set), so a request does not hash its labels
  const observers = new Map<string, { observe: (seconds: number) => void }>()
  const observeRequest = (method: string, route: string, status: number, seconds: number): void => {
    const key = `${method} ${status} ${route}`
    let observer = observers.get(key)
    if (observer === undefined) {
      observer = metrics.httpSeconds.labels({ method, route, status: String(status) })
      observers.set(key, observer)
    }
    observer.observe(seconds)
  }
  const metrics: Metrics = {
    registry,
    observeRequest,
    pollsTotal: new Counter({ name: 'fx_source_polls_total', help: 'Upstream polls by source and outcome', labelNames: ['source', 'outcome'], registers: [registry] }),
    pollSeconds: new Histogram({ name: 'fx_source_poll_seconds', help: 'Upstream poll latency', labelNames: ['source'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] }),
    httpSeconds: new Histogram({ name: 'fx_http_request_seconds', help: 'HTTP request latency', labelNames: ['method', 'route', 'status'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [registry] }),
    clients: new Gauge({ name: 'fx_push_clients', help: 'Connected WebSocket and SSE clients', labelNames: ['transport'], registers: [registry] }),
    messagesSent: new Counter({ name: 'fx_push_messages_sent_total', help: 'Push messages sent', labelNames: ['transport', 'type'], registers: [registry] }),
    messagesDropped: new Counter({ name: 'fx_push_messages_dropped_total', help: 'Push messages dropped or clients closed for backpressure', labelNames: ['transport', 'reason'], registers: [registry] }),
    publishesTotal: new Counter({ name: 'fx_snapshots_published_total', help: 'Snapshots this instance published', registers: [registry] }),
    archiveRequestsTotal: new Counter({ name: 'fx_archive_requests_total', help: 'Dated archive requests of the history backfill by source and outcome', labelNames: ['source', 'outcome'], registers: [registry] })
  }
  registry.registerMetric(new Gauge({
    name: 'fx_rate_age_seconds',
    help: 'Age of each published rate, from the start of its value date',
    labelNames: ['pair', 'stale'],
    registers: [],
    collect () {
      this.reset()
      const now = Date.now()
      for (const r of fastify.store.snapshot()?.rates ?? []) {
        this.set({ pair: r.pair, stale: String(r.stale) }, Math.max(0, (now - Date.parse(`${r.date}T00:00:00Z`)) / 1000))
      }
    }
  }))
  // read at scrape time: the pipeline belongs to the ingest plugin, registered after this one;
  // a follower (not polling) reports no source series rather than every source as down
  const sources = (): SourceHealth[] => fastify.hasDecorator('ingest') ? fastify.ingest.health() : []
  registry.registerMetric(new Gauge({
    name: 'fx_source_up',
    help: 'Whether the last poll of each upstream source succeeded (1) or not (0), on the polling instance',
    labelNames: ['source'],
    registers: [],
    collect () {
      this.reset()
      for (const h of sources()) this.set({ source: h.id }, h.ok ? 1 : 0)
    }
  }))
  registry.registerMetric(new Gauge({
    name: 'fx_source_last_success_timestamp_seconds',
    help: 'Unix time of the last successful poll of each upstream source (0: none yet), on the polling instance',
    labelNames: ['source'],
    registers: [],
    collect () {
      this.reset()
      for (const h of sources()) this.set({ source: h.id }, h.lastSuccessAt === null ? 0 : Date.parse(h.lastSuccessAt) / 1000)
    }
  }))
  registry.registerMetric(new Gauge({
    name: 'fx_snapshot_seq',
    help: 'Sequence number of the snapshot this instance serves',
    registers: [],
    collect () { this.set(fastify.store.snapshot()?.seq ?? 0) }
  }))
  fastify.decorate('metrics', metrics)
  fastify.addHook('onResponse', (request, reply, done) => {
    observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    done()
  })
  fastify.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['operations'],
      summary: 'Prometheus metrics of this instance',
      response: { 200: documented('The Prometheus text exposition format, version 0.0.4', z.string(), { mediaType: 'text/plain' }) }
    }
  }, async (_request, reply) => {
    reply.type(registry.contentType)
    return await registry.metrics()
  })
}, { name: 'metrics', dependencies: ['store'], fastify: '5.x' })
