import { z } from 'zod'
import { fromDmy } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { parseJson } from './json.js'
import { checkValueDate, clockOf, emit, rejectLaterDate } from './checks.js'
import type { ParseOptions } from './checks.js'
import { PrintedCodeSchema, crossRows, pivotQuote, usdPivot } from './pivot.js'
import type { PivotRow } from './pivot.js'
import { joinUrl } from './source.js'
import type { SourceOptions } from './source.js'
import { createDatedSource } from './url-source.js'
import type { DatedSource } from './url-source.js'

export const CBU_ORIGIN = 'https://cbu.uz'
export const CBU_PATH = '/en/arkhiv-kursov-valyut/json/all/'

const ID = 'cbu'
/** UZS per Nominal is always published with 2 decimals; counted explicitly in case zeros get stripped. */
const DECIMALS = 2

const EntrySchema = z.object({
  Ccy: PrintedCodeSchema,
  Nominal: z.union([z.string(), z.number()]).default(''),
  Rate: z.union([z.string(), z.number()]).default(''),
  Date: z.string()
})

interface Entry extends PivotRow {
  date: string | undefined
}

/**
 * Parses the CBU JSON array (string fields; `Rate` UZS per `Nominal` units, `Date` DD.MM.YYYY per
 * entry). The value date is the USD entry's; entries with another date are skipped. `[]` is
 * RATES_SOURCE_EMPTY; a payload dated after `asked`, or out of the value-date window, throws
 * RATES_SOURCE_DATE.
 */
export function parseCbu (text: string, options: ParseOptions): Quote[] {
  const { asked } = options
  const now = clockOf(options)
  const body = parseJson(ID, text)
  if (!Array.isArray(body)) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected a JSON array of rates`, 502)
  if (body.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: empty array, no rates`, 502)
  const entries: Entry[] = []
  for (const raw of body) {
    const e = EntrySchema.safeParse(raw)
    if (e.success) entries.push({ code: e.data.Ccy, value: String(e.data.Rate), nominal: String(e.data.Nominal), date: fromDmy(e.data.Date) })
  }
  const usdEntry = entries.find((e) => e.code === 'USD')
  if (usdEntry === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: no USD entry to cross through`, 502)
  const date = usdEntry.date
  if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: USD Date is not DD.MM.YYYY`, 502)
  rejectLaterDate(ID, date, asked)
  checkValueDate(ID, date, now)
  const rows = entries.filter((e) => e.date === date)
  const usd = usdPivot(ID, rows, DECIMALS)
  const opts = { pivot: 'UZS', date, cadence: 'daily', decimals: DECIMALS } as const
  return emit(ID, [pivotQuote(usd, opts), ...crossRows(ID, usd, rows, opts)], now)
}

/**
 * CBU rates in force on a Tashkent date, today's by default. The dated URL is used because the undated
 * one only switches at local midnight; the value date still comes from the payload, since a holiday is
 * answered with the last rate in force.
 */
export function createCbuSource (opts: SourceOptions = {}): DatedSource {
  const origin = opts.origin ?? CBU_ORIGIN
  return createDatedSource(ID, (date) => joinUrl(origin, `${CBU_PATH}${date}/`), parseCbu)
}
