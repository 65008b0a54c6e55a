import { z } from 'zod'
import { fromDmy } from '../domain/dates.js'
import { RatesError, isRatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { checkValueDate, emit } from './checks.js'
import { fetchText } from './http.js'
import { PrintedCodeSchema, crossRows, pivotQuote, usdPivot } from './pivot.js'
import type { PivotRow } from './pivot.js'
import { joinUrl } from './source.js'
import type { SourceOptions } from './source.js'
import { nbkrHistoryPath, parseNbkrHistory } from './nbkr-history.js'
import type { RangeSource } from './url-source.js'
import { createXmlParser, parseXml, xmlElement } from './xml.js'

export const NBKR_ORIGIN = 'https://www.nbkr.kg'
export const NBKR_DAILY_PATH = '/XML/daily.xml'
export const NBKR_WEEKLY_PATH = '/XML/weekly.xml'

const ID = 'nbkr'
const parser = createXmlParser(['Currency'])

const DocumentSchema = z.object({
  CurrencyRates: xmlElement({ '@_Date': z.string(), Currency: z.array(z.unknown()).optional() })
})

const RowSchema = z.object({
  '@_ISOCode': PrintedCodeSchema,
  Nominal: z.string().default(''),
  Value: z.string().default('')
})

export interface NbkrParseOptions {
  now: Date
  /** weekly.xml, when it was fetched. */
  weekly?: string
}

interface Table {
  date: string
  rows: PivotRow[]
}

function parseTable (text: string, file: string, now: Date): Table {
  const doc = DocumentSchema.safeParse(parseXml(ID, text, parser))
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: ${file}: expected <CurrencyRates Date="DD.MM.YYYY">`, 502)
  const root = doc.data.CurrencyRates
  const date = fromDmy(root['@_Date'])
  if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: ${file}: Date ${JSON.stringify(root['@_Date'])} is not DD.MM.YYYY`, 502)
  checkValueDate(ID, date, now)
  const rows: PivotRow[] = []
  for (const raw of root.Currency ?? []) {
    const row = RowSchema.safeParse(raw)
    if (row.success) rows.push({ code: row.data['@_ISOCode'], value: row.data.Value, nominal: row.data.Nominal })
  }
  return { date, rows }
}

/**
 * Parses daily.xml (USD, EUR, CNY, KZT, RUB: KGS per Nominal units, decimal comma) and, when given,
 * weekly.xml (TJS, UZS, TMT and ~40 more, weekly cadence, dated by its own root Date). KGS is the
 * USD value; the weekly entries are crossed with the USD value of daily.xml, which weekly.xml lacks.
 * Currencies in both files are taken from daily.xml. Either file dated out of the value-date window
 * throws RATES_SOURCE_DATE.
 */
export function parseNbkr (daily: string, { now, weekly }: NbkrParseOptions): Quote[] {
  const d = parseTable(daily, 'daily.xml', now)
  if (d.rows.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: daily.xml of ${d.date} has no <Currency> rates`, 502)
  const usd = usdPivot(ID, d.rows)
  const dailyOpts = { pivot: 'KGS', date: d.date, cadence: 'daily' } as const
  const quotes = [pivotQuote(usd, dailyOpts), ...crossRows(ID, usd, d.rows, dailyOpts)]
  if (weekly === undefined) return emit(ID, quotes, now)
  const w = parseTable(weekly, 'weekly.xml', now)
  if (w.rows.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: weekly.xml of ${w.date} has no <Currency> rates`, 502)
  const fromDaily = new Set(quotes.map((q) => q.base))
  const weeklyRows = w.rows.filter((r) => !fromDaily.has(r.code))
  return emit(ID, [...quotes, ...crossRows(ID, usd, weeklyRows, { pivot: 'KGS', date: w.date, cadence: 'weekly' })], now)
}

/**
 * NBKR: daily.xml, then weekly.xml over the same keep-alive connection (NBKR drops clients that open
 * many TLS sessions). Both files hold only the latest publication, so nothing is dated by the request.
 * daily.xml carries KGS itself and every cross, so its failure fails the poll; a weekly.xml failure
 * only leaves out TJS/UZS/TMT, and the daily quotes are returned alone. Past KGS fixings come from the
 * history page of the dollar, up to a year of days in one request (nbkr-history.ts).
 */
export function createNbkrSource (opts: SourceOptions = {}): RangeSource {
  const origin = opts.origin ?? NBKR_ORIGIN
  const dailyUrl = joinUrl(origin, NBKR_DAILY_PATH)
  const weeklyUrl = joinUrl(origin, NBKR_WEEKLY_PATH)
  return {
    id: ID,
    async fetchRange (ctx, from, to) {
      const html = (await fetchText(ID, joinUrl(origin, nbkrHistoryPath(from, to)), ctx)).text
      return parseNbkrHistory(html, { now: ctx.now, from, to })
    },
    async fetchQuotes (ctx) {
      const daily = (await fetchText(ID, dailyUrl, ctx)).text
      const dailyQuotes = parseNbkr(daily, { now: ctx.now })
      try {
        const weekly = (await fetchText(ID, weeklyUrl, ctx)).text
        return parseNbkr(daily, { now: ctx.now, weekly })
      } catch (err) {
        if (isRatesError(err)) return dailyQuotes
        throw err // a programming error, not an upstream failure
      }
    }
  }
}
