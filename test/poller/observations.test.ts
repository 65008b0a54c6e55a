import t from 'tap'
import { mergeObservations, sameObservations } from '../../src/poller/observations.js'
import type { Observation, Quote } from '../../src/domain/rate.js'

const q = (base: string, inverse: number, date = '2025-11-26'): Quote => ({ base, inverse, date, relErr: 1e-6, cadence: 'daily' })
const T1 = new Date('2025-11-26T06:00:00Z')
const T2 = new Date('2025-11-26T07:00:00Z')
const WANTED = ['KGS', 'KZT']

t.test('keeps only the configured currencies, stamped with the source and the fetch time', async (t) => {
  const held = mergeObservations([], 'cbr', [q('KZT', 510.48), q('EUR', 0.86), q('KGS', 87.4)], T1, WANTED)
  t.same(held.map((o) => [o.source, o.base, o.fetchedAt]), [['cbr', 'KGS', T1.toISOString()], ['cbr', 'KZT', T1.toISOString()]])
})

t.test('an unchanged quote keeps its first fetch time; a new value or date takes the new one', async (t) => {
  const first = mergeObservations([], 'nbk', [q('KZT', 509.87), q('KGS', 87.46)], T1, WANTED)
  const again = mergeObservations(first, 'nbk', [q('KZT', 509.87), q('KGS', 87.5)], T2, WANTED)
  const by = (list: Observation[], base: string): Observation | undefined => list.find((o) => o.base === base)
  t.equal(by(again, 'KZT')?.fetchedAt, T1.toISOString(), 're-polling the same fixing changes nothing')
  t.equal(by(again, 'KGS')?.fetchedAt, T2.toISOString())
  t.equal(by(again, 'KGS')?.inverse, 87.5)
  t.ok(sameObservations(first, mergeObservations(first, 'nbk', [q('KZT', 509.87), q('KGS', 87.46)], T2, WANTED)))
  t.notOk(sameObservations(first, again))
})

t.test('a currency the source stops listing keeps its last good observation', async (t) => {
  const first = mergeObservations([], 'cbu', [q('KZT', 510.2), q('KGS', 87.43)], T1, WANTED)
  const partial = mergeObservations(first, 'cbu', [q('KZT', 510.1, '2025-11-27')], T2, WANTED)
  t.same(partial.map((o) => [o.base, o.date]), [['KGS', '2025-11-26'], ['KZT', '2025-11-27']])
})

t.test('an older value date than the one held is ignored', async (t) => {
  const first = mergeObservations([], 'fawazahmed0', [q('KZT', 510.2, '2025-11-26')], T1, WANTED)
  const lagging = mergeObservations(first, 'fawazahmed0', [q('KZT', 511.9, '2025-11-25')], T2, WANTED)
  t.same(lagging, first)
})

t.test("other sources' observations are untouched", async (t) => {
  const a = mergeObservations([], 'nbk', [q('KZT', 509.87)], T1, WANTED)
  const both = mergeObservations(a, 'cbr', [q('KZT', 510.48)], T2, WANTED)
  t.same(both.map((o) => o.source).sort(), ['cbr', 'nbk'])
  const replaced = mergeObservations(both, 'cbr', [q('KZT', 510.5)], T2, WANTED)
  t.same(replaced.filter((o) => o.source === 'nbk'), a)
})
