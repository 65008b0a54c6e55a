import type { SourceId } from '../../src/domain/sources.js'

// Edits of recorded payloads in each upstream's own wire format: the value faults, duplicates and jumps of
// the fault matrix are written into the bytes a source would really serve, so they go through the same
// HTTP, decoding and parsing path as live data. Texts are latin1 views of the bytes (the edited parts are
// ASCII), so windows-1251 and UTF-8 payloads survive unchanged around the edit.

interface Format {
  /** One currency's entry (global regex). */
  entry: (code: string) => RegExp
  /** The value fields of an entry: prefix, number, suffix. */
  fields: RegExp[]
  /** Decimal comma instead of a dot. */
  comma?: boolean
  /** How entries are separated, for inserting a duplicate. */
  separator: string
  /** The edits that move all five currencies by `f` units per USD: entry, factor, and which field (all when absent). */
  jump: (f: number) => Array<{ code: string, factor: number, field?: number }>
  /** The entry the value faults poison: the pivot's USD quote where there is one, so every cross is hit. */
  poison: string
  /** A quoted currency whose entry gets duplicated. */
  duplicate: string
}

const FIVE = ['KGS', 'KZT', 'TJS', 'UZS', 'TMT']
const xml = (name: string): RegExp => new RegExp(`(<${name}>)([^<]*)(</${name}>)`)
const json = (name: string): RegExp => new RegExp(`("${name}"\\s*:\\s*)([^,}\\s]+)()`)
const valute = (c: string): RegExp => new RegExp(`<Valute\\b(?:(?!<Valute\\b)[\\s\\S])*?<CharCode>${c}</CharCode>[\\s\\S]*?</Valute>`, 'g')
const keyed = (c: string): RegExp => new RegExp(`"${c}":\\s*[^,}\\s]+`, 'g')
const pivotIsOneOfFive = (f: number): Array<{ code: string, factor: number }> => [{ code: 'USD', factor: f }]
const rubPivot = (f: number): Array<{ code: string, factor: number }> => FIVE.map((code) => ({ code, factor: 1 / f }))
const usdBase = (f: number): Array<{ code: string, factor: number }> => FIVE.map((code) => ({ code, factor: f }))

export const FORMATS: Record<SourceId, Format> = {
  nbkr: { entry: (c) => new RegExp(`<Currency ISOCode="${c}">[\\s\\S]*?</Currency>`, 'g'), fields: [xml('Value')], comma: true, separator: '\n', jump: pivotIsOneOfFive, poison: 'USD', duplicate: 'KZT' },
  nbk: { entry: (c) => new RegExp(`<item>(?:(?!<item>)[\\s\\S])*?<title>${c}</title>[\\s\\S]*?</item>`, 'g'), fields: [xml('description')], separator: '\n', jump: pivotIsOneOfFive, poison: 'USD', duplicate: 'UZS' },
  cbu: { entry: (c) => new RegExp(`\\{[^{}]*"Ccy":"${c}"[^{}]*\\}`, 'g'), fields: [/("Rate":")([^"]*)(")/], separator: ',', jump: pivotIsOneOfFive, poison: 'USD', duplicate: 'KZT' },
  nbt: { entry: valute, fields: [xml('Value')], separator: '\n', jump: pivotIsOneOfFive, poison: 'USD', duplicate: 'KZT' },
  cbt: {
    entry: (c) => new RegExp(`<rate code="${c}">[\\s\\S]*?</rate>`, 'g'),
    fields: [xml('rate_usd'), xml('rate_tmt')],
    separator: '\r\n\t',
    // TMT is the pivot: USD costs f times more manat, the others f times more per USD, their manat price stays
    jump: (f) => [{ code: 'USD', factor: f, field: 1 }, ...FIVE.filter((c) => c !== 'TMT').map((code) => ({ code, factor: f, field: 0 }))],
    poison: 'USD',
    duplicate: 'KZT'
  },
  cbr: { entry: valute, fields: [xml('Value'), xml('VunitRate')], comma: true, separator: '', jump: rubPivot, poison: 'USD', duplicate: 'KZT' },
  'cbr-xml-daily': { entry: (c) => new RegExp(`"${c}":\\s*\\{[^{}]*\\}`, 'g'), fields: [json('Value'), json('Previous')], separator: ',\n', jump: rubPivot, poison: 'USD', duplicate: 'KZT' },
  'open-er-api': { entry: keyed, fields: [/(:\s*)([^,}\s]+)()/], separator: ',', jump: usdBase, poison: 'KZT', duplicate: 'KZT' },
  fawazahmed0: { entry: (c) => keyed(c.toLowerCase()), fields: [/(:\s*)([^,}\s]+)()/], separator: ',', jump: usdBase, poison: 'KZT', duplicate: 'KZT' },
  frankfurter: { entry: (c) => new RegExp(`\\{[^{}]*"quote":"${c}"[^{}]*\\}`, 'g'), fields: [json('rate')], separator: ',', jump: usdBase, poison: 'KZT', duplicate: 'KZT' }
}

