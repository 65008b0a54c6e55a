import { toDmy } from '../domain/dates.js'
import type { SourceId } from '../domain/sources.js'
import { ARCHIVE_ANCHOR, ARCHIVE_BASES, previousCbrDate } from './archive-rate.js'
import { shiftDates } from './shift.js'

/** Units per USD of a base on a date, as the archive's payloads must carry it. */
export type RateOn = (base: string, date: string) => number

/** The recorded payload of the anchor day each archive answer is a variant of, and how it is served. */
export const ARCHIVE_TEMPLATES: Readonly<Partial<Record<SourceId, { file: string, type: string }>>> = {
  nbk: { file: `nbk/get_rates-${toDmy(ARCHIVE_ANCHOR)}.xml`, type: 'text/xml; charset=UTF-8' },
  cbu: { file: `cbu/all-${ARCHIVE_ANCHOR}.json`, type: 'application/json' },
  nbt: { file: `nbt/export-${ARCHIVE_ANCHOR}.xml`, type: 'text/xml;charset=UTF-8' },
  cbt: { file: `cbt/${toDmy(ARCHIVE_ANCHOR, '')}.xml`, type: 'text/xml' },
  cbr: { file: `cbr/XML_daily-${toDmy(ARCHIVE_ANCHOR)}.xml`, type: 'text/xml; charset=windows-1251' },
  'cbr-xml-daily': { file: `cbr-xml-daily/daily_json-${ARCHIVE_ANCHOR}.js`, type: 'application/javascript' },
  frankfurter: { file: `frankfurter/rates-USD-${ARCHIVE_ANCHOR}.json`, type: 'application/json' },
  fawazahmed0: { file: `fawazahmed0/usd-${ARCHIVE_ANCHOR}.json`, type: 'application/json; charset=utf-8' }
}

const MOVED = new Set<string>(ARCHIVE_BASES)

/** Fixed decimals with trailing zeros stripped, as NBK, CBT's rate_tmt and JSON numbers print them. */
const stripped = (value: number, decimals: number): string => String(Number(value.toFixed(decimals)))
const decimalsOf = (printed: string): number => printed.split('.')[1]?.length ?? 0

/**
 * A pivot bank's value of `code`: `pivot` units per `nominal` units, or undefined for a row the archive
 * does not move (it keeps its recorded value).
 */
function pivotValue (rate: (base: string) => number, pivot: string, code: string, nominal: string): number | undefined {
  if (code === 'USD') return rate(pivot)
  return MOVED.has(code) ? rate(pivot) / rate(code) * Number(nominal) : undefined
}

type Render = (text: string, rate: (base: string) => number, date: string, rateOn: RateOn) => string

