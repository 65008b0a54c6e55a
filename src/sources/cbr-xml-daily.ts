import { z } from 'zod'
import { validIso } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { checkValueDate, clockOf, collectQuotes, emit, isEmittable, quoteOf, rejectLaterDate } from './checks.js'
import type { ParseOptions } from './checks.js'
import { parseJson } from './json.js'
import { parseDecimal } from './number.js'
import { crossRows, pivotQuote, usdPivot } from './pivot.js'
import type { PivotRow } from './pivot.js'
import { joinUrl } from './source.js'
import type { SourceOptions } from './source.js'
import { createDatedSource } from './url-source.js'
import type { DatedSource } from './url-source.js'

export const CBR_XML_DAILY_ORIGIN = 'https://www.cbr-xml-daily.ru'
export const CBR_XML_DAILY_PATH = '/daily_json.js'

const ID = 'cbr-xml-daily'
/** CBR publishes Value with 4 decimals; JSON numbers drop the trailing zeros. */
const VALUE_DECIMALS = 4
const CODE = /^[A-Z]{3}$/

const DailySchema = z.object({
  Date: z.string(),
  PreviousDate: z.string().optional(),
  Valute: z.record(z.string(), z.unknown())
})

const ValuteSchema = z.object({
  CharCode: z.string().optional(),
  Nominal: z.unknown(),
  Value: z.unknown(),
  Previous: z.unknown().optional()
})

const LatestSchema = z.object({
  date: z.string(),
  base: z.string(),
  rates: z.record(z.string(), z.unknown())
})

/**
 * Parses daily_json.js: RUB per Nominal (Value), crossed through USD; the value date is Date's calendar
 * date. Every parser here throws RATES_SOURCE_DATE for a date out of the value-date window, and this one
 * for a payload dated after the `asked` date of an archive request.
 */
export function parseCbrXmlDaily (text: string, options: ParseOptions): Quote[] {
  const now = clockOf(options)
  const doc = readDaily(text)
  const date = dateOf('Date', doc.Date, now)
  rejectLaterDate(ID, date, options.asked)
  return crossDaily(doc.Valute, 'Value', date, now)
}

/** The previous fixing carried in the same payload (Previous fields, dated PreviousDate). */
export function parseCbrXmlDailyPrevious (text: string, { now }: ParseOptions): Quote[] {
  const doc = readDaily(text)
  if (doc.PreviousDate === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: no PreviousDate`, 502)
  return crossDaily(doc.Valute, 'Previous', dateOf('PreviousDate', doc.PreviousDate, now), now)
}

/** Parses latest.js: units per 1 RUB (Nominal/Value, 9 significant digits), so X per USD = rates[X] / rates[USD]. */
export function parseCbrXmlDailyLatest (text: string, { now }: ParseOptions): Quote[] {
  const doc = LatestSchema.safeParse(parseJson(ID, text))
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected {date, base, rates} in latest.js`, 502)
  if (doc.data.base !== 'RUB') throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected base RUB, got ${JSON.stringify(doc.data.base)}`, 502)
  const date = validIso(doc.data.date)
  if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: date ${JSON.stringify(doc.data.date)} is not YYYY-MM-DD`, 502)
  checkValueDate(ID, date, now)
  const entries = Object.entries(doc.data.rates)
  if (entries.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no rates for ${date}`, 502)
  const usdRaw = doc.data.rates.USD
  if (usdRaw === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: no USD rate to cross through`, 502)
  const usd = parseDecimal(ID, 'USD rate', usdRaw)
  if (!isEmittable(1 / usd.value, usd.relErr)) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: USD rate ${JSON.stringify(usdRaw)} is out of any plausible range`, 502)
  const others = collectQuotes(entries.filter(([code]) => CODE.test(code)), (code, raw) => {
    const x = parseDecimal(ID, `${code} rate`, raw)
    return quoteOf(code, { value: x.value / usd.value, relErr: x.relErr + usd.relErr }, date)
  }, ['USD', 'RUB'])
  return emit(ID, [quoteOf('RUB', { value: 1 / usd.value, relErr: usd.relErr }, date), ...others], now)
}

function readDaily (text: string): z.infer<typeof DailySchema> {
  const doc = DailySchema.safeParse(parseJson(ID, text))
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected {Date, Valute} in daily_json.js`, 502)
  return doc.data
}

/** "2025-11-26T11:30:00+03:00" is a Moscow time stamp: its calendar date is the value date. */
function dateOf (field: string, stamp: string, now: Date): string {
  const date = /^\d{4}-\d{2}-\d{2}(?=T|$)/.exec(stamp.trim())
  const iso = date === null ? undefined : validIso(date[0])
  if (iso === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: ${field} ${JSON.stringify(stamp)} is not an ISO date`, 502)
  return checkValueDate(ID, iso, now)
}

function crossDaily (valutes: Record<string, unknown>, field: 'Value' | 'Previous', date: string, now: Date): Quote[] {
  const rows: PivotRow[] = []
  for (const [key, raw] of Object.entries(valutes)) {
    const row = ValuteSchema.safeParse(raw)
    if (!row.success) continue
    const code = row.data.CharCode ?? key
    if (CODE.test(code)) rows.push({ code, value: printed(row.data[field]), nominal: printed(row.data.Nominal) })
  }
  if (rows.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no rates for ${date}`, 502)
  const usd = usdPivot(ID, rows, VALUE_DECIMALS)
  const opts = { pivot: 'RUB', date, cadence: 'daily', decimals: VALUE_DECIMALS } as const
  return emit(ID, [pivotQuote(usd, opts), ...crossRows(ID, usd, rows, opts)], now)
}

/** JSON numbers as printed; anything else becomes text that fails number parsing. */
function printed (raw: unknown): string {
  return typeof raw === 'number' || typeof raw === 'string' ? String(raw) : JSON.stringify(raw) ?? ''
}

/**
 * cbr-xml-daily.ru daily_json.js: the Bank of Russia set as JSON, for when cbr.ru is blocked. The archive
 * holds one file per CBR value date and answers 404 for the days without a set.
 */
export function createCbrXmlDailySource (opts: SourceOptions = {}): DatedSource {
  const origin = opts.origin ?? CBR_XML_DAILY_ORIGIN
  const archiveUrl = (date: string): string => joinUrl(origin, `/archive/${date.replaceAll('-', '/')}/daily_json.js`)
  return createDatedSource(ID, archiveUrl, parseCbrXmlDaily, { latestUrl: joinUrl(origin, CBR_XML_DAILY_PATH) })
}
