import { z } from 'zod'
import { validIso } from '../domain/dates.js'
import { PublicSourceHealthSchema } from '../domain/health.js'
import { BasisSchema, ChangeSchema, CurrencySchema, FixingSchema, IsoDateSchema, RateSchema, SnapshotSchema, SourceIdSchema, SymbolListSchema } from '../domain/rate.js'
import { ErrorSchema, RETRY_AFTER, bodiless, documented, refusal } from '../domain/responses.js'
import type { HeaderDocs } from '../domain/responses.js'

export { ErrorSchema }

export const SymbolsQuerySchema = z.object({
  symbols: SymbolListSchema.optional().describe('Comma-separated bases to include, such as KZT,UZS (case-insensitive); all when absent')
}).strict()

export const BaseParamsSchema = z.object({
  base: z.string().transform((s) => s.toUpperCase()).pipe(CurrencySchema).describe('A base currency the service serves, such as KZT')
})

/** A calendar date in a query: shaped YYYY-MM-DD and real (no 2026-02-30). */
const QueryDateSchema = IsoDateSchema.refine((s) => validIso(s) === s, 'expected a real calendar date')

const RANGE = {
  days: z.coerce.number().int('expected a whole number of days').min(1).max(3660).optional()
    .describe('The fixings dated within the last `days` calendar days (UTC), through the newest; 1 to FX_HISTORY_DAYS (400 when it is 0); 30 when no range is given. Not with from/to'),
  from: QueryDateSchema.optional()
    .describe('First date, inclusive (YYYY-MM-DD); with no `to`, through the newest fixing. The range may span at most FX_HISTORY_DAYS days (400 when it is 0)'),
  to: QueryDateSchema.optional()
    .describe('Last date, inclusive (YYYY-MM-DD); with no `from`, the 30 days ending on it'),
  format: z.enum(['json', 'csv']).optional()
    .describe('`csv` answers text/csv whatever Accept says; without it, `Accept: text/csv` does')
}

export const HistoryQuerySchema = z.object(RANGE).strict()

export const SeveralHistoryQuerySchema = z.object({
  symbols: SymbolListSchema.describe('Comma-separated bases, such as KZT,UZS (case-insensitive); the series come in this order'),
  ...RANGE
}).strict()

export const RateQuerySchema = z.object({
  at: QueryDateSchema.optional()
    .describe('Answer the fixing in force on this date (YYYY-MM-DD, tomorrow at the latest) instead of the current rate')
}).strict()

export const HistorySchema = z.object({
  pair: z.string(),
  base: CurrencySchema,
  quote: CurrencySchema,
  fixings: z.array(FixingSchema)
}).meta({ id: 'History', description: 'Daily fixings of one pair, oldest first' })

export const HistoriesSchema = z.object({
  quote: CurrencySchema,
  series: z.array(HistorySchema)
}).meta({ id: 'Histories', description: 'The history of each base asked for, in the order asked' })

/** The fixing in force on a past date: the newest dated on or before `at`, with its change against the one before. */
export const RateAtSchema = z.object({
  pair: z.string(),
  base: CurrencySchema,
  quote: CurrencySchema,
  price: z.number().positive(),
  inverse: z.number().positive(),
  date: IsoDateSchema,
  basis: BasisSchema,
  sources: z.array(SourceIdSchema),
  change: ChangeSchema,
  at: IsoDateSchema
}).meta({ id: 'RateAt', description: 'The fixing in force on the date `at` asked for' })
export type RateAt = z.infer<typeof RateAtSchema>

export const RateAnswerSchema = z.union([RateSchema, RateAtSchema])
  .meta({ id: 'RateAnswer', description: 'The current Rate, or a RateAt when `at` is given' })

/** The CSV form of histories: a header line, then one CRLF-terminated row per fixing. */
export const HistoryCsvSchema = z.string()
  .describe('`date,base,quote,price,inverse,basis` then one row per fixing, oldest first, grouped per base in the order asked; lines end in CRLF')

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
const CONTENT_ETAG: HeaderDocs = { ETag: { type: 'string', description: 'A hash of the body, the same on every instance: send it back in If-None-Match' } }
const DAILY: HeaderDocs = {
  ...CONTENT_ETAG,
  'Cache-Control': { type: 'string', description: 'Minutes in browsers and an hour in shared caches; a day and a week for a range that ended before yesterday' },
  Vary: { type: 'string', description: 'Accept: JSON and CSV share the URL' }
}

/** A history answer in JSON or, negotiated, CSV. */
const histories = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  headers: DAILY,
  content: { 'application/json': { schema }, 'text/csv': { schema: HistoryCsvSchema } }
})

/** The answers of the REST routes, as documented in /openapi.json and serialised by fastify. */
export const restResponses = {
  snapshot: documented('The current snapshot, filtered by `symbols`', SnapshotSchema, { headers: CACHED }),
  rate: documented('The current rate of the base, or with `at` the fixing in force on that date', RateAnswerSchema, {
    headers: { ETag: { type: 'string', description: 'The snapshot `seq` and the base, or with `at` a hash of the body: send it back in If-None-Match' }, ...CACHE_CONTROL }
  }),
  history: histories('The fixings of the range, oldest first', HistorySchema),
  histories: histories('The fixings of the range per base, in the order of `symbols`', HistoriesSchema),
  notModified: bodiless('The If-None-Match ETag is still current', ETAG),
  historyNotModified: bodiless('The If-None-Match ETag is still current', { ...CONTENT_ETAG, Vary: DAILY.Vary as HeaderDocs[string] }),
  badRequest: refusal('A parameter is invalid (RATES_BAD_REQUEST); the message names it'),
  notFound: refusal('The service does not serve this base (RATES_NOT_FOUND)'),
  rateNotFound: refusal('The service does not serve this base, or with `at` its history holds nothing on or before that date (RATES_NOT_FOUND)'),
  rateLimited: refusal('More than FX_RATE_LIMIT_PER_MIN requests a minute from this address (RATES_RATE_LIMITED)', RETRY_AFTER),
  notReady: refusal('No snapshot, or no rate of this base, since start-up (RATES_NOT_READY)', RETRY_AFTER)
}

export { BasisSchema, IsoDateSchema }
