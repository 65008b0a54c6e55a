import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { anyCurrent } from '../domain/freshness.js'
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

  // anyone may ask: reasons are short words and codes; paths, addresses and error texts stay in the logs
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
    else if (!anyCurrent(snapshot.rates)) reasons.push('every rate is stale')
    reasons.push(...fastify.store.health().reasons.map(publicReason))
    const polled = sources()
    if (snapshot === undefined && polled.length > 0 && polled.every((s) => !s.ok && s.consecutiveFailures > 0)) {
      reasons.push('every upstream source is failing')
    }
    reply.header('cache-control', 'no-store')
    reply.code(reasons.length === 0 ? 200 : 503)
    return {
      status: reasons.length === 0 ? 'ready' as const : 'not ready' as const,
      reasons: [...new Set(reasons)],
      seq: snapshot?.seq ?? null,
      sources: polled.map((s) => ({
        id: s.id,
        ok: s.ok,
        lastSuccessAt: s.lastSuccessAt,
        lastErrorAt: s.lastErrorAt,
        error: publicCode(s.lastErrorCode),
        consecutiveFailures: s.consecutiveFailures
      }))
    }
  })
}

/** An engine's reason up to its first colon, if that is plain words; anything else is summarised. */
export function publicReason (reason: string): string {
  const head = (reason.split(':')[0] ?? '').trim()
  return head !== '' && head.split(/\s+/).every((word) => /^[a-z][a-z/'-]*[,;]?$/i.test(word)) ? head : 'store unhealthy'
}

/**
 * The code /readyz shows for a source's last failure: the adapters' RATES_* code; a transport error they
 * did not wrap (a reset or an abort while reading a body) is a network failure; anything else is internal.
 */
export function publicCode (code: string | null): string | null {
  if (code === null) return null
  if (/^RATES_[A-Z_]+$/.test(code)) return code
  if (/^(E[A-Z]+|UND_ERR_[A-Z_]+|AbortError|TimeoutError)$/.test(code)) return 'RATES_SOURCE_NETWORK'
  return 'RATES_INTERNAL'
}

export default healthRoutes
