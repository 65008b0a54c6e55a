import { z } from 'zod'
import { RatesError } from '../domain/errors.js'
import { CurrencySchema } from '../domain/rate.js'
import type { Quote } from '../domain/rate.js'
import { collectQuotes, isEmittable, quoteOf } from './checks.js'
import { crossViaPivot, parseDecimal, parseNominal } from './number.js'
import type { PivotQuote } from './number.js'

/** A currency code as the banks' tables print it: padded or lower-case is still the code. */
export const PrintedCodeSchema = z.string().transform((s) => s.trim().toUpperCase()).pipe(CurrencySchema)

/** One row of a central bank's table as published: `value` pivot units per `nominal` units of `code`. */
export interface PivotRow {
  code: string
  value: string
  nominal: string
}

export interface CrossOptions {
  /** The bank's own currency, emitted as the USD row's value. */
  pivot: string
  date: string
  cadence: Quote['cadence']
  /** Digits of a fixed-dp format that strips trailing zeros; undefined means count the published digits. */
  decimals?: number
}

export function parsePivotRow (id: string, row: PivotRow, decimals?: number): PivotQuote {
  return {
    ...parseDecimal(id, `${row.code} value`, row.value, decimals),
    nominal: parseNominal(id, `${row.code} nominal`, row.nominal)
  }
}

/** The USD row, which every cross goes through: missing, unusable or absurd, nothing can be quoted. */
export function usdPivot (id: string, rows: readonly PivotRow[], decimals?: number): PivotQuote {
  const row = rows.find((r) => r.code === 'USD')
  if (row === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${id}: no USD row to cross through`, 502)
  const usd = parsePivotRow(id, row, decimals)
  if (!isEmittable(usd.value / usd.nominal, usd.relErr)) {
    throw new RatesError('RATES_SOURCE_PARSE', `${id}: USD value ${JSON.stringify(row.value)} per ${usd.nominal} is out of any plausible range`, 502)
  }
  return usd
}

/** The pivot's own quote: pivot units per 1 USD. */
export function pivotQuote (usd: PivotQuote, { pivot, date, cadence }: CrossOptions): Quote {
  return { base: pivot, inverse: usd.value / usd.nominal, date, relErr: usd.relErr, cadence }
}

/**
 * Units per USD of every other row, crossed through `usd`. A row that does not parse, or whose cross is
 * out of any plausible range, is skipped (one bad currency must not sink the table); the first usable
 * row of a code wins.
 */
export function crossRows (id: string, usd: PivotQuote, rows: readonly PivotRow[], opts: CrossOptions): Quote[] {
  return collectQuotes(rows.map((row) => [row.code, row] as const), (code, row) =>
    quoteOf(code, crossViaPivot(usd, parsePivotRow(id, row, opts.decimals)), opts.date, opts.cadence), ['USD', opts.pivot])
}
