import t from 'tap'
import { mergeObservations, sameObservations, usableObservations } from '../../src/poller/observations.js'
import type { Observation, Quote } from '../../src/domain/rate.js'

const q = (base: string, inverse: number, date = '2025-11-26'): Quote => ({ base, inverse, date, relErr: 1e-6, cadence: 'daily' })
const T1 = new Date('2025-11-26T06:00:00Z')
const T2 = new Date('2025-11-26T07:00:00Z')
const WANTED = ['KGS', 'KZT']

t.test('keeps only the configured currencies, stamped with the source and the fetch time', async (t) => {
  const held = mergeObservations([], 'cbr', [q('KZT', 510.48), q('EUR', 0.86), q('KGS', 87.4)], T1, WANTED, T1)
  t.same(held.map((o) => [o.source, o.base, o.fetchedAt]), [['cbr', 'KGS', T1.toISOString()], ['cbr', 'KZT', T1.toISOString()]])
})

t.test('an unchanged quote keeps its first fetch time; a new value or date takes the new one', async (t) => {
  const first = mergeObservations([], 'nbk', [q('KZT', 509.87), q('KGS', 87.46)], T1, WANTED, T1)
  const again = mergeObservations(first, 'nbk', [q('KZT', 509.87), q('KGS', 87.5)], T2, WANTED, T2)
  const by = (list: Observation[], base: string): Observation | undefined => list.find((o) => o.base === base)
  t.equal(by(again, 'KZT')?.fetchedAt, T1.toISOString(), 're-polling the same fixing changes nothing')
  t.equal(by(again, 'KGS')?.fetchedAt, T2.toISOString())
  t.equal(by(again, 'KGS')?.inverse, 87.5)
  t.ok(sameObservations(first, mergeObservations(first, 'nbk', [q('KZT', 509.87), q('KGS', 87.46)], T2, WANTED, T2)))
  t.notOk(sameObservations(first, again))
})

t.test('a currency the source stops listing keeps its last good observation', async (t) => {
  const first = mergeObservations([], 'cbu', [q('KZT', 510.2), q('KGS', 87.43)], T1, WANTED, T1)
  const partial = mergeObservations(first, 'cbu', [q('KZT', 510.1, '2025-11-27')], T2, WANTED, T2)
  t.same(partial.map((o) => [o.base, o.date]), [['KGS', '2025-11-26'], ['KZT', '2025-11-27']])
})

t.test('an older value date than the one held is ignored', async (t) => {
  const first = mergeObservations([], 'fawazahmed0', [q('KZT', 510.2, '2025-11-26')], T1, WANTED, T1)
  const lagging = mergeObservations(first, 'fawazahmed0', [q('KZT', 511.9, '2025-11-25')], T2, WANTED, T2)
  t.same(lagging, first)
})

t.test("other sources' observations are untouched", async (t) => {
  const a = mergeObservations([], 'nbk', [q('KZT', 509.87)], T1, WANTED, T1)
  const both = mergeObservations(a, 'cbr', [q('KZT', 510.48)], T2, WANTED, T2)
  t.same(both.map((o) => o.source).sort(), ['cbr', 'nbk'])
  const replaced = mergeObservations(both, 'cbr', [q('KZT', 510.5)], T2, WANTED, T2)
  t.same(replaced.filter((o) => o.source === 'nbk'), a)
})

t.test('a quote dated after tomorrow in the source\'s zone never enters; tomorrow does', async (t) => {
  const held = mergeObservations([], 'fawazahmed0', [q('KZT', 510.2, '2025-12-07'), q('KGS', 87.4, '9999-12-31'), q('UZS', 12030, '2025-11-27')], T1, [...WANTED, 'UZS'], T1)
  t.same(held.map((o) => [o.base, o.date]), [['UZS', '2025-11-27']])
  // 20:00 UTC is the 27th in Bishkek (UTC+6), so the 28th is its tomorrow, not UTC's
  const evening = new Date('2025-11-26T20:00:00Z')
  t.same(mergeObservations([], 'nbkr', [q('KGS', 87.4, '2025-11-28')], evening, WANTED, evening).map((o) => o.date), ['2025-11-28'])
  t.same(mergeObservations([], 'open-er-api', [q('KGS', 87.4, '2025-11-28')], evening, WANTED, evening), [])
})

t.test('a held observation dated in the future no longer blocks the correct, older one', async (t) => {
  const poisoned: Observation[] = [{ ...q('KZT', 510.2, '2025-12-07'), source: 'fawazahmed0', fetchedAt: T1.toISOString() }]
  const fixed = mergeObservations(poisoned, 'fawazahmed0', [q('KZT', 510.23, '2025-11-26')], T2, WANTED, T2)
  t.same(fixed.map((o) => [o.source, o.base, o.date, o.inverse]), [['fawazahmed0', 'KZT', '2025-11-26', 510.23]])
})

t.test('implausible values never enter, and unusable held observations of any source are dropped', async (t) => {
  const bad = [1e-320, 5e-324, 1e308, Infinity, NaN, 0, -1]
  for (const inverse of bad) t.same(mergeObservations([], 'nbk', [q('KZT', inverse)], T1, WANTED, T1), [], `${inverse} refused`)
  const held: Observation[] = [
    { ...q('KZT', 509.87), source: 'nbk', fetchedAt: T1.toISOString() },
    { ...q('KZT', 510.2, '2025-12-07'), source: 'fawazahmed0', fetchedAt: T1.toISOString() },
    { ...q('KGS', 1e-320), source: 'cbr', fetchedAt: T1.toISOString() },
    { ...q('KGS', 87.4, '2025-02-30'), source: 'cbu', fetchedAt: T1.toISOString() }
  ]
  t.same(usableObservations(held, T1).map((o) => o.source), ['nbk'])
  const merged = mergeObservations(held, 'nbt', [q('KZT', 509.4)], T2, WANTED, T2)
  t.same(merged.map((o) => o.source).sort(), ['nbk', 'nbt'])
  // what is in the future now may be current later: the rule follows the clock
  t.same(usableObservations(held, new Date('2025-12-06T12:00:00Z')).map((o) => o.source), ['nbk', 'fawazahmed0'])
})
