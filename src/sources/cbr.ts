import { z } from 'zod'
import { fromDmy } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { fetchText } from './http.js'
import { crossViaPivot, parseDecimal, parseNominal } from './number.js'
import type { PivotQuote } from './number.js'
import { joinUrl } from './source.js'
import type { Source, SourceOptions } from './source.js'
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
type Valute = z.infer<typeof ValuteSchema>

/**
 * Parses XML_daily.asp (already decoded from windows-1251): RUB per Nominal units of each currency,
 * crossed through the USD row into units per USD. RUB itself is emitted as the USD row's value.
 */
export function parseCbr (text: string): Quote[] {
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

  const rows = new Map<string, Valute>()
  for (const raw of root.Valute ?? []) {
    const row = ValuteSchema.safeParse(raw)
    if (row.success && !rows.has(row.data.CharCode)) rows.set(row.data.CharCode, row.data)
  }
  if (rows.size === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no <Valute> rates for ${date}`, 502)

  const usdRow = rows.get('USD')
  if (usdRow === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: no USD row to cross through`, 502)
  const usd = pivotQuote(usdRow) // throws: without USD nothing can be crossed
  const quotes: Quote[] = [{ base: 'RUB', inverse: usd.value / usd.nominal, date, relErr: usd.relErr, cadence: 'daily' }]
  for (const [code, row] of rows) {
    if (code === 'USD' || code === 'RUB') continue
    let x: PivotQuote
    try {
      x = pivotQuote(row)
    } catch {
      continue // one unusable row of a currency must not sink the rest
    }
    const cross = crossViaPivot(usd, x)
    quotes.push({ base: code, inverse: cross.value, date, relErr: cross.relErr, cadence: 'daily' })
  }
  return quotes
}

/**
 * RUB per `nominal` units. Value (4 dp per Nominal) is preferred: VunitRate is Value/Nominal with
 * trailing zeros trimmed and E-notation for tiny values, so it is only a fallback.
 */
function pivotQuote (row: Valute): PivotQuote {
  const field = `${row.CharCode} Value`
  if (row.Value !== undefined) {
    try {
      return { ...parseDecimal(ID, field, row.Value), nominal: parseNominal(ID, `${row.CharCode} Nominal`, row.Nominal) }
    } catch (err) {
      if (row.VunitRate === undefined) throw err
    }
  }
  if (row.VunitRate === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: ${row.CharCode} has neither Value nor VunitRate`, 502)
  return { ...parseDecimal(ID, `${row.CharCode} VunitRate`, row.VunitRate), nominal: 1 }
}

/** Bank of Russia XML_daily.asp: all five currencies via RUB, one request. */
export function createCbrSource (opts: SourceOptions = {}): Source {
  const url = joinUrl(opts.origin ?? CBR_ORIGIN, CBR_PATH)
  return {
    id: ID,
    async fetchQuotes (ctx) {
      const { text } = await fetchText(ID, url, ctx)
      return parseCbr(text)
    }
  }
}
