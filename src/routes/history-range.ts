import { addDays } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'

/** How many days `days` covers when the client gives neither it nor `from`. */
export const DEFAULT_DAYS = 30
/** The widest range served when FX_HISTORY_DAYS is 0: what the engines keep anyway. */
export const FALLBACK_MAX_DAYS = 400

/** The dates a history answer covers, inclusive; `to` undefined runs through the newest fixing. */
export interface DateRange { from: string, to: string | undefined }

export interface RangeQuery { days?: number | undefined, from?: string | undefined, to?: string | undefined }

const refuse = (message: string): never => { throw new RatesError('RATES_BAD_REQUEST', message, 400) }

/** The widest range, in days, this configuration serves. */
export const maxDaysOf = (historyDays: number): number => historyDays > 0 ? historyDays : FALLBACK_MAX_DAYS

/**
 * The range a query asks for, `today` being the UTC date by the app's clock. `days=N` and a lone `from`
 * run through the newest fixing, which a bank may already have dated tomorrow; a lone `to` takes the
 * DEFAULT_DAYS days ending on it. Shapes were checked by the schema; what depends on the date or on
 * several parameters is checked here.
 */
export function resolveRange ({ days, from, to }: RangeQuery, today: string, maxDays: number): DateRange {
  if (days !== undefined && (from !== undefined || to !== undefined)) refuse('days: give either days or from/to, not both')
  if (days !== undefined && days > maxDays) refuse(`days: at most ${maxDays} (FX_HISTORY_DAYS)`)
  if (from === undefined) {
    if (to === undefined) return { from: addDays(today, 1 - (days ?? DEFAULT_DAYS)), to: undefined }
    return { from: addDays(to, 1 - DEFAULT_DAYS), to }
  }
  if (to !== undefined && from > to) refuse(`from: ${from} is after to ${to}`)
  // a lone `from` is a range up to today, so it obeys the same bound
  const end = to ?? today
  if (addDays(from, maxDays - 1) < end) refuse(`from: the range ${from}..${end} spans more than ${maxDays} days (FX_HISTORY_DAYS)`)
  return { from, to }
}

/** A date of `at` the service can answer for: fixings are dated tomorrow at the latest. */
export function checkAt (at: string, today: string): string {
  const tomorrow = addDays(today, 1)
  return at > tomorrow ? refuse(`at: ${at} is after tomorrow (${tomorrow})`) : at
}

// Data that changes once a day. A range that includes today or tomorrow may gain a fixing at any time, so
// browsers keep it five minutes and shared caches an hour; both revalidate cheaply with the ETag and may serve
// the old answer for a day while revalidating or while the service is down (yesterday's fixings beat none).
// A settled range, which ended before yesterday and whose bases' history reaches back to its start (so backfill
// is not still filling it), changes only when a bank corrects a published fixing: a day in a browser and a
// week in a CDN, which can be purged. Not `immutable`: a correction must still reach clients.
const RECENT = 'public, max-age=300, s-maxage=3600, stale-while-revalidate=86400, stale-if-error=86400'
const SETTLED = 'public, max-age=86400, s-maxage=604800, stale-while-revalidate=604800, stale-if-error=604800'

/** The Cache-Control of a range, given the date of the oldest fixing held for each base it covers. */
export function cacheControlOf (range: DateRange, today: string, oldest: ReadonlyArray<string | undefined>): string {
  const settled = range.to !== undefined && range.to < addDays(today, -1) &&
    oldest.every((d) => d !== undefined && d <= range.from)
  return settled ? SETTLED : RECENT
}

export type HistoryFormat = 'json' | 'csv'

/**
 * The format to answer in: `format` when given, else what Accept prefers between JSON and CSV (RFC 9110
 * section 12.5.1, the most specific matching range deciding each quality). JSON on a tie, for `*\/*`,
 * and when Accept names neither: the API is JSON first, and a 406 would only break lenient clients.
 */
export function formatOf (format: HistoryFormat | undefined, accept: string | undefined): HistoryFormat {
  if (format !== undefined) return format
  if (accept === undefined) return 'json'
  const ranges = accept.split(',').map(parseRange)
  return qualityOf(ranges, 'text', 'csv') > qualityOf(ranges, 'application', 'json') ? 'csv' : 'json'
}

interface MediaRange { type: string, subtype: string, q: number }

function parseRange (text: string): MediaRange {
  const [media = '', ...params] = text.split(';')
  const [type = '', subtype = ''] = media.trim().toLowerCase().split('/')
  let q = 1
  for (const p of params) {
    const [name, value] = p.split('=').map((s) => s.trim())
    if (name?.toLowerCase() === 'q') {
      const n = Number(value)
      q = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0
    }
  }
  return { type, subtype, q }
}

function qualityOf (ranges: readonly MediaRange[], type: string, subtype: string): number {
  let best = -1
  let q = 0
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1
    if (specificity > best) { best = specificity; q = r.q }
  }
  return q
}
