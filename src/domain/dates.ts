// Dates are YYYY-MM-DD strings of the proleptic Gregorian calendar, years 0000..9999, so that text order
// is date order. Arithmetic runs on day numbers (days since 1970-01-01) in closed form: O(1) for any
// input, and results saturate at the ends of the range instead of growing a fifth year digit.

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
const ISO = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, any day offset). */
function daysFromCivil (year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

const FIRST_DAY = daysFromCivil(0, 1, 1)
const LAST_DAY = daysFromCivil(9999, 12, 31)

/** The date of a day number, clamped to 0000-01-01..9999-12-31. */
function civilFromDays (n: number): string {
  const z = Math.min(LAST_DAY, Math.max(FIRST_DAY, n)) + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

/**
 * Day number of a YYYY-MM-DD text. Callers pass validated dates; a text that is not even shaped like
 * one is a programming error (RangeError). Shaped but unreal dates (02-30) roll over, as Date does.
 */
function dayNumber (iso: string): number {
  const m = ISO.exec(iso)
  if (m === null) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(iso)}`)
  const month = Number(m[2])
  const shift = Math.floor((month - 1) / 12)
  return daysFromCivil(Number(m[1]) + shift, month - 1 - shift * 12 + 1, Number(m[3]))
}

/** Monday 0 .. Sunday 6; 1970-01-01 was a Thursday. */
const weekdayOf = (n: number): number => ((n + 3) % 7 + 7) % 7

/** Weekdays among the day numbers below `n` (counted from a Monday origin; only differences matter). */
function weekdaysBefore (n: number): number {
  const m = n + 3
  return 5 * Math.floor(m / 7) + Math.min(((m % 7) + 7) % 7, 5)
}

/** The civil date at epoch milliseconds `ms` in a zone `utcOffsetHours` east of UTC; saturates out of range. */
export function civilDateAt (ms: number, utcOffsetHours: number): string {
  const n = Math.floor((ms + utcOffsetHours * HOUR_MS) / DAY_MS)
  if (Number.isNaN(n)) throw new RangeError('not a point in time')
  return civilFromDays(n)
}

/** The civil date at `now` in a zone `utcOffsetHours` east of UTC, as YYYY-MM-DD. */
export function civilDate (now: Date, utcOffsetHours: number): string {
  return civilDateAt(now.getTime(), utcOffsetHours)
}

/** Validates and converts DD.MM.YYYY (or DD/MM/YYYY) to YYYY-MM-DD; undefined when it is not a real date. */
export function fromDmy (text: string): string | undefined {
  const m = /^\s*(\d{2})[./](\d{2})[./](\d{4})\s*$/.exec(text)
  if (m === null) return undefined
  return validIso(`${m[3]}-${m[2]}-${m[1]}`)
}

/** Returns the date when it is a real YYYY-MM-DD calendar date. */
export function validIso (text: string): string | undefined {
  const m = ISO.exec(text)
  if (m === null) return undefined
  const iso = `${m[1]}-${m[2]}-${m[3]}`
  const month = Number(m[2])
  return month >= 1 && month <= 12 && civilFromDays(dayNumber(iso)) === iso ? iso : undefined
}

/** YYYY-MM-DD -> DD.MM.YYYY with the given separator. */
export function toDmy (iso: string, sep = '.'): string {
  return `${iso.slice(8, 10)}${sep}${iso.slice(5, 7)}${sep}${iso.slice(0, 4)}`
}

/** `iso` moved by `days` (fractions dropped), saturating at 0000-01-01 and 9999-12-31. */
export function addDays (iso: string, days: number): string {
  if (Number.isNaN(days)) throw new RangeError('not a day count')
  const n = dayNumber(iso)
  // beyond the range either way, whatever the magnitude: no float arithmetic on huge counts
  if (days > LAST_DAY - FIRST_DAY) return civilFromDays(LAST_DAY)
  if (days < FIRST_DAY - LAST_DAY) return civilFromDays(FIRST_DAY)
  return civilFromDays(n + Math.trunc(days))
}

/** Monday to Friday. */
export function isWeekday (iso: string): boolean {
  return weekdayOf(dayNumber(iso)) < 5
}

/** The first weekday after `iso` (9999-12-31 itself at the end of the range). */
export function nextWeekday (iso: string): string {
  const n = dayNumber(iso) + 1
  const wd = weekdayOf(n)
  return civilFromDays(wd < 5 ? n : n + 7 - wd)
}

/** Weekdays in (from, to]; 0 when `to` is not after `from`. */
export function weekdaysBetween (from: string, to: string): number {
  const a = dayNumber(from)
  const b = dayNumber(to)
  return b <= a ? 0 : weekdaysBefore(b + 1) - weekdaysBefore(a + 1)
}

/** Midnight of `iso` in a zone `utcOffsetHours` east of UTC, as epoch milliseconds. */
export function startOfDay (iso: string, utcOffsetHours: number): number {
  return dayNumber(iso) * DAY_MS - utcOffsetHours * HOUR_MS
}
