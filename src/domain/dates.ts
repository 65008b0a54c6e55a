const DAY_MS = 86_400_000

/** The civil date at `now` in a zone `utcOffsetHours` east of UTC, as YYYY-MM-DD. */
export function civilDate (now: Date, utcOffsetHours: number): string {
  return new Date(now.getTime() + utcOffsetHours * 3_600_000).toISOString().slice(0, 10)
}

/** Validates and converts DD.MM.YYYY (or DD/MM/YYYY) to YYYY-MM-DD; undefined when it is not a real date. */
export function fromDmy (text: string): string | undefined {
  const m = /^\s*(\d{2})[./](\d{2})[./](\d{4})\s*$/.exec(text)
  if (m === null) return undefined
  return validIso(`${m[3]}-${m[2]}-${m[1]}`)
}

/** Returns the date when it is a real YYYY-MM-DD calendar date. */
export function validIso (text: string): string | undefined {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(text)
  if (m === null) return undefined
  const iso = `${m[1]}-${m[2]}-${m[3]}`
  const d = new Date(`${iso}T00:00:00Z`)
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso ? undefined : iso
}

/** YYYY-MM-DD -> DD.MM.YYYY with the given separator. */
export function toDmy (iso: string, sep = '.'): string {
  return `${iso.slice(8, 10)}${sep}${iso.slice(5, 7)}${sep}${iso.slice(0, 4)}`
}

export function addDays (iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** Monday to Friday. */
export function isWeekday (iso: string): boolean {
  const day = new Date(`${iso}T00:00:00Z`).getUTCDay()
  return day !== 0 && day !== 6
}

/** The first weekday after `iso`. */
export function nextWeekday (iso: string): string {
  let d = addDays(iso, 1)
  while (!isWeekday(d)) d = addDays(d, 1)
  return d
}

/** Weekdays in (from, to]; 0 when `to` is not after `from`. */
export function weekdaysBetween (from: string, to: string): number {
  let n = 0
  for (let d = addDays(from, 1); d <= to; d = addDays(d, 1)) if (isWeekday(d)) n++
  return n
}

/** Midnight of `iso` in a zone `utcOffsetHours` east of UTC, as epoch milliseconds. */
export function startOfDay (iso: string, utcOffsetHours: number): number {
  return Date.parse(`${iso}T00:00:00Z`) - utcOffsetHours * 3_600_000
}
