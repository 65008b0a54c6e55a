import { addDays, isWeekday } from '../domain/dates.js'
import type { SourceId } from '../domain/sources.js'

/** The recorded day the archive's rates are anchored to: its rates are the recorded ones, moved by shiftDays. */
export const ARCHIVE_ANCHOR = '2025-11-26'

/** Units per USD on the anchor day (Frankfurter's recorded blend of the banks). */
const ANCHOR_RATES: Readonly<Record<string, number>> = { USD: 1, KGS: 87.45, KZT: 509.87, RUB: 79.8412, TJS: 9.1845, TMT: 3.5, UZS: 12041.2 }

/** Currencies the archive moves day by day; every other row of a payload keeps its recorded value. */
export const ARCHIVE_BASES = ['KGS', 'KZT', 'RUB', 'TJS', 'TMT', 'UZS'] as const

/**
 * Log-drift of each currency: [amplitude, period in days, phase] waves. The fastest wave sets the daily
 * movement (a0 * 2π / p0: 0.1 to 0.3 % a day), the slow one a trend over months; TMT keeps its peg.
 */
const WAVES: Readonly<Record<string, ReadonlyArray<readonly [number, number, number]>>> = {
  KGS: [[0.006, 29, 0.4], [0.015, 173, 1.1]],
  KZT: [[0.02, 47, 2.0], [0.04, 211, 0.3]],
  RUB: [[0.025, 53, 4.1], [0.06, 263, 2.2]],
  TJS: [[0.01, 41, 5.0], [0.02, 190, 3.3]],
  UZS: [[0.012, 37, 1.7], [0.05, 290, 4.4]]
}

const DAY_MS = 86_400_000
const dayOf = (iso: string): number => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY_MS)

function logDrift (base: string, day: number): number {
  return (WAVES[base] ?? []).reduce((sum, [amp, period, phase]) => sum + amp * Math.sin(2 * Math.PI * day / period + phase), 0)
}

/**
 * The archive's "true" units per USD of `base` on `date`, for a replay moved by `shiftDays`: the anchor
 * day's rate times a smooth, deterministic factor of the date, equal to 1 on the anchor day moved by
 * the shift. Every source's archive payload for a value date carries this rate in its own quantisation.
 */
export function archiveRate (base: string, date: string, shiftDays = 0): number {
  const anchor = ANCHOR_RATES[base]
  if (anchor === undefined) throw new RangeError(`the archive has no rate for ${JSON.stringify(base)}`)
  const day = dayOf(date) - shiftDays - dayOf(ARCHIVE_ANCHOR)
  if (Number.isNaN(day)) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`)
  return anchor * Math.exp(logDrift(base, day) - logDrift(base, 0))
}

/** Days NBK and CBU publish no rate on besides weekends (month-day). */
const HOLIDAYS = new Set(['01-01', '03-08'])

const weekday = (iso: string): number => new Date(`${iso}T00:00:00Z`).getUTCDay()
const isBusinessDay = (iso: string): boolean => isWeekday(iso) && !HOLIDAYS.has(iso.slice(5))
/** CBR's sets are dated Tuesday to Saturday: each business day's set is in force from the next day. */
const isCbrDate = (iso: string): boolean => weekday(iso) >= 2

function lastOnOrBefore (date: string, ok: (iso: string) => boolean): string {
  let day = date
  while (!ok(day)) day = addDays(day, -1)
  return day
}

/**
 * The value date of the publication each source's archive answers for `asked`, or undefined when that
 * archive answers 404 for it (CBT on Sundays, cbr-xml-daily on days without a CBR set).
 */
export function archiveValueDate (id: SourceId, asked: string): string | undefined {
  switch (id) {
    case 'nbk':
    case 'cbu':
      return lastOnOrBefore(asked, isBusinessDay)
    case 'nbkr':
      return isBusinessDay(asked) ? asked : undefined
    case 'frankfurter':
      return lastOnOrBefore(asked, isWeekday)
    case 'cbr':
      return lastOnOrBefore(asked, isCbrDate)
    case 'cbr-xml-daily':
      return isCbrDate(asked) ? asked : undefined
    case 'cbt':
      return weekday(asked) === 0 ? undefined : asked
    default:
      return asked
  }
}

/** The CBR value date before `date`: the set a daily_json.js names as its Previous. */
export function previousCbrDate (date: string): string {
  return lastOnOrBefore(addDays(date, -1), isCbrDate)
}
