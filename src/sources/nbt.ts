import { z } from 'zod'
import { fromDmy, validIso } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { checkValueDate, clockOf, emit, rejectLaterDate } from './checks.js'
import type { ParseOptions } from './checks.js'
import { PrintedCodeSchema, crossRows, pivotQuote, usdPivot } from './pivot.js'
import type { PivotRow } from './pivot.js'
import { joinUrl } from './source.js'
import type { SourceOptions } from './source.js'
import { createDatedSource } from './url-source.js'
import type { DatedSource } from './url-source.js'
import { createXmlParser, parseXml, xmlElement } from './xml.js'

export const NBT_ORIGIN = 'https://www.nbt.tj'
export const NBT_PATH = '/en/kurs/export_xml.php'

const ID = 'nbt'
const parser = createXmlParser(['Valute'])

// The shape of NBKR's CurrencyRates under other names (both tables follow CBR's): each schema spells out
// its own bank's wire format, so that one bank changing its file touches one schema.
const DocumentSchema = z.object({
  ValCurs: xmlElement({ '@_Date': z.string(), Valute: z.array(z.unknown()).optional() })
})

// Keyed on CharCode: the numeric ID attribute has been wrong historically (810 for RUB).
const ValuteSchema = z.object({
  CharCode: PrintedCodeSchema,
  Nominal: z.string().default(''),
  Value: z.string().default('')
})

/**
 * Parses export_xml.php: `ValCurs/@Date` (YYYY-MM-DD; DD.MM.YYYY accepted too) and TJS per Nominal
 * units of each `Valute`, crossed through USD. NBT answers a date out of its range with its latest
 * snapshot, so the value date is always the payload's: earlier than `asked` is a carry-forward,
 * later (or out of the value-date window) throws RATES_SOURCE_DATE.
 */
export function parseNbt (text: string, options: ParseOptions): Quote[] {
  const { asked } = options
  const now = clockOf(options)
  const doc = DocumentSchema.safeParse(parseXml(ID, text, parser))
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected <ValCurs Date="YYYY-MM-DD">`, 502)
  const root = doc.data.ValCurs
  const date = validIso(root['@_Date']) ?? fromDmy(root['@_Date'])
  if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: ValCurs Date ${JSON.stringify(root['@_Date'])} is not a date`, 502)
  const rows: PivotRow[] = []
  for (const raw of root.Valute ?? []) {
    const v = ValuteSchema.safeParse(raw)
    if (v.success) rows.push({ code: v.data.CharCode, value: v.data.Value, nominal: v.data.Nominal })
  }
  if (rows.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no <Valute> rates for ${date}`, 502)
  rejectLaterDate(ID, date, asked)
  checkValueDate(ID, date, now)
  const usd = usdPivot(ID, rows)
  const opts = { pivot: 'TJS', date, cadence: 'daily' } as const
  return emit(ID, [pivotQuote(usd, opts), ...crossRows(ID, usd, rows, opts)], now)
}

/** NBT export_xml.php (English variant, UTF-8) for a Dushanbe date, today's by default. */
export function createNbtSource (opts: SourceOptions = {}): DatedSource {
  const origin = opts.origin ?? NBT_ORIGIN
  return createDatedSource(ID, (date) => joinUrl(origin, `${NBT_PATH}?date=${date}&export=xmlout`), parseNbt)
}
