import { z } from 'zod'
import { validIso } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { checkValueDate, clockOf, collectQuotes, emit, quoteOf, rejectLaterDate } from './checks.js'
import type { ParseOptions } from './checks.js'
import { parseJson } from './json.js'
import { parseDecimal } from './number.js'
import { joinUrl } from './source.js'
import type { SourceOptions } from './source.js'
import { createDatedSource } from './url-source.js'
import type { DatedSource } from './url-source.js'

export const FAWAZAHMED0_ORIGIN = 'https://cdn.jsdelivr.net'
export const FAWAZAHMED0_PATH = '/npm/@fawazahmed0/currency-api@latest/v1/currencies/usd.json'
/** The package is published once a day under a version named after that UTC date. */
const datedPath = (date: string): string => FAWAZAHMED0_PATH.replace('@latest', `@${date}`)

const ID = 'fawazahmed0'

const UsdSchema = z.object({
  date: z.string(),
  usd: z.record(z.string(), z.unknown())
})

/**
 * Parses currencies/usd.json (tab-pretty or minified): lower-case keys, crypto tokens mixed in. Only
 * keys of exactly three letters are currency codes; `date` is the value date, refused with
 * RATES_SOURCE_DATE out of the value-date window or after the `asked` date of an archive request.
 */
export function parseFawazahmed0 (text: string, options: ParseOptions): Quote[] {
  const now = clockOf(options)
  const doc = UsdSchema.safeParse(parseJson(ID, text))
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected {date, usd: {...}}`, 502)
  const date = validIso(doc.data.date)
  if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: date ${JSON.stringify(doc.data.date)} is not YYYY-MM-DD`, 502)
  rejectLaterDate(ID, date, options.asked)
  checkValueDate(ID, date, now)
  const rows = Object.entries(doc.data.usd).filter(([key]) => /^[a-z]{3}$/.test(key)).map(([key, raw]) => [key.toUpperCase(), raw] as const)
  const quotes = collectQuotes(rows, (code, raw) => quoteOf(code, parseDecimal(ID, `${code} rate`, raw), date))
  if (quotes.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no rates for ${date}`, 502)
  return emit(ID, quotes, now)
}

/** fawazahmed0 currency-api on jsDelivr: opaque upstreams, a last-resort fill-in. */
export function createFawazahmed0Source (opts: SourceOptions = {}): DatedSource {
  const origin = opts.origin ?? FAWAZAHMED0_ORIGIN
  return createDatedSource(ID, (date) => joinUrl(origin, datedPath(date)), parseFawazahmed0, { latestUrl: joinUrl(origin, FAWAZAHMED0_PATH) })
}
