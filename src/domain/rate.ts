import { z } from 'zod'

/** ISO 4217 alphabetic code, upper case. */
export const CurrencySchema = z.string().regex(/^[A-Z]{3}$/, 'expected a three-letter ISO 4217 code such as KZT')
/** A calendar date, YYYY-MM-DD, in the publisher's calendar. */
export const IsoDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
export const TimestampSchema = z.string().datetime({ offset: true })
export const SourceIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]*$/)

/** The most currencies one filter (a `symbols` parameter, a `subscribe` message) may name. */
export const MAX_SYMBOLS = 32
/** A `symbols` query parameter, REST and push alike: comma-separated bases, any case, such as `kzt,UZS`. */
export const SymbolListSchema = z.string()
  .transform((s) => s.split(',').map((x) => x.trim().toUpperCase()).filter((x) => x !== ''))
  .pipe(z.array(CurrencySchema).min(1, 'expected a comma-separated list such as KZT,UZS').max(MAX_SYMBOLS))

export const BasisSchema = z.enum(['official', 'consensus']).meta({ id: 'Basis' })
export const CadenceSchema = z.enum(['daily', 'weekly', 'peg']).meta({ id: 'Cadence' })
export type Basis = z.infer<typeof BasisSchema>
export type Cadence = z.infer<typeof CadenceSchema>

/** Change since the previous fixing, in the pair's own direction; null when no earlier fixing is known. */
export const ChangeSchema = z.object({
  pct: z.number(),
  abs: z.number(),
  prevPrice: z.number().positive(),
  prevDate: IsoDateSchema
}).nullable().meta({ id: 'Change' })
export type Change = z.infer<typeof ChangeSchema>

/** One observation the reconciler weighed for a rate. */
export const SourceVoteSchema = z.object({
  id: SourceIdSchema,
  inverse: z.number().positive(),
  date: IsoDateSchema,
  used: z.boolean(),
  reason: z.string().optional()
}).meta({ id: 'SourceVote' })
export type SourceVote = z.infer<typeof SourceVoteSchema>

/** The published rate of one currency: `price` is QUOTE per 1 BASE, `inverse` BASE per 1 QUOTE. */
export const RateSchema = z.object({
  pair: z.string().regex(/^[A-Z]{3}\/[A-Z]{3}$/),
  base: CurrencySchema,
  quote: CurrencySchema,
  price: z.number().positive(),
  inverse: z.number().positive(),
  date: IsoDateSchema,
  basis: BasisSchema,
  cadence: CadenceSchema,
  nextExpectedAt: TimestampSchema.nullable(),
  change: ChangeSchema,
  stale: z.boolean(),
  observedAt: TimestampSchema,
  sources: z.array(SourceVoteSchema)
}).meta({ id: 'Rate' })
export type Rate = z.infer<typeof RateSchema>

// Snapshot, Fixing and Quote declare fields shaped like Rate's on purpose: each is its own contract (and
// OpenAPI component) with its own key order on the wire, so none is derived from another.

/** The set of rates under one monotonically increasing `seq`. */
export const SnapshotSchema = z.object({
  quote: CurrencySchema,
  seq: z.number().int().nonnegative(),
  updatedAt: TimestampSchema,
  rates: z.array(RateSchema)
}).meta({ id: 'Snapshot' })
export type Snapshot = z.infer<typeof SnapshotSchema>

/** The reconciled rate of one value date, kept as daily history. */
export const FixingSchema = z.object({
  date: IsoDateSchema,
  price: z.number().positive(),
  inverse: z.number().positive(),
  basis: BasisSchema,
  /** The sources whose values made this fixing (`peg` for a peg nobody confirmed); empty for one kept from before sources were recorded. */
  sources: z.array(SourceIdSchema).default([])
}).meta({ id: 'Fixing' })
export type Fixing = z.infer<typeof FixingSchema>

/** What a source adapter yields: BASE units per 1 USD on a value date taken from the payload. */
export const QuoteSchema = z.object({
  base: CurrencySchema,
  inverse: z.number().positive().finite(),
  date: IsoDateSchema,
  /** Relative quantisation error of `inverse` (half a unit of the last published digit, summed over a cross). */
  relErr: z.number().nonnegative().finite(),
  cadence: z.enum(['daily', 'weekly'])
})
export type Quote = z.infer<typeof QuoteSchema>

/** A quote stamped with the source that gave it and when it was first seen with this value. */
export const ObservationSchema = QuoteSchema.extend({
  source: SourceIdSchema,
  fetchedAt: TimestampSchema
})
export type Observation = z.infer<typeof ObservationSchema>

export function pairOf (base: string, quote: string): string {
  return `${base}/${quote}`
}
