import { addDays, civilDate, validIso } from './dates.js'
import type { Observation } from './rate.js'
import { SOURCE_INFO, isSourceId } from './sources.js'

/**
 * Units per USD outside (MIN_INVERSE, MAX_INVERSE) are a misplaced decimal, an exponent gone wrong or a
 * unit mix-up, never a rate: the weakest currency any feed lists is about 1e6 per USD, the strongest
 * token about 1e-5. Within the bounds both the inverse and the price are normal, finite and positive.
 */
export const MIN_INVERSE = 1e-9
export const MAX_INVERSE = 1e9

/**
 * The oldest value date any feed may carry: older than every series the service reads in its current
 * form (TMT was redenominated in 2009), and far older than any "latest" publication can be.
 */
export const OLDEST_VALUE_DATE = '2000-01-01'

/**
 * How far back, in days, a feed's value date may lie. Late publications (two weeks of holidays, NBKR's
 * weekly file) are the reconciler's business: it marks them stale or behind. Two years back is no late
 * publication but a dead endpoint, a wrong archive or a broken clock, so the edge refuses it outright.
 */
export const MAX_VALUE_DATE_AGE_DAYS = 731

/** The earliest civil time zone on Earth (UTC+14), for feeds whose own zone is unknown. */
const EARLIEST_ZONE_HOURS = 14

/** Whether a units-per-USD figure is one the service may publish or weigh. */
export function isPlausibleInverse (value: number): boolean {
  return value > MIN_INVERSE && value < MAX_INVERSE
}

/** The publisher's offset from UTC; an unknown feed gets the earliest zone, so it is never refused a date some zone already has. */
export function zoneOfSource (id: string): number {
  return isSourceId(id) ? SOURCE_INFO[id].utcOffsetHours : EARLIEST_ZONE_HOURS
}

export interface ValueDateWindow {
  earliest: string
  /** Tomorrow in the publisher's zone: CBR fixes the next day's rate the afternoon before. */
  latest: string
}

/** The value dates a publisher `utcOffsetHours` east of UTC may give at `now`. */
export function valueDateWindow (now: Date, utcOffsetHours: number): ValueDateWindow {
  const today = civilDate(now, utcOffsetHours)
  const back = addDays(today, -MAX_VALUE_DATE_AGE_DAYS)
  return { earliest: back < OLDEST_VALUE_DATE ? OLDEST_VALUE_DATE : back, latest: addDays(today, 1) }
}

/** Why a value date cannot be right at `now` in that zone (a phrase for an error message), or undefined when it can. */
export function valueDateProblem (date: string, now: Date, utcOffsetHours: number): string | undefined {
  if (validIso(date) !== date) return `${JSON.stringify(date)} is not a date`
  const { earliest, latest } = valueDateWindow(now, utcOffsetHours)
  if (date > latest) return `${date} is in the future: after ${latest}, tomorrow in the publisher's time zone`
  if (date < earliest) return `${date} is too old: before ${earliest}`
  return undefined
}

/** A value date after tomorrow in the zone of the source that gave it. */
export function isFutureValueDate (date: string, now: Date, source: string): boolean {
  return date > valueDateWindow(now, zoneOfSource(source)).latest
}

/**
 * Whether an observation (fresh, or read back from a store an older version wrote) may be weighed at
 * `now`: a real, not future value date and a plausible, precise-enough-to-state value.
 */
export function isUsableObservation (o: Observation, now: Date): boolean {
  return isPlausibleInverse(o.inverse) && Number.isFinite(o.relErr) && o.relErr >= 0 &&
    validIso(o.date) === o.date && !isFutureValueDate(o.date, now, o.source)
}
