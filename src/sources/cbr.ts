import { z } from 'zod'
import { fromDmy, toDmy } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { checkValueDate, clockOf, emit, rejectLaterDate } from './checks.js'
import type { ParseOptions } from './checks.js'
import { crossRows, pivotQuote, usdPivot } from './pivot.js'
import type { PivotRow } from './pivot.js'
import { joinUrl } from './source.js'
import type { SourceOptions } from './source.js'
import { createDatedSource } from './url-source.js'
import type { DatedSource } from './url-source.js'
import { createXmlParser, looksLikeHtml, parseXml } from './xml.js'

export const CBR_ORIGIN = 'https://www.cbr.ru'
/** The bare URL: the latest established set, which may be dated tomorrow or on a Saturday. */
export const CBR_PATH = '/scripts/XML_daily.asp'

const ID = 'cbr'
const parser = createXmlParser(['Valute'])

const DocumentSchema = z.object({
  ValCurs: z.union([
    z.object({ '@_Date': z.string(), Valute: z.array(z.unknown()).optional() }),
    z.string()
  ])
})

const ValuteSchema = z.object({
  CharCode: z.string().regex(/^[A-Z]{3}$/),
  Nominal: z.string(),
  Value: z.string().optional(),
  VunitRate: z.string().optional()
})

/**
 * Parses XML_daily.asp (already decoded from windows-1251): RUB per Nominal units of each currency,
 * crossed through the USD row into units per USD. RUB itself is emitted as the USD row's value.
 * A date out of the value-date window (tomorrow's set is normal), or after the `asked` date of an
 * archive request, throws RATES_SOURCE_DATE.
 */
export function parseCbr (text: string, options: ParseOptions): Quote[] {
  const now = clockOf(options)
  if (looksLikeHtml(text)) {
    const what = /ddos-guard/i.test(text) ? 'the DDoS-Guard browser check' : 'an HTML page'
    throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected XML, got ${what}`, 502)
  }
  const doc = DocumentSchema.safeParse(parseXml(ID, text, parser))
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected <ValCurs Date="DD.MM.YYYY">`, 502)
  const root = doc.data.ValCurs
  // Bad query parameters are answered with <ValCurs>Error in parameters</ValCurs>.
  if (typeof root === 'string') throw new RatesError('RATES_SOURCE_PARSE', `${ID}: upstream said ${JSON.stringify(root)}`, 502)
  const date = fromDmy(root['@_Date'])
  if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: ValCurs Date ${JSON.stringify(root['@_Date'])} is not DD.MM.YYYY`, 502)
  rejectLaterDate(ID, date, options.asked)
  checkValueDate(ID, date, now)

  const rows: PivotRow[] = []
  for (const raw of root.Valute ?? []) {
    const row = ValuteSchema.safeParse(raw)
    if (!row.success) continue
    const { CharCode: code, Nominal: nominal, Value: value, VunitRate: unitRate } = row.data
    // Value (4 dp per Nominal) is the precise figure; VunitRate is Value/Nominal with trailing zeros
    // trimmed and E-notation for tiny values, so it only stands in when Value is absent.
    if (value !== undefined) rows.push({ code, value, nominal })
    else if (unitRate !== undefined) rows.push({ code, value: unitRate, nominal: '1' })
  }
  if (rows.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no <Valute> rates for ${date}`, 502)
  const usd = usdPivot(ID, rows)
  const opts = { pivot: 'RUB', date, cadence: 'daily' } as const
  return emit(ID, [pivotQuote(usd, opts), ...crossRows(ID, usd, rows, opts)], now)
}

/**
 * Bank of Russia XML_daily.asp: all five currencies via RUB, one request. The live poll reads the bare
 * URL (the latest set, possibly tomorrow's); `date_req` asks for the set in force on a Moscow date.
 */
export function createCbrSource (opts: SourceOptions = {}): DatedSource {
  const url = joinUrl(opts.origin ?? CBR_ORIGIN, CBR_PATH)
  return createDatedSource(ID, (date) => `${url}?date_req=${toDmy(date, '/')}`, parseCbr, { latestUrl: url })
}
