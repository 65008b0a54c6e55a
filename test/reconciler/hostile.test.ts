import t from 'tap'
import type { Test } from 'tap'
import { RateSchema } from '../../src/domain/rate.js'
import type { Observation, Rate } from '../../src/domain/rate.js'
import { HOME_SOURCE } from '../../src/domain/sources.js'
import { CURRENCIES, fixtureObservations, historyOf, obs, run, snapshotOf } from './builders.js'

const FUTURE = '2025-12-07' // 11 days after NOW

/** Every observation of `source` moved to `date`. */
const redated = (list: Observation[], source: string, date: string): Observation[] =>
  list.map((o) => o.source === source ? { ...o, date } : o)

/** Every rate is a RateSchema value whose numbers are finite, positive and each other's inverse. */
function assertSane (t: Test, rates: Rate[]): void {
  for (const r of rates) {
    t.ok(RateSchema.safeParse(r).success, `${r.pair} parses with RateSchema`)
    t.ok(Number.isFinite(r.price) && r.price > 0 && Number.isFinite(r.inverse) && r.inverse > 0, `${r.pair}: price ${r.price}, inverse ${r.inverse}`)
    t.ok(Math.abs(r.price * r.inverse - 1) < 1e-12, `${r.pair}: price × inverse = 1`)
    t.ok(r.change === null || (Number.isFinite(r.change.pct) && Number.isFinite(r.change.abs) && r.change.prevPrice > 0), `${r.pair}: change ${JSON.stringify(r.change)}`)
  }
}

t.test('a fallback feed dated 11 days ahead demotes no home bank and dates nothing', async (t) => {
  const result = run(redated(fixtureObservations(), 'fawazahmed0', FUTURE))
  assertSane(t, result.rates)
  t.same(result.rates.map((r) => r.base), CURRENCIES)
  for (const r of result.rates) {
    t.equal(r.basis, 'official', `${r.pair} stays official`)
    t.equal(r.date, '2025-11-26', `${r.pair} keeps the current date`)
    t.notOk(r.sources.some((s) => s.date === FUTURE || /behind/.test(s.reason ?? '')), `${r.pair}: no future vote, nobody behind`)
  }
  t.notOk(Object.values(result.fixings).some((f) => f.date === FUTURE), 'no fixing of a future date')
})

t.test('derived feeds ahead of every primary source, but not in the future, do not set the newest date', async (t) => {
  // Friday 28 Nov: the banks fixed on Wednesday; both blends claim Friday
  const friday = new Date('2025-11-28T12:00:00.000Z')
  const list = redated(redated(fixtureObservations(), 'fawazahmed0', '2025-11-28'), 'frankfurter', '2025-11-28')
  const result = run(list, { now: friday })
  assertSane(t, result.rates)
  for (const base of ['KGS', 'KZT', 'UZS', 'TJS']) {
    const r = result.rates.find((x) => x.base === base)
    t.equal(r?.basis, 'official', `${base}: the home bank is not "behind" two blends`)
    t.equal(r?.sources.find((s) => s.id === HOME_SOURCE[base])?.used, true)
  }
  t.equal(result.rates.find((r) => r.base === 'TMT')?.date, '2025-11-26', 'the peg is dated by the primary sources')
  const alone = run([obs('fawazahmed0', 'TMT', 3.5, { date: '2025-11-25' })], { now: friday, currencies: ['TMT'] })
  t.equal(alone.rates[0]?.date, '2025-11-25', 'with no primary source at all, a derived feed may date the peg')
  const elsewhere = run([obs('fawazahmed0', 'TMT', 3.5, { date: '2025-11-28' }), obs('nbk', 'KZT', 509.87)], { now: friday, currencies: ['TMT'] })
  t.equal(elsewhere.rates[0]?.date, '2025-11-26', 'but a primary date of another currency comes first')
  // one market vote ahead is evidence, as it always was: that rule is unchanged
  const market = run([...list, obs('open-er-api', 'KZT', 510.07, { date: '2025-11-28' }), obs('cbu', 'KZT', 510.2, { date: '2025-11-28' })], { now: friday })
  t.match(market.rates.find((r) => r.base === 'KZT')?.sources.find((s) => s.id === 'nbk')?.reason, /^behind/)
})

t.test('a published rate dated in the future does not hold back the current one', async (t) => {
  const good = run(fixtureObservations())
  const poisoned = snapshotOf(good.rates.map((r) => ({ ...r, date: FUTURE, basis: 'consensus' as const })))
  const result = run(fixtureObservations(), { previous: poisoned })
  for (const r of result.rates) t.equal(r.date, '2025-11-26', `${r.pair} is back on its current date`)
  t.equal(result.rates.find((r) => r.base === 'KZT')?.basis, 'official')
})

const BAD = [1e-320, 5e-324, 1e-300, 1e308, Infinity, -Infinity, NaN, 0, -0, -509.87, 1e-10, 2e9]

t.test('whatever numbers it is handed, nothing non-finite or non-positive is published', async (t) => {
  for (const bad of BAD) {
    const kzt = fixtureObservations().filter((o) => o.base === 'KZT')
    // the home value, then every value, then two agreeing bad "consensus" votes
    for (const list of [
      kzt.map((o) => o.source === 'nbk' ? { ...o, inverse: bad } : o),
      kzt.map((o) => ({ ...o, inverse: bad })),
      [obs('cbu', 'KZT', bad), obs('cbr', 'KZT', bad), obs('nbk', 'KZT', bad, { relErr: NaN })]
    ]) {
      const result = run(list, { currencies: ['KZT'] })
      assertSane(t, result.rates)
      for (const f of Object.values(result.fixings)) t.ok(Number.isFinite(f.price) && f.price > 0 && Number.isFinite(f.inverse), `fixing of ${bad}`)
      t.notOk(result.rates.some((r) => r.sources.some((s) => !(s.inverse > 0 && Number.isFinite(s.inverse)))), 'no vote shows a bad number')
    }
  }
})

t.test('a corrupt earlier fixing or published rate gives no Infinity either', async (t) => {
  const kzt = fixtureObservations().filter((o) => o.base === 'KZT')
  const history = historyOf({ KZT: [{ date: '2025-11-25', price: 1e-300, inverse: 1e300, basis: 'official', sources: [] }] })
  const result = run(kzt, { currencies: ['KZT'], history })
  assertSane(t, result.rates)
  t.equal(result.rates[0]?.change, null, 'no change against an absurd fixing')

  const previous = snapshotOf(run(kzt, { currencies: ['KZT'] }).rates.map((r) => ({ ...r, date: '2025-11-27', price: Infinity, inverse: 0 })))
  const kept = run([], { currencies: ['KZT'], previous })
  assertSane(t, kept.rates)
  t.same(kept.rates, [], 'a corrupt rate is not carried forward')
})
