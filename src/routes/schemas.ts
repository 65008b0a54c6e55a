import { z } from 'zod'
import { BasisSchema, CurrencySchema, FixingSchema, IsoDateSchema, SnapshotSchema } from '../domain/rate.js'

/** `{ error, message }`: `error` is the stable code, `message` names the parameter or the cause. */
export const ErrorSchema = z.object({ error: z.string(), message: z.string() })

const symbolList = z.string()
  .transform((s) => s.split(',').map((x) => x.trim().toUpperCase()).filter((x) => x !== ''))
  .pipe(z.array(CurrencySchema).min(1, 'expected a comma-separated list such as KZT,UZS').max(32))

export const SymbolsQuerySchema = z.object({ symbols: symbolList.optional() }).strict()

export const BaseParamsSchema = z.object({
  base: z.string().transform((s) => s.toUpperCase()).pipe(CurrencySchema)
})

export const HistoryQuerySchema = z.object({
  days: z.coerce.number().int('expected a whole number of days').min(1).max(400).default(30)
}).strict()

export const HistorySchema = z.object({
  pair: z.string(),
  base: CurrencySchema,
  quote: CurrencySchema,
  fixings: z.array(FixingSchema)
})

/** 304 carries no body; fastify drops the payload for it. */
export const NotModifiedSchema = z.null()

export const RatesResponseSchema = SnapshotSchema

export const HealthSchema = z.object({ status: z.literal('ok') })

export const ReadySchema = z.object({
  status: z.enum(['ready', 'not ready']),
  reasons: z.array(z.string()),
  seq: z.number().int().nullable(),
  sources: z.array(z.object({
    id: z.string(),
    ok: z.boolean(),
    lastSuccessAt: z.string().nullable(),
    lastErrorAt: z.string().nullable(),
    error: z.string().nullable(),
    consecutiveFailures: z.number().int()
  }))
})

export { BasisSchema, IsoDateSchema }
