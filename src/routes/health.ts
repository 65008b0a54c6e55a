import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { SourceHealth } from '../domain/health.js'
import { documented } from '../domain/responses.js'
import { HealthSchema, ReadySchema } from './schemas.js'

export interface HealthRoutesOptions {
  /** Per-source poll health; empty where this instance does not poll. */
  sources: () => SourceHealth[]
}

/** /healthz: the event loop answers. /readyz: a current snapshot exists and the engine is reachable. */
const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (fastify, { sources }) => {
  fastify.get('/healthz', {
    schema: { operationId: 'getLiveness', tags: ['operations'], summary: 'Liveness: the event loop answers', response: { 200: documented('Alive', HealthSchema) } }
  }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok' as const }
  })

  fastify.get('/readyz', {
    schema: {
      operationId: 'getReadiness',
      tags: ['operations'],
      summary: 'Readiness, with the reasons when not ready',
      response: { 200: documented('Ready to serve', ReadySchema), 503: documented('Not ready; `reasons` says why', ReadySchema) }
    }
  }, async (_request, reply) => {
    const snapshot = fastify.store.snapshot()
    const reasons: string[] = []
    if (snapshot === undefined) reasons.push('no snapshot yet')
    else if (!current(snapshot.rates)) reasons.push('every rate is stale')
    reasons.push(...fastify.store.health().reasons)
    const polled = sources()
    if (snapshot === undefined && polled.length > 0 && polled.every((s) => !s.ok && s.consecutiveFailures > 0)) {
      reasons.push(`every upstream source is failing (e.g. ${polled[0]?.lastError ?? `${polled[0]?.id ?? '?'}: no answer`})`)
    }
    reply.header('cache-control', 'no-store')
    reply.code(reasons.length === 0 ? 200 : 503)
    return { status: reasons.length === 0 ? 'ready' as const : 'not ready' as const, reasons, seq: snapshot?.seq ?? null, sources: polled }
  })
}

/** At least one rate is fresh; a peg is never stale, so it proves nothing while floating rates exist. */
function current (rates: ReadonlyArray<{ stale: boolean, cadence: string }>): boolean {
  const floating = rates.filter((r) => r.cadence !== 'peg')
  return (floating.length > 0 ? floating : rates).some((r) => !r.stale)
}

export default healthRoutes
