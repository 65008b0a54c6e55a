import { addDays, toDmy, validIso } from '../domain/dates.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

/**
 * Shifts every date a payload carries, in each notation the recorded upstreams use: ISO dates, also inside
 * time stamps (`2025-11-26T11:30:00+03:00`), DD.MM.YYYY and DD/MM/YYYY, YYYY/MM/DD paths (JSON-escaped
 * too), RFC 1123 dates with their weekday, and Unix seconds in time-stamp fields. Digits around a match
 * rule it out, so values and hashes are left alone. All of it is ASCII, so windows-1251 bytes survive a
 * latin1 round trip.
 */
export function shiftDates (bytes: Buffer, days: number): Buffer {
  if (days === 0) return bytes
  const move = (y: string, mo: string, da: string): string | undefined => {
    const iso = validIso(`${y}-${mo}-${da}`)
    return iso === undefined ? undefined : addDays(iso, days)
  }
  const text = bytes.toString('latin1')
    .replace(/(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)/g, (m, y: string, mo: string, da: string) => move(y, mo, da) ?? m)
    .replace(/(?<!\d)(\d{2})([./])(\d{2})\2(\d{4})(?!\d)/g, (m, da: string, sep: string, mo: string, y: string) => {
      const iso = move(y, mo, da)
      return iso === undefined ? m : toDmy(iso, sep)
    })
    .replace(/(?<!\d)(\d{4})(\\?\/)(\d{2})\2(\d{2})(?!\d)/g, (m, y: string, sep: string, mo: string, da: string) => {
      const iso = move(y, mo, da)
      return iso === undefined ? m : iso.split('-').join(sep)
    })
    .replace(/\b(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})\b/g, (m, da: string, mon: string, y: string) => {
      const iso = move(y, String(MONTHS.indexOf(mon) + 1).padStart(2, '0'), da)
      if (iso === undefined) return m
      const weekday = WEEKDAYS[new Date(`${iso}T00:00:00Z`).getUTCDay()] ?? ''
      return `${weekday}, ${iso.slice(8, 10)} ${MONTHS[Number(iso.slice(5, 7)) - 1] ?? ''} ${iso.slice(0, 4)}`
    })
    .replace(/("(?:\w+_unix|timestamp)"\s*:\s*)(\d{9,10})(?!\d)/gi, (_m, key: string, n: string) => `${key}${Number(n) + days * 86_400}`)
  return Buffer.from(text, 'latin1')
}

/** Days from a recorded day to today's UTC date: the shift that makes the recording look current. */
export function daysSince (recordedDay: string, now: Date = new Date()): number {
  return Math.round((Date.parse(now.toISOString().slice(0, 10)) - Date.parse(recordedDay)) / 86_400_000)
}