/** Rewrites the value fields (all, or the one at `only`) of every entry of `code`. */
function editValues (text: string, id: SourceId, code: string, edit: (raw: string) => string, only?: number): string {
  const format = FORMATS[id]
  return text.replace(format.entry(code), (entry) => format.fields.reduce((e, field, i) =>
    only === undefined || only === i ? e.replace(field, (_m, pre: string, raw: string, post: string) => `${pre}${edit(raw)}${post}`) : e, entry))
}

/** `raw` times `factor`, written with as many decimals as the feed used (more when that would lose the value). */
function scaled (raw: string, factor: number, comma: boolean): string {
  const n = Number(raw.replace(',', '.')) * factor
  const decimals = /[.,](\d+)/.exec(raw)?.[1]?.length ?? 0
  let out = n.toFixed(decimals)
  if (Math.abs(Number(out) - n) / n > 1e-3) out = String(Number(n.toPrecision(8)))
  return comma ? out.replace('.', ',') : out
}

/** A value fault: `token` (e.g. `0`, `NaN`, `1E-320`) in place of the poisoned entry's numbers; `-` negates them. */
export function poison (text: string, id: SourceId, token: string): string {
  const comma = FORMATS[id].comma === true
  return editValues(text, id, FORMATS[id].poison, (raw) => {
    const out = token === '-' ? `-${raw}` : token
    return comma ? out.replace('.', ',') : out
  })
}

/** All five currencies `f` times as many units per USD, consistently within the payload. */
export function jump (text: string, id: SourceId, f: number): string {
  const comma = FORMATS[id].comma === true
  return FORMATS[id].jump(f).reduce((t, { code, factor, field }) => editValues(t, id, code, (raw) => scaled(raw, factor, comma), field), text)
}

/** The duplicated currency listed a second time, 5 % away from the first. */
export function duplicate (text: string, id: SourceId): string {
  const format = FORMATS[id]
  const code = format.duplicate
  const re = new RegExp(format.entry(code).source)
  return text.replace(re, (entry) => `${entry}${format.separator}${editValues(entry, id, code, (raw) => scaled(raw, 1.05, format.comma === true))}`)
}

/**
 * Rewrites every value date a payload carries (ISO dates, DD.MM.YYYY and DD/MM/YYYY, Unix timestamps)
 * through `move`. Digit look-arounds rather than \b, so `2025-11-26T11:30:00` is a date too.
 */
export function mapDates (text: string, move: (iso: string) => string): string {
  return text
    .replace(/(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/g, (_m, y: string, mo: string, d: string) => move(`${y}-${mo}-${d}`))
    .replace(/(?<!\d)(\d{2})([./])(\d{2})\2(\d{4})(?!\d)/g, (_m, d: string, sep: string, mo: string, y: string) => {
      const iso = move(`${y}-${mo}-${d}`)
      return `${iso.slice(8, 10)}${sep}${iso.slice(5, 7)}${sep}${iso.slice(0, 4)}`
    })
    .replace(/("time_(?:last|next)_update_unix"\s*:\s*|"timestamp"\s*:\s*)(\d+)/g, (_m, key: string, n: string) => {
      const seconds = Number(n)
      const day = new Date(seconds * 1000).toISOString().slice(0, 10)
      return `${key}${seconds + (Date.parse(move(day)) - Date.parse(day)) / 1000}`
    })
}
