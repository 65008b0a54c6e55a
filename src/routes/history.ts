import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { RatesError } from '../domain/errors.js'
import { pairOf } from '../domain/rate.js'
import { etagMatches } from './conditional.js'
import type { FastLane } from './fast-lane.js'
import { cacheControlOf, formatOf, maxDaysOf, resolveRange } from './history-range.js'
import type { DateRange, HistoryFormat, RangeQuery } from './history-range.js'
import type { HistoryViews } from './history-views.js'
import { BaseParamsSchema, HistoryQuerySchema, SeveralHistoryQuerySchema, restResponses as r } from './schemas.js'
import type { View } from './views.js'

const TYPES: Record<HistoryFormat, string> = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8' }

export interface HistoryRoutesOptions {
  views: HistoryViews
  quote: string
  /** FX_HISTORY_DAYS: the widest range served (400 when 0). */
  historyDays: number
  /** The UTC date by the app's clock. */
  today: () => string
  /** Refuses (400 naming `param`) symbols this service does not serve. */
  checkKnown: (symbols: readonly string[], param: string) => void
  known: ReadonlySet<string>
  /** Answers the repeated requests of these routes; each route hands it what it sent. */
  lane?: Pick<FastLane, 'remember'>
}

/**
 * Sends a history view with its caching headers, or a bodiless 304 when the client holds it already; with
 * `lane`, the answer is remembered for as long as `current` says the data and the date behind it are.
 */
export function sendDaily (request: FastifyRequest, reply: FastifyReply, view: View, cacheControl: string, type: string, lane?: Pick<FastLane, 'remember'>, current?: () => boolean): void {
  reply.header('etag', view.etag).header('cache-control', cacheControl).header('vary', 'Accept, Accept-Encoding, Origin')
  if (lane !== undefined && current !== undefined) lane.remember(request, reply, view.etag, view.body, type, current)
  if (etagMatches(request.headers['if-none-match'], view.etag)) { reply.code(304).send(); return }
  // a string with its content type set is sent as it is, skipping the serializer
  reply.header('content-type', type).send(view.body)
}

/**
 * /v1/history/:base and /v1/history?symbols=: the daily fixings of a date range from this instance's copy
 * of the history, in JSON or CSV, with content-derived ETags and long caching for settled ranges.
 */
const historyRoutes: FastifyPluginAsyncZod<HistoryRoutesOptions> = async (fastify, { views, quote, historyDays, today, checkKnown, known, lane }) => {
  const maxDays = maxDaysOf(historyDays)
  const rangeOf = (query: RangeQuery): { range: DateRange, day: string } => {
    const day = today()
    return { range: resolveRange(query, day, maxDays), day }
  }
  const oldestOf = (base: string): string | undefined => fastify.store.history(base)[0]?.date
  /** Whether the histories of `bases` and the date are still those an answer was built from. */
  const sameAs = (bases: readonly string[], day: string): () => boolean => {
    const versions = bases.map((b) => fastify.store.history(b))
    return () => today() === day && bases.every((b, i) => fastify.store.history(b) === versions[i])
  }

  fastify.get('/history/:base', {
    schema: {
      operationId: 'getHistory',
      tags: ['rates'],
      summary: 'Daily fixings of one currency over a date range, oldest first, in JSON or CSV',
      params: BaseParamsSchema,
      querystring: HistoryQuerySchema,
      response: { 200: r.history, 304: r.historyNotModified, 400: r.badRequest, 404: r.notFound, 429: r.rateLimited }
    }
  }, (request, reply) => {
    const { base } = request.params
    if (!known.has(base)) throw new RatesError('RATES_NOT_FOUND', `no history for ${pairOf(base, quote)}; this service serves ${[...known].join(',')}`, 404)
    const { range, day } = rangeOf(request.query)
    const format = formatOf(request.query.format, request.headers.accept)
    const current = sameAs([base], day)
    sendDaily(request, reply, views.one(base, range, format), cacheControlOf(range, day, [oldestOf(base)]), TYPES[format], lane, current)
  })

  fastify.get('/history', {
    schema: {
      operationId: 'getHistories',
      tags: ['rates'],
      summary: 'Daily fixings of several currencies over a date range, in JSON or CSV',
      querystring: SeveralHistoryQuerySchema,
      response: { 200: r.histories, 304: r.historyNotModified, 400: r.badRequest, 429: r.rateLimited }
    }
  }, (request, reply) => {
    // the order asked is the order served; a base named twice is served once
    const bases = [...new Set(request.query.symbols)]
    checkKnown(bases, 'symbols')
    const { range, day } = rangeOf(request.query)
    const format = formatOf(request.query.format, request.headers.accept)
    const current = sameAs(bases, day)
    sendDaily(request, reply, views.several(bases, range, format), cacheControlOf(range, day, bases.map(oldestOf)), TYPES[format], lane, current)
  })
}

export default historyRoutes
