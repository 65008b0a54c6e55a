import t from 'tap'
import fc from 'fast-check'
import { addDays, civilDate, fromDmy, isWeekday, nextWeekday, startOfDay, validIso, weekdaysBetween } from '../../src/domain/dates.js'

const DAY_MS = 86_400_000
const RUNS = Number(process.env.FC_RUNS ?? 300)
const FIRST = '0000-01-01'
const LAST = '9999-12-31'

/** Midnight UTC of a date with Date's own calendar, which covers years 0..9999 through setUTCFullYear. */
function refMs (iso: string): number {
  const d = new Date(0)
  d.setUTCFullYear(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10)))
  return d.getTime()
}
const refIso = (ms: number): string => {
  const d = new Date(ms)
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`
}
const refWeekday = (iso: string): boolean => { const day = new Date(refMs(iso)).getUTCDay(); return day !== 0 && day !== 6 }

/** Every real date of years 0000..9999. */
const isoDate = fc.integer({ min: refMs(FIRST) / DAY_MS, max: refMs(LAST) / DAY_MS }).map((n) => refIso(n * DAY_MS))

t.test('addDays agrees with the Date calendar and saturates at 0000-01-01 and 9999-12-31', async (t) => {
  fc.assert(fc.property(isoDate, fc.integer({ min: -4_000_000, max: 4_000_000 }), (iso, days) => {
    const ms = refMs(iso) + days * DAY_MS
    const want = ms > refMs(LAST) ? LAST : ms < refMs(FIRST) ? FIRST : refIso(ms)
    return addDays(iso, days) === want
  }), { numRuns: RUNS })
  t.equal(addDays(LAST, 1), LAST, 'no five-digit year that sorts below 9999')
  t.equal(addDays(FIRST, -1), FIRST)
  t.equal(addDays('2025-11-26', Number.MAX_SAFE_INTEGER), LAST)
  t.equal(addDays('2025-11-26', -Number.MAX_SAFE_INTEGER), FIRST)
  t.equal(addDays('2025-11-26', Infinity), LAST)
  t.equal(addDays('2025-11-26', -Infinity), FIRST)
  t.equal(addDays('2024-02-28', 1), '2024-02-29')
  t.equal(addDays('2100-02-28', 1), '2100-03-01', 'a century year is not leap')
  t.equal(addDays('2000-02-28', 1), '2000-02-29', 'a 400th year is')
  t.equal(addDays('0000-02-28', 1), '0000-02-29', 'year 0 is a leap year (proleptic Gregorian)')
})

t.test('isWeekday and nextWeekday agree with the Date calendar over the whole range', async (t) => {
  fc.assert(fc.property(isoDate, (iso) => {
    if (isWeekday(iso) !== refWeekday(iso)) return false
    let ms = refMs(iso) + DAY_MS
    while (!refWeekday(refIso(ms))) ms += DAY_MS
    return nextWeekday(iso) === (ms > refMs(LAST) ? LAST : refIso(ms))
  }), { numRuns: RUNS })
  t.equal(nextWeekday('2025-11-28'), '2025-12-01', 'Friday -> Monday')
  t.equal(nextWeekday('2025-11-29'), '2025-12-01', 'Saturday -> Monday')
  t.equal(nextWeekday(LAST), LAST, 'saturates instead of looping')
})

t.test('weekdaysBetween counts weekdays in (from, to] in closed form', async (t) => {
  fc.assert(fc.property(isoDate, fc.integer({ min: -40, max: 40 }), (from, span) => {
    const to = addDays(from, span)
    let n = 0
    for (let ms = refMs(from) + DAY_MS; ms <= refMs(to); ms += DAY_MS) if (refWeekday(refIso(ms))) n++
    return weekdaysBetween(from, to) === n
  }), { numRuns: RUNS })
  fc.assert(fc.property(isoDate, isoDate, isoDate, (a, b, c) => {
    const [x, y, z] = [a, b, c].sort()
    return weekdaysBetween(x as string, z as string) === weekdaysBetween(x as string, y as string) + weekdaysBetween(y as string, z as string)
  }), { numRuns: RUNS })
  t.equal(weekdaysBetween('2025-11-24', '2025-12-01'), 5)
  t.equal(weekdaysBetween('2025-12-01', '2025-11-24'), 0, 'nothing when `to` is not after `from`')
})

t.test('the far-future dates of a hostile payload cost nothing and end', async (t) => {
  const started = performance.now()
  t.equal(weekdaysBetween('2025-11-26', LAST), weekdaysBetween('2025-11-26', '9999-12-30') + 1, '9999-12-31 is a Friday')
  t.equal(weekdaysBetween(FIRST, LAST), 5 * (refMs(LAST) - refMs(FIRST) + DAY_MS) / DAY_MS / 7, 'whole 400-year cycles of whole weeks, from a Saturday')
  t.equal(weekdaysBetween('9999-12-30', LAST), 1)
  for (let i = 0; i < 10_000; i++) weekdaysBetween(FIRST, LAST)
  t.ok(performance.now() - started < 2_000, 'ten thousand full-range counts are instant')
})

t.test('validIso and fromDmy accept exactly the real calendar dates of years 0000..9999', async (t) => {
  fc.assert(fc.property(isoDate, (iso) => validIso(iso) === iso && fromDmy(`${iso.slice(8)}.${iso.slice(5, 7)}.${iso.slice(0, 4)}`) === iso), { numRuns: RUNS })
  for (const bad of ['2025-02-29', '2025-13-01', '2025-00-10', '2025-11-31', '2025-11-00', '+10000-01-01', '10000-01-01', '2025-1-01', '', 'garbage']) {
    t.equal(validIso(bad), undefined, `${JSON.stringify(bad)} is not a date`)
  }
  t.equal(validIso(' 2024-02-29 '), '2024-02-29')
  t.equal(fromDmy('29/02/2023'), undefined)
  t.equal(fromDmy('31/12/9999'), LAST)
})

t.test('civilDate and startOfDay stay in range for any instant', async (t) => {
  t.equal(civilDate(new Date('2025-11-26T20:00:00Z'), 5), '2025-11-27')
  t.equal(civilDate(new Date('2025-11-26T02:00:00Z'), -3), '2025-11-25')
  t.equal(civilDate(new Date(8.64e15), 14), LAST, 'the last instant Date can hold saturates')
  t.equal(civilDate(new Date(-8.64e15), -12), FIRST)
  t.equal(startOfDay('2025-11-26', 5), Date.parse('2025-11-25T19:00:00Z'))
  fc.assert(fc.property(isoDate, fc.integer({ min: -12, max: 14 }), (iso, tz) => civilDate(new Date(startOfDay(iso, tz)), tz) === iso), { numRuns: RUNS })
})
