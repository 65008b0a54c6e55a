import { fromDmy, toDmy } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { checkValueDate, clockOf, isEmittable, quoteOf, rejectLaterDate } from './checks.js'
import { parseDecimal } from './number.js'

export const NBKR_HISTORY_PATH = '/index1.jsp'
/** NBKR's own id of the US dollar on its history page. */
const USD_ID = 15
const ID = 'nbkr'
/**
 * One row of the page: the date and the KGS value of one US dollar, each between comment markers,
 * `<!--date-->DD.MM.YYYY<!--date-->` … `<!--value-->87,4500<!--value-->`. Nothing else of the page is relied on.
 */
const ROW = /<!--date-->\s*([^<]*?)\s*<!--date-->[\s\S]*?<!--value-->\s*([^<]*?)\s*<!--value-->/g

/** The history page of the dollar from `from` to `to` (inclusive), as NBKR's form asks for it. */
export function nbkrHistoryPath (from: string, to: string): string {
  const [fd, fm, fy] = toDmy(from).split('.')
  const [td, tm, ty] = toDmy(to).split('.')
  return `${NBKR_HISTORY_PATH}?item=1562&lang=ENG&valuta_id=${USD_ID}&beg_day=${fd}&beg_month=${fm}&beg_year=${fy}&end_day=${td}&end_month=${tm}&end_year=${ty}`
}

export interface NbkrHistoryOptions {
  now: Date
  from: string
  to: string
}

/**
 * The KGS fixings of each business day in a range, from NBKR's history page of the US dollar (KGS per one
 * dollar, decimal comma). A row outside the range asked for, or dated after it, condemns the page; a page
 * without a single row (an error page, a redesign) is RATES_SOURCE_EMPTY rather than "no publications".
 */
export function parseNbkrHistory (html: string, { now, from, to }: NbkrHistoryOptions): Quote[] {
  const quotes: Quote[] = []
  const seen = new Set<string>()
  for (const [, rawDate, rawValue] of html.matchAll(ROW)) {
    const date = fromDmy(rawDate ?? '')
    if (date === undefined) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: history row dated ${JSON.stringify(rawDate?.slice(0, 20))}`, 502)
    rejectLaterDate(ID, date, to)
    if (date < from) throw new RatesError('RATES_SOURCE_DATE', `${ID}: history row dated ${date}, before the ${from} asked for`, 502)
    if (seen.has(date)) continue
    seen.add(date)
    quotes.push(quoteOf('KGS', parseDecimal(ID, `value of ${date}`, rawValue), date))
  }
  // each row is judged by the clock of its own day, so a year of history is not "too old" as a whole
  for (const q of quotes) checkValueDate(ID, q.date, clockOf({ now, asked: q.date }))
  const kept = quotes.filter((q) => isEmittable(q.inverse, q.relErr))
  if (kept.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no history rows between ${from} and ${to}`, 502)
  return kept
}
