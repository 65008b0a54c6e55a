import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { RatesError } from '../domain/errors.js'
import { pairOf } from '../domain/rate.js'
import type { Snapshot } from '../domain/rate.js'
import { BaseParamsSchema, HistoryQuerySchema, SymbolsQuerySchema, restResponses as r } from './schemas.js'

// CDNs may keep an answer for a minute and serve it stale while revalidating or when we are down
const CACHE_CONTROL = 'public, max-age=30, s-maxage=60, stale-while-revalidate=300, stale-if-error=86400'

export interface RatesRoutesOptions {
  currencies: readonly string[]
  quote: string
  /** The per-address REST limiter; it runs on every route of this plugin, however the request spelled the path. */
  limit?: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>
}

/** /v1/rates, /v1/rates/:base, /v1/history/:base — served from this instance's copy of the snapshot. */
const ratesRoutes: FastifyPluginAsyncZod<RatesRoutesOptions> = async (fastify, { currencies, quote, limit }) => {
  const known = new Set(currencies)
  if (limit !== undefined) fastify.addHook('onRequest', limit)

  const current = (): Snapshot => {
    const snapshot = fastify.store.snapshot()
    if (snapshot === undefined) throw new RatesError('RATES_NOT_READY', 'no snapshot yet: the upstream sources have not answered since start-up', 503)
    return snapshot
  }
  const checkKnown = (symbols: readonly string[], param: string): void => {
    const unknown = symbols.filter((s) => !known.has(s))
    if (unknown.length > 0) {
      throw new RatesError('RATES_BAD_REQUEST', `${param}: unknown currency ${unknown.join(',')}; expected some of ${currencies.join(',')}`, 400)
    }
  }

  fastify.get('/rates', {
    schema: {
      operationId: 'getRates',
      tags: ['rates'],
      summary: 'The current snapshot of every rate, or of the given symbols',
      querystring: SymbolsQuerySchema,
      response: { 200: r.snapshot, 304: r.notModified, 400: r.badRequest, 429: r.rateLimited, 503: r.notReady }
    }
  }, async (request, reply) => {
    const symbols = request.query.symbols
    if (symbols !== undefined) checkKnown(symbols, 'symbols')
    const snapshot = current()
    const filter = symbols === undefined ? '' : `-${[...new Set(symbols)].sort().join('.')}`
    const etag = `"${snapshot.seq}${filter}"`
    reply.header('etag', etag).header('cache-control', CACHE_CONTROL).header('vary', 'Accept-Encoding, Origin')
    if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send()
    if (symbols === undefined) return snapshot
    const wanted = new Set(symbols)
    return { ...snapshot, rates: snapshot.rates.filter((r) => wanted.has(r.base)) }
  })

  fastify.get('/rates/:base', {
    schema: {
      operationId: 'getRate',
      tags: ['rates'],
      summary: 'The current rate of one currency',
      params: BaseParamsSchema,
      response: { 200: r.rate, 304: r.notModified, 400: r.badRequest, 404: r.notFound, 429: r.rateLimited, 503: r.notReady }
    }
  }, async (request, reply) => {
    const { base } = request.params
    if (!known.has(base)) throw new RatesError('RATES_NOT_FOUND', `no rate for ${pairOf(base, quote)}; this service serves ${currencies.join(',')}`, 404)
    const snapshot = current()
    const rate = snapshot.rates.find((r) => r.base === base)
    if (rate === undefined) throw new RatesError('RATES_NOT_READY', `no rate for ${pairOf(base, quote)} yet`, 503)
    const etag = `"${snapshot.seq}-${base}"`
    reply.header('etag', etag).header('cache-control', CACHE_CONTROL)
    if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send()
    return rate
  })

  fastify.get('/history/:base', {
    schema: {
      operationId: 'getHistory',
      tags: ['rates'],
      summary: 'Daily fixings of one currency, oldest first',
      params: BaseParamsSchema,
      querystring: HistoryQuerySchema,
      response: { 200: r.history, 400: r.badRequest, 404: r.notFound, 429: r.rateLimited }
    }
  }, async (request, reply) => {
    const { base } = request.params
    if (!known.has(base)) throw new RatesError('RATES_NOT_FOUND', `no history for ${pairOf(base, quote)}; this service serves ${currencies.join(',')}`, 404)
    const fixings = fastify.store.history(base)
    reply.header('cache-control', CACHE_CONTROL)
    return { pair: pairOf(base, quote), base, quote, fixings: fixings.slice(Math.max(0, fixings.length - request.query.days)) }
  })
}

function matches (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((t) => { const v = t.trim().replace(/^W\//, ''); return v === etag || v === '*' })
}

export default ratesRoutes
