import t from 'tap'
import { startOfDay } from '../../src/domain/dates.js'
import { DATE, NOW, historyOf, obs, rateOf, run } from './builders.js'

const kzt = [obs('nbk', 'KZT', 509.87), obs('cbu', 'KZT', 510.22), obs('cbr', 'KZT', 510.48)]
const price = 1 / 509.87

t.test('change is measured against the previous fixing', async (t) => {
  const up = rateOf(t, run(kzt, { history: historyOf({ KZT: [{ date: '2025-11-25', price: 1 / 511.62, inverse: 511.62, basis: 'official', sources: [] }] }) }), 'KZT')
  t.same(up.change, {
    pct: (price - 1 / 511.62) / (1 / 511.62) * 100,
    abs: price - 1 / 511.62,
    prevPrice: 1 / 511.62,
    prevDate: '2025-11-25'
  })
  t.ok(up.change !== null && up.change.pct > 0.3 && up.change.pct < 0.4, 'fewer KZT per USD is a rising KZT/USD')

  const down = rateOf(t, run(kzt, { history: historyOf({ KZT: [{ date: '2025-11-25', price: 1 / 505, inverse: 505, basis: 'consensus', sources: [] }] }) }), 'KZT')
  t.ok(down.change !== null && down.change.pct < 0 && down.change.abs < 0)
  t.equal(down.change?.prevPrice, 1 / 505)
})

t.test('an unchanged price gives 0, never -0', async (t) => {
  const rate = rateOf(t, run(kzt, { history: historyOf({ KZT: [{ date: '2025-11-25', price, inverse: 509.87, basis: 'official', sources: [] }] }) }), 'KZT')
  t.ok(rate.change !== null)
  t.ok(Object.is(rate.change?.pct, 0), 'pct is +0')
  t.ok(Object.is(rate.change?.abs, 0), 'abs is +0')
  t.equal(JSON.stringify(rate.change), `{"pct":0,"abs":0,"prevPrice":${price},"prevDate":"2025-11-25"}`)
})

t.test('change is null without an earlier fixing', async (t) => {
  t.equal(rateOf(t, run(kzt), 'KZT').change, null)
  const sameDay = rateOf(t, run(kzt, { history: historyOf({ KZT: [{ date: DATE, price: 1 / 600, inverse: 600, basis: 'official', sources: [] }] }) }), 'KZT')
  t.equal(sameDay.change, null, "a fixing of the rate's own date is not a previous one")
})

t.test('change uses the most recent earlier date, not the same or a later one', async (t) => {
  const history = historyOf({
    KZT: [
      { date: '2025-11-20', price: 1 / 500, inverse: 500, basis: 'official', sources: [] },
      { date: '2025-11-24', price: 1 / 512, inverse: 512, basis: 'official', sources: [] },
      { date: '2025-11-25', price: 1 / 511.62, inverse: 511.62, basis: 'official', sources: [] },
      { date: DATE, price: 1 / 600, inverse: 600, basis: 'consensus', sources: [] }
    ]
  })
  const rate = rateOf(t, run(kzt, { history }), 'KZT')
  t.equal(rate.change?.prevDate, '2025-11-25')
  t.equal(rate.change?.prevPrice, 1 / 511.62)
})

t.test('staleness follows the clock but never the chosen value', async (t) => {
  const almatyMidnight = startOfDay(DATE, 5)
  const limit = 96 * 3_600_000
  const fresh = run(kzt, { now: new Date(almatyMidnight + limit) })
  const stale = run(kzt, { now: new Date(almatyMidnight + limit + 1) })
  const a = rateOf(t, fresh, 'KZT')
  const b = rateOf(t, stale, 'KZT')
  t.equal(a.stale, false, 'exactly FX_STALE_AFTER_MS old is not yet stale')
  t.equal(b.stale, true)
  t.same({ ...b, stale: false }, a, 'same value, basis, sources')
  t.same(stale.fixings, fresh.fixings)
  t.equal(rateOf(t, run(kzt, { now: NOW }), 'KZT').stale, false)
})

t.test('nextExpectedAt is the next weekday at midnight in the home bank zone', async (t) => {
  const friday = '2025-11-28'
  const result = run([
    obs('nbk', 'KZT', 509.87, { date: friday }),
    obs('nbkr', 'KGS', 87.45, { date: friday }),
    obs('nbt', 'TJS', 9.1845, { date: '2025-11-25' })
  ], { now: new Date('2025-11-28T12:00:00.000Z') })
  t.equal(rateOf(t, result, 'KZT').nextExpectedAt, '2025-11-30T19:00:00.000Z', 'Monday 00:00 in UTC+5')
  t.equal(rateOf(t, result, 'KGS').nextExpectedAt, '2025-11-30T18:00:00.000Z', 'Monday 00:00 in UTC+6')
  t.equal(rateOf(t, result, 'TJS').nextExpectedAt, '2025-11-25T19:00:00.000Z', 'Wednesday after a Tuesday')
})

t.test('a weekly home rate is due a week later and stale six days later than a daily one', async (t) => {
  const saturday = '2025-11-22'
  const weekly = [obs('nbkr', 'KGS', 87.45, { date: saturday, cadence: 'weekly' })]
  const start = startOfDay(saturday, 6)
  const limit = 96 * 3_600_000 + 6 * 86_400_000
  const rate = rateOf(t, run(weekly, { now: new Date(start + limit) }), 'KGS')
  t.equal(rate.cadence, 'weekly')
  t.equal(rate.basis, 'official')
  t.equal(rate.nextExpectedAt, '2025-11-28T18:00:00.000Z', 'Saturday 00:00 in Bishkek')
  t.equal(rate.stale, false)
  t.equal(rateOf(t, run(weekly, { now: new Date(start + limit + 1) }), 'KGS').stale, true)

  const behind = rateOf(t, run([
    obs('nbkr', 'KGS', 87.45, { date: '2025-11-15', cadence: 'weekly' }),
    obs('cbu', 'KGS', 87.43, { date: '2025-11-21' })
  ]), 'KGS')
  t.equal(behind.basis, 'official', 'five weekdays behind is current for a weekly rate')
  const tooFar = run([
    obs('nbkr', 'KGS', 87.45, { date: '2025-11-15', cadence: 'weekly' }),
    obs('cbu', 'KGS', 87.43, { date: '2025-11-24' })
  ])
  t.notOk(tooFar.rates.some((r) => r.base === 'KGS'), 'six weekdays behind is not, and one voter is too few')
})

t.test('a malformed history fixing is skipped rather than published as prevPrice', async (t) => {
  const history = historyOf({
    KZT: [
      { date: '2025-11-24', price: 1 / 512, inverse: 512, basis: 'official', sources: [] },
      { date: '2025-11-25', price: 0, inverse: 0, basis: 'official', sources: [] }
    ]
  })
  const rate = rateOf(t, run(kzt, { history }), 'KZT')
  t.equal(rate.change?.prevDate, '2025-11-24')
})

t.test('a currency without a home bank is reconciled by consensus on UTC days', async (t) => {
  const result = run([obs('cbr', 'EUR', 0.86), obs('open-er-api', 'EUR', 0.8604)], { currencies: ['EUR'] })
  const rate = rateOf(t, result, 'EUR')
  t.equal(rate.basis, 'consensus')
  t.equal(rate.inverse, (0.86 + 0.8604) / 2)
  t.equal(rate.nextExpectedAt, '2025-11-27T00:00:00.000Z')
})