const RENDER: Readonly<Partial<Record<SourceId, Render>>> = {
  nbk: (text, rate) => text.replace(/(<title>([A-Z]{3})<\/title>\s*<description>)([^<]*)(<\/description>\s*<quant>(\d+)<\/quant>)/g,
    (m, head: string, code: string, _v: string, tail: string, quant: string) => {
      const value = pivotValue(rate, 'KZT', code, quant)
      return value === undefined ? m : `${head}${stripped(value, 2)}${tail}`
    }),
  cbu: (text, rate) => text.replace(/("Ccy":"([A-Z]{3})"[^}]*?"Nominal":"(\d+)","Rate":")([^"]*)"/g,
    (m, head: string, code: string, nominal: string) => {
      const value = pivotValue(rate, 'UZS', code, nominal)
      return value === undefined ? m : `${head}${value.toFixed(2)}"`
    }),
  nbt: (text, rate) => text.replace(/(<CharCode>([A-Z]{3})<\/CharCode>\s*<Nominal>(\d+)<\/Nominal>\s*<Name>[^<]*<\/Name>\s*<Value>)([^<]*)</g,
    (m, head: string, code: string, nominal: string) => {
      const value = pivotValue(rate, 'TJS', code, nominal)
      return value === undefined ? m : `${head}${value.toFixed(4)}<`
    }),
  cbt: (text, rate) => text.replace(/(<rate code="([A-Z]{3})">[^]*?<rate_usd>)([^<]*)(<\/rate_usd>[^]*?<multiplier>(\d+)<\/multiplier>\s*<rate_tmt>)([^<]*)</g,
    (m, head: string, code: string, usd: string, mid: string, multiplier: string) => {
      const tmt = pivotValue(rate, 'TMT', code, multiplier)
      if (tmt === undefined) return m
      const perUsd = code === 'USD' ? usd : rate(code).toFixed(Math.max(2, decimalsOf(usd)))
      return `${head}${perUsd}${mid}${stripped(tmt, 4)}<`
    }),
  // windows-1251 bytes are handled as latin1 text: the numbers and tags are ASCII
  cbr: (text, rate) => text.replace(/(<CharCode>([A-Z]{3})<\/CharCode><Nominal>(\d+)<\/Nominal><Name>[^<]*<\/Name><Value>)[^<]*(<\/Value><VunitRate>)[^<]*</g,
    (m, head: string, code: string, nominal: string, mid: string) => {
      const value = pivotValue(rate, 'RUB', code, nominal)
      if (value === undefined) return m
      const printed = value.toFixed(4)
      return `${head}${printed.replace('.', ',')}${mid}${String(Number((Number(printed) / Number(nominal)).toPrecision(10))).replace('.', ',')}<`
    }),
  'cbr-xml-daily': (text, rate, date, rateOn) => {
    const previous = previousCbrDate(date)
    return text
      .replace(/("PreviousDate": ")\d{4}-\d{2}-\d{2}/, `$1${previous}`)
      .replace(/(\\\/archive\\\/)\d{4}\\\/\d{2}\\\/\d{2}/, `$1${previous.replaceAll('-', '\\/')}`)
      .replace(/("CharCode": "([A-Z]{3})",\s*"Nominal": (\d+),[^}]*?"Value": )[\d.]+(,\s*"Previous": )[\d.]+/g,
        (m, head: string, code: string, nominal: string, mid: string) => {
          const value = pivotValue(rate, 'RUB', code, nominal)
          const before = pivotValue((base) => rateOn(base, previous), 'RUB', code, nominal)
          return value === undefined || before === undefined ? m : `${head}${stripped(value, 4)}${mid}${stripped(before, 4)}`
        })
  },
  frankfurter: (text, rate, date) => text.replace(/"date":"[^"]*"(,"base":"USD","quote":"([A-Z]{3})","rate":)[\d.]+/g,
    (m, mid: string, code: string) => MOVED.has(code) ? `"date":"${date}"${mid}${stripped(rate(code), 4)}` : m),
  fawazahmed0: (text, rate) => text.replace(/("([a-z]{3})":\s*)[\d.]+/g,
    (m, head: string, code: string) => MOVED.has(code.toUpperCase()) ? `${head}${stripped(rate(code.toUpperCase()), 8)}` : m)
}

/**
 * The payload `id`'s archive serves for value date `date`: the anchor day's recorded payload (its bytes
 * as `template`) with every date moved to `date` and the moved currencies' values set from `rateOn`,
 * in the source's own format (nominals, decimals, separators, encoding, key order).
 */
export function renderArchive (id: SourceId, template: Buffer, date: string, rateOn: RateOn): Buffer {
  const render = RENDER[id]
  if (render === undefined) throw new RangeError(`${id} has no archive`)
  const moved = shiftDates(template, daysBetween(ARCHIVE_ANCHOR, date)).toString('latin1')
  // multi-byte UTF-8 survives the latin1 round trip byte for byte; only ASCII is rewritten
  return Buffer.from(render(moved, (base) => rateOn(base, date), date, rateOn), 'latin1')
}

function daysBetween (from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)
}
