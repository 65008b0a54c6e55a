import { addDays, nextWeekday, startOfDay } from '../domain/dates.js'
import type { Cadence } from '../domain/rate.js'
import { HOME_SOURCE, SOURCE_INFO } from '../domain/sources.js'

const DAY_MS = 86_400_000

/** The home bank's offset from UTC: its calendar dates the rate, so its midnight starts the day. */
export function zoneOf (base: string): number {
  const home = HOME_SOURCE[base]
  return home === undefined ? 0 : SOURCE_INFO[home].utcOffsetHours
}

/** When the next fixing after `date` is due, as an ISO timestamp; null for a peg, which has none. */
export function nextExpectedAt (date: string, cadence: Cadence, utcOffsetHours: number): string | null {
  if (cadence === 'peg') return null
  const next = cadence === 'weekly' ? addDays(date, 7) : nextWeekday(date)
  return new Date(startOfDay(next, utcOffsetHours)).toISOString()
}

/**
 * Whether a rate of `date` is older than its cadence allows at `now`. A weekly rate is valid for
 * seven days, so it gets six more days than a daily one before it counts as stale.
 */
export function isStale (date: string, cadence: Cadence, utcOffsetHours: number, now: Date, staleAfterMs: number): boolean {
  if (cadence === 'peg') return false
  const allowed = staleAfterMs + (cadence === 'weekly' ? 6 * DAY_MS : 0)
  return now.getTime() - startOfDay(date, utcOffsetHours) > allowed
}
