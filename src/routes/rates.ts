import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { civilDate } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import { pairOf } from '../domain/rate.js'
import { etagMatches } from './conditional.js'
import type { FastLane } from './fast-lane.js'
import historyRoutes, { sendDaily } from './history.js'
import { cacheControlOf, checkAt } from './history-range.js'
import { createHistoryViews } from './history-views.js'
import { BaseParamsSchema, RateQuerySchema, SymbolsQuerySchema, restResponses as r } from './schemas.js'
import { createViews } from './views.js'
import type { View } from './views.js'

// CDNs may keep an answer for a minute and serve it stale while revalidating or when we are down
const CACHE_CONTROL = 'public, max-age=30, s-maxage=60, stale-while-revalidate=300, stale-if-error=86400'
const JSON_TYPE = 'application/json; charset=utf-8'

export interface RatesRoutesOptions {
  currencies: readonly string[]
  quote: string
  /** The per-address REST limiter; it runs on every route of this plugin, however the request spelled the path. */
  limit?: onRequestHookHandler
  /** Answers the repeated requests of these routes; each route hands it what it sent. */
  lane?: Pick<FastLane, 'remember'>
  /** FX_HISTORY_DAYS: the widest history range served (400 when 0). */
  historyDays?: number
  /** The app's clock: its UTC date bounds history ranges and `at`. */
  now?: () => Date
}

/**
 * /v1/rates, /v1/rates/:base (and ?at=), /v1/history — served from this instance's copy of the snapshot and
 * history. The bodies are serialised once per snapshot (views.ts) or history version (history-views.ts) and
 * sent as strings, which skips the per-response serializer; the response schemas stay declared for the
 * OpenAPI document.
 */
const ratesRoutes: FastifyPluginAsyncZod<RatesRoutesOptions> = async (fastify, { currencies, quote, limit, lane, historyDays = 0, now = () => new Date() }) => {
  const known = new Set(currencies)
  if (limit !== undefined) fastify.addHook('onRequest', limit)
  const views = createViews({ snapshot: () => fastify.store.snapshot() })
  const histories = createHistoryViews({ history: (base) => fastify.store.history(base), quote })
  const today = (): string => civilDate(now(), 0)

  const notReady = (): never => {
    throw new RatesError('RATES_NOT_READY', 'no snapshot yet: the upstream sources have not answered since start-up', 503)
  }
  const checkKnown = (symbols: readonly string[], param: string): void => {
    const unknown = symbols.filter((s) => !known.has(s))
    if (unknown.length > 0) {
      throw new RatesError('RATES_BAD_REQUEST', `${param}: unknown currency ${unknown.join(',')}; expected some of ${currencies.join(',')}`, 400)
    }
  }
  const store = fastify.store
  /** The view, or a bodiless 304 when the client holds it already; current while the snapshot is. */
  const answer = (request: FastifyRequest, reply: FastifyReply, view: View, snapshot: unknown): void => {
    const etag = view.etag
    reply.header('etag', etag)
    lane?.remember(request, reply, etag, view.body, JSON_TYPE, () => store.snapshot() === snapshot)
    if (etagMatches(request.headers['if-none-match'], etag)) { reply.code(304).send(); return }
    sendJson(reply, view.body)
  }

  fastify.get('/rates', {
    schema: {
      operationId: 'getRates',
      tags: ['rates'],
      summary: 'The current snapshot of every rate, or of the given symbols',
      querystring: SymbolsQuerySchema,
      response: { 200: r.snapshot, 304: r.notModified, 400: r.badRequest, 429: r.rateLimited, 503: r.notReady }
    }
  }, (request, reply) => {
    const symbols = request.query.symbols
    if (symbols !== undefined) checkKnown(symbols, 'symbols')
    const snapshot = store.snapshot()
    const view = views.rates(symbols) ?? notReady()
    reply.header('cache-control', CACHE_CONTROL).header('vary', 'Accept-Encoding, Origin')
    answer(request, reply, view, snapshot)
  })

  fastify.get('/rates/:base', {
    schema: {
      operationId: 'getRate',
      tags: ['rates'],
      summary: 'The current rate of one currency, or the one in force on a past date',
      params: BaseParamsSchema,
      querystring: RateQuerySchema,
      response: { 200: r.rate, 304: r.notModified, 400: r.badRequest, 404: r.rateNotFound, 429: r.rateLimited, 503: r.notReady }
    }
  }, (request, reply) => {
    const { base } = request.params
    if (!known.has(base)) throw new RatesError('RATES_NOT_FOUND', `no rate for ${pairOf(base, quote)}; this service serves ${currencies.join(',')}`, 404)
    const { at } = request.query
    if (at !== undefined) {
      const day = today()
      const past = histories.at(base, checkAt(at, day))
      if (past === null) throw new RatesError('RATES_NOT_FOUND', `no fixing of ${pairOf(base, quote)} on or before ${at} in the history`, 404)
      // the answer follows the history, not the snapshot: cached like a history range ending on `at`
      sendDaily(request, reply, past, cacheControlOf({ from: at, to: at }, day, [fastify.store.history(base)[0]?.date]), JSON_TYPE)
      return
    }
    const snapshot = store.snapshot()
    const view = views.rate(base) ?? notReady()
    if (view === null) throw new RatesError('RATES_NOT_READY', `no rate for ${pairOf(base, quote)} yet`, 503)
    reply.header('cache-control', CACHE_CONTROL)
    answer(request, reply, view, snapshot)
  })

  await fastify.register(historyRoutes, { views: histories, quote, historyDays, today, checkKnown, known, ...(lane !== undefined && { lane }) })
}

/** JSON already serialised: with its content type set, fastify sends the string as it is. */
function sendJson (reply: FastifyReply, body: string): void {
  reply.header('content-type', JSON_TYPE).send(body)
}

export default ratesRoutes
