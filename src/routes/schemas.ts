import { z } from 'zod'
import { PublicSourceHealthSchema } from '../domain/health.js'
import { BasisSchema, CurrencySchema, FixingSchema, IsoDateSchema, RateSchema, SnapshotSchema, SymbolListSchema } from '../domain/rate.js'
import { ErrorSchema, RETRY_AFTER, bodiless, documented, refusal } from '../domain/responses.js'
import type { HeaderDocs } from '../domain/responses.js'

export { ErrorSchema }

export const SymbolsQuerySchema = z.object({
  symbols: SymbolListSchema.optional().describe('Comma-separated bases to include, such as KZT,UZS (case-insensitive); all when absent')
}).strict()

export const BaseParamsSchema = z.object({
  base: z.string().transform((s) => s.toUpperCase()).pipe(CurrencySchema).describe('A base currency the service serves, such as KZT')
})

export const HistoryQuerySchema = z.object({
  days: z.coerce.number().int('expected a whole number of days').min(1).max(400).default(30)
    .describe('How many of the most recent fixings to return (1-400)')
}).strict()

export const HistorySchema = z.object({
  pair: z.string(),
  base: CurrencySchema,
  quote: CurrencySchema,
  fixings: z.array(FixingSchema)
}).meta({ id: 'History', description: 'Daily fixings of one pair, oldest first' })

/** 304 carries no body; fastify drops the payload for it. */
export const NotModifiedSchema = z.null()

export const RatesResponseSchema = SnapshotSchema

export const HealthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' })

export const ReadySchema = z.object({
  status: z.enum(['ready', 'not ready']),
  reasons: z.array(z.string()),
  seq: z.number().int().nullable(),
  sources: z.array(PublicSourceHealthSchema)
}).meta({ id: 'Ready' })

const ETAG: HeaderDocs = { ETag: { type: 'string', description: 'The snapshot `seq` (and the filter): send it back in If-None-Match' } }
const CACHE_CONTROL: HeaderDocs = { 'Cache-Control': { type: 'string', description: 'Shared caches may keep the answer briefly and serve it stale while revalidating' } }
const CACHED: HeaderDocs = { ...ETAG, ...CACHE_CONTROL }

/** The answers of the REST routes, as documented in /openapi.json and serialised by fastify. */
export const restResponses = {
  snapshot: documented('The current snapshot, filtered by `symbols`', SnapshotSchema, { headers: CACHED }),
  rate: documented('The current rate of the base', RateSchema, { headers: CACHED }),
  history: documented('The most recent fixings, oldest first', HistorySchema, { headers: CACHE_CONTROL }),
  notModified: bodiless('The If-None-Match ETag is still current', ETAG),
  badRequest: refusal('A parameter is invalid (RATES_BAD_REQUEST); the message names it'),
  notFound: refusal('The service does not serve this base (RATES_NOT_FOUND)'),
  rateLimited: refusal('More than FX_RATE_LIMIT_PER_MIN requests a minute from this address (RATES_RATE_LIMITED)', RETRY_AFTER),
  notReady: refusal('No snapshot, or no rate of this base, since start-up (RATES_NOT_READY)', RETRY_AFTER)
}

export { BasisSchema, IsoDateSchema }
