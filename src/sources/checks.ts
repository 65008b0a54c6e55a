import { RatesError, isRatesError } from '../domain/errors.js'
import { isPlausibleInverse, valueDateProblem, zoneOfSource } from '../domain/plausible.js'
import type { Quote } from '../domain/rate.js'
import type { SourceId } from '../domain/sources.js'
import type { Decimal } from './number.js'

/** What every parser is told besides the payload. */
export interface ParseOptions {
  /** The poll's wall-clock time: value dates after tomorrow in the publisher's zone are refused. */
  now: Date
  /** The date a dated URL asked for, when there is one. */
  asked?: string
}

/**
 * The value-date rule every adapter applies: a date after tomorrow in the publisher's zone, or too old
 * to be a "latest" publication (domain/plausible.ts), throws RATES_SOURCE_DATE.
 */
export function checkValueDate (id: SourceId, date: string, now: Date): string {
  const problem = valueDateProblem(date, now, zoneOfSource(id))
  if (problem !== undefined) throw new RatesError('RATES_SOURCE_DATE', `${id}: value date ${problem}`, 502)
  return date
}

/**
 * The clock a payload's value date is judged by: the poll's, or, for a day asked from an archive, noon
 * UTC of that day when it is earlier. A publication of years ago is then "too old" only when it is too
 * old for the day it was asked for, while a date after the poll's clock stays in the future.
 */
export function clockOf ({ now, asked }: ParseOptions): Date {
  const day = asked === undefined ? Number.NaN : Date.parse(`${asked}T12:00:00Z`)
  return day < now.getTime() ? new Date(day) : now
}

/**
 * A payload dated after the date that was asked for is not a carry-forward but a wrong answer
 * (a clock or cache problem upstream); an earlier date is normal before publication and on holidays.
 */
export function rejectLaterDate (id: string, date: string, asked: string | undefined): void {
  if (asked !== undefined && date > asked) {
    throw new RatesError('RATES_SOURCE_DATE', `${id}: payload is dated ${date}, after the ${asked} that was asked for`, 502)
  }
}

/** A computed units-per-USD figure (direct, inverted or crossed) that may be emitted. */
export function isEmittable (value: number, relErr: number): boolean {
  return isPlausibleInverse(value) && Number.isFinite(relErr) && relErr >= 0
}

/**
 * The last gate of every parser, whatever its format: each quote's value date passes checkValueDate,
 * implausible values are dropped, and a payload left with nothing is RATES_SOURCE_EMPTY.
 */
export function emit (id: SourceId, quotes: readonly Quote[], now: Date): Quote[] {
  for (const date of new Set(quotes.map((q) => q.date))) checkValueDate(id, date, now)
  const kept = quotes.filter((q) => isEmittable(q.inverse, q.relErr))
  if (kept.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${id}: no usable rates`, 502)
  return kept
}

/** A units-per-USD quote of `code` as a parser computed it. */
export function quoteOf (code: string, d: Decimal, date: string, cadence: Quote['cadence'] = 'daily'): Quote {
  return { base: code, inverse: d.value, date, relErr: d.relErr, cadence }
}

/**
 * The row loop of every table: `toQuote` reads one row of a currency (undefined: not a rate to use).
 * A row that does not parse (RATES_SOURCE_PARSE, e.g. from parseDecimal) or whose value is out of any
 * plausible range is skipped, so one bad currency does not sink the table; the first usable row of a
 * code wins, and codes in `exclude` (the pivot, USD itself) are never read. Any other error, such as
 * a value date that condemns the payload, is the caller's.
 */
export function collectQuotes<T> (rows: Iterable<readonly [code: string, row: T]>, toQuote: (code: string, row: T) => Quote | undefined, exclude: Iterable<string> = ['USD']): Quote[] {
  const seen = new Set(exclude)
  const quotes: Quote[] = []
  for (const [code, row] of rows) {
    if (seen.has(code)) continue
    let quote: Quote | undefined
    try {
      quote = toQuote(code, row)
    } catch (err) {
      if (isRatesError(err, 'RATES_SOURCE_PARSE')) continue
      throw err
    }
    if (quote === undefined || !isEmittable(quote.inverse, quote.relErr)) continue
    seen.add(code)
    quotes.push(quote)
  }
  return quotes
}
