import { z } from 'zod'
import { fromDmy, toDmy } from '../domain/dates.js'
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
import { createXmlParser, parseXml, stripBom, xmlElement } from './xml.js'

export const NBK_ORIGIN = 'https://nationalbank.kz'
export const NBK_PATH = '/rss/get_rates.cfm'

const ID = 'nbk'
/** KZT per `quant` units is published with 2 decimals, trailing zeros stripped ("5.4", "3"). */
const DECIMALS = 2
const parser = createXmlParser(['item'])

const DocumentSchema = z.union([
  z.object({
    rates: xmlElement({
      date: z.string().optional(),
      item: z.array(z.unknown()).optional(),
      error: z.unknown().optional(),
      info: z.unknown().optional()
    })
  }),
  z.object({ rss: z.object({ channel: xmlElement({ item: z.array(z.unknown()).optional() }) }) })
])

const ItemSchema = z.object({
  title: PrintedCodeSchema,
  description: z.string().default(''),
  quant: z.string().default(''),
  pubDate: z.string().optional()
})

interface Item extends PivotRow {
  pubDate: string | undefined
}

/** DD.MM.YYYY, or the DD.MM.YY older RSS feeds used. */
function nbkDate (text: string): string | undefined {
  const short = /^\s*(\d{2})\.(\d{2})\.(\d{2})\s*$/.exec(text)
  return short === null ? fromDmy(text) : fromDmy(`${short[1]}.${short[2]}.20${short[3]}`)
}

function describe (value: unknown): string {
  return JSON.stringify(typeof value === 'string' ? value : value ?? '').slice(0, 120)
}

function readDocument (text: string): { items: Item[], rootDate: string | undefined } {
  // A bad or missing fdate is answered with a JSON body, not XML.
  if (/^\s*[{[]/.test(stripBom(text))) {
    const body = parseJson(ID, text) as { message?: unknown } | null // JSON garbage throws PARSE itself
    throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected XML, got a JSON body: ${describe(body?.message ?? body)}`, 502)
  }
  const doc = DocumentSchema.safeParse(parseXml(ID, text, parser))
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected <rates> or <rss><channel>`, 502)
  const root = 'rates' in doc.data ? doc.data.rates : doc.data.rss.channel
  let rootDate: string | undefined
  if ('rates' in doc.data) {
    const rates = doc.data.rates
    if (rates.error !== undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: upstream said ${describe(rates.error)}`, 502)
    if (rates.date !== undefined) {
      rootDate = nbkDate(rates.date)
      if (rootDate === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: date ${describe(rates.date)} is not DD.MM.YYYY`, 502)
    }
    if ((rates.item ?? []).length === 0 && rates.info !== undefined) {
      throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no rates, upstream said ${describe(rates.info)}`, 502)
    }
  }
  const items: Item[] = []
  for (const raw of root.item ?? []) {
    const item = ItemSchema.safeParse(raw)
    if (item.success) {
      items.push({ code: item.data.title, value: item.data.description, nominal: item.data.quant, pubDate: item.data.pubDate })
    }
  }
  return { items, rootDate }
}

/**
 * Parses get_rates.cfm (`<rates>` with one `<date>`) or the RSS rates_all.xml (`rss/channel/item`
 * with a `pubDate` per item): KZT per `quant` units, crossed through USD. The value date is the USD
 * item's pubDate, else the document's `<date>`; items dated otherwise are skipped. A payload dated
 * after `asked`, or out of the value-date window, throws RATES_SOURCE_DATE. An `<error>` envelope is a PARSE error (the request was
 * wrong); a well-formed document without items, or with only an `<info>` notice, is EMPTY.
 */
export function parseNbk (text: string, options: ParseOptions): Quote[] {
  const { asked } = options
  const now = clockOf(options)
  const { items, rootDate } = readDocument(text)
  if (items.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no <item> rates`, 502)
  const usdItem = items.find((i) => i.code === 'USD')
  if (usdItem === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: no USD row to cross through`, 502)
  const date = usdItem.pubDate === undefined ? rootDate : nbkDate(usdItem.pubDate)
  if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: no valid value date for USD`, 502)
  rejectLaterDate(ID, date, asked)
  checkValueDate(ID, date, now)
  const rows = items.filter((i) => i.pubDate === undefined || nbkDate(i.pubDate) === date)
  const usd = usdPivot(ID, rows, DECIMALS)
  const opts = { pivot: 'KZT', date, cadence: 'daily', decimals: DECIMALS } as const
  return emit(ID, [pivotQuote(usd, opts), ...crossRows(ID, usd, rows, opts)], now)
}

/** NBK get_rates.cfm for an Almaty date, today's by default (the RSS feed cannot be asked for a date). */
export function createNbkSource (opts: SourceOptions = {}): DatedSource {
  const origin = opts.origin ?? NBK_ORIGIN
  return createDatedSource(ID, (date) => joinUrl(origin, `${NBK_PATH}?fdate=${toDmy(date)}`), parseNbk)
}
