import { z } from 'zod'
import { fromDmy, toDmy, validIso } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { parseDecimal, parseNominal } from './number.js'
import type { Decimal } from './number.js'
import { checkValueDate, clockOf, collectQuotes, emit, isEmittable, quoteOf, rejectLaterDate } from './checks.js'
import type { ParseOptions } from './checks.js'
import { joinUrl } from './source.js'
import { PrintedCodeSchema } from './pivot.js'
import type { SourceOptions } from './source.js'
import { createDatedSource } from './url-source.js'
import type { DatedSource } from './url-source.js'
import { createXmlParser, parseXml, xmlElement } from './xml.js'

export const CBT_ORIGIN = 'https://cbt.tm'

const ID = 'cbt'
/** `rate_tmt` is published with 4 decimals, trailing zeros stripped ("3.5"). */
const TMT_DECIMALS = 4
/** Currencies whose `rate_usd` is USD per unit instead of units per USD. */
const USD_PER_UNIT = new Set(['EUR', 'GBP', 'AUD', 'XDR'])
/** Their names say so too: "ÝEWRO / ABŞ-NYŇ DOLLARY", "AWSTRALIÝA DOLLARY / ABŞ DOLL.". */
const PER_USD_NAME = /\/\s*AB[SŞ]/i
/** How far `rate_usd` may stray from the `rate_tmt` cross before its direction is doubted. */
const DIRECTION_TOLERANCE = 0.1
const parser = createXmlParser(['rate'])

const DocumentSchema = z.object({
  cbt_currency_rate: xmlElement({ date: z.string(), rate: z.array(z.unknown()).optional() })
})

const RateSchema = z.object({
  '@_code': PrintedCodeSchema,
  name: z.string().default(''),
  rate_usd: z.string().default(''),
  multiplier: z.string().default(''),
  rate_tmt: z.string().default('')
})
type Rate = z.infer<typeof RateSchema>

/** TMT per 1 unit from `rate_tmt` per `multiplier` units. */
function tmtPerUnit (row: Rate): Decimal {
  const d = parseDecimal(ID, `${row['@_code']} rate_tmt`, row.rate_tmt, TMT_DECIMALS)
  return { value: d.value / parseNominal(ID, `${row['@_code']} multiplier`, row.multiplier), relErr: d.relErr }
}

/**
 * Units per USD from `rate_usd`, inverting it where it is USD per unit. The direction comes from the
 * known list and the name; when the `rate_tmt` cross clearly contradicts it, the numbers win.
 */
function unitsPerUsd (row: Rate, usdTmt: number): Decimal {
  const rate = parseDecimal(ID, `${row['@_code']} rate_usd`, row.rate_usd)
  let inverted = USD_PER_UNIT.has(row['@_code']) || PER_USD_NAME.test(row.name.normalize('NFC'))
  let cross: number | undefined
  try {
    cross = usdTmt / tmtPerUnit(row).value
  } catch {
    // Without a usable rate_tmt there is nothing to check the direction against.
  }
  if (cross !== undefined) {
    const reference = cross
    const off = (v: number): number => Math.abs(Math.log(v / reference))
    const chosen = inverted ? 1 / rate.value : rate.value
    const other = inverted ? rate.value : 1 / rate.value
    if (off(chosen) > DIRECTION_TOLERANCE && off(other) <= DIRECTION_TOLERANCE) inverted = !inverted
  }
  return { value: inverted ? 1 / rate.value : rate.value, relErr: rate.relErr }
}

/**
 * Parses a CBT daily file: `<date>` (DD.MM.YYYY, or YYYY-MM-DD in 2020–2023 files); TMT from the USD
 * row's `rate_tmt` (the 3.50 peg); every other currency directly from `rate_usd`, which carries more
 * digits than the `rate_tmt` cross. A payload dated after `asked`, or out of the value-date window,
 * throws RATES_SOURCE_DATE; a value out of any plausible range is skipped (TMT's own fails the payload).
 */
export function parseCbt (text: string, options: ParseOptions): Quote[] {
  const { asked } = options
  const now = clockOf(options)
  const doc = DocumentSchema.safeParse(parseXml(ID, text, parser))
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected <cbt_currency_rate> with a <date>`, 502)
  const root = doc.data.cbt_currency_rate
  const date = fromDmy(root.date) ?? validIso(root.date)
  if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: date ${JSON.stringify(root.date)} is not a date`, 502)
  const rows: Rate[] = []
  for (const raw of root.rate ?? []) {
    const row = RateSchema.safeParse(raw)
    if (row.success) rows.push(row.data)
  }
  if (rows.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no <rate> entries for ${date}`, 502)
  rejectLaterDate(ID, date, asked)
  checkValueDate(ID, date, now)
  const usdRow = rows.find((r) => r['@_code'] === 'USD')
  if (usdRow === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: no USD rate`, 502)
  const tmt = tmtPerUnit(usdRow)
  if (!isEmittable(tmt.value, tmt.relErr)) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: USD rate_tmt ${JSON.stringify(usdRow.rate_tmt)} is out of any plausible range`, 502)
  const others = collectQuotes(rows.map((row) => [row['@_code'], row] as const), (code, row) =>
    quoteOf(code, unitsPerUsd(row, tmt.value), date), ['USD', 'TMT'])
  return emit(ID, [quoteOf('TMT', tmt, date), ...others], now)
}

/**
 * CBT's file for an Ashgabat date, today's by default. Sundays (and days not yet published) answer 404,
 * so the previous day's file is tried once; any other failure, or a second 404, is the fetch's error.
 */
export function createCbtSource (opts: SourceOptions = {}): DatedSource {
  const origin = opts.origin ?? CBT_ORIGIN
  const fileUrl = (date: string): string => joinUrl(origin, `/kurs/${date.slice(0, 4)}/${toDmy(date, '')}.xml`)
  return createDatedSource(ID, fileUrl, parseCbt, { stepBackOn404: 1 })
}
