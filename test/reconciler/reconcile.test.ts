import t from 'tap'
import { RateSchema } from '../../src/domain/rate.js'
import type { Rate } from '../../src/domain/rate.js'
import { NOW, obs, rateOf, run, snapshotOf, voteOf } from './builders.js'

const kzt = [
  obs('nbk', 'KZT', 509.87),
  obs('cbu', 'KZT', 510.219492),
  obs('nbt', 'KZT', 509.400998),
  obs('cbt', 'KZT', 510.12),
  obs('cbr', 'KZT', 510.48055),
  obs('open-er-api', 'KZT', 510.073948)
]

t.test('the home value is published as official when every source agrees', async (t) => {
  const result = run([...kzt, obs('fawazahmed0', 'KZT', 510.233899)])
  const rate = rateOf(t, result, 'KZT')
  t.equal(rate.pair, 'KZT/USD')
  t.equal(rate.inverse, 509.87)
  t.equal(rate.price, 1 / 509.87)
  t.equal(rate.basis, 'official')
  t.equal(rate.cadence, 'daily')
  t.equal(rate.date, '2025-11-26')
  t.same(rate.sources.map((s) => s.id), ['nbk', 'cbu', 'nbt', 'cbt', 'cbr', 'open-er-api', 'fawazahmed0'], 'in SOURCE_IDS order')
  for (const s of rate.sources.slice(0, 6)) {
    t.ok(s.used, `${s.id} used`)
    t.notOk('reason' in s, `${s.id} has no reason`)
  }
  t.same(voteOf(rate, 'fawazahmed0'), { id: 'fawazahmed0', inverse: 510.233899, date: '2025-11-26', used: false, reason: 'derived feed: used only as a fallback' })
  t.same(result.fixings.KZT, { date: '2025-11-26', price: 1 / 509.87, inverse: 509.87, basis: 'official', sources: ['nbk', 'cbu', 'nbt', 'cbt', 'cbr', 'open-er-api'] })
  t.same(result.rates.map((r) => r.base), ['KZT', 'TMT'], 'currencies without observations are absent, but the peg needs none')
  t.same(Object.keys(rate), Object.keys(RateSchema.shape), 'keys in RateSchema order')
})

t.test('a voter far from the published value is rejected, the home stays official', async (t) => {
  const rate = rateOf(t, run([...kzt, obs('cbr', 'KZT', 509.87 * 0.969)]), 'KZT')
  t.equal(rate.basis, 'official')
  t.equal(rate.inverse, 509.87)
  t.same(voteOf(rate, 'cbr'), { id: 'cbr', inverse: 509.87 * 0.969, date: '2025-11-26', used: false, reason: 'outlier: -3.10 % from the published value' })
  t.ok(voteOf(rate, 'cbu')?.used)
})

t.test("CBU's 01.04.2026 TMT glitch of 3.02 is rejected; TMT stays at the peg", async (t) => {
  const day = { date: '2026-04-01', fetchedAt: '2026-04-01T08:00:00.000Z' }
  const result = run([
    obs('cbu', 'TMT', 3.02, day),
    obs('cbt', 'TMT', 3.5, { ...day, fetchedAt: '2026-04-01T09:30:00.000Z' }),
    obs('cbr', 'TMT', 3.499996, day),
    obs('nbt', 'TMT', 3.500057, day),
    obs('open-er-api', 'TMT', 3.500532, day)
  ], { now: new Date('2026-04-01T12:00:00.000Z') })
  const rate = rateOf(t, result, 'TMT')
  t.equal(rate.inverse, 3.5)
  t.equal(rate.basis, 'official')
  t.equal(rate.cadence, 'peg')
  t.equal(rate.nextExpectedAt, null)
  t.equal(rate.stale, false)
  t.same(rate.sources[0], { id: 'peg', inverse: 3.5, date: '2026-04-01', used: true })
  t.same(voteOf(rate, 'cbu'), { id: 'cbu', inverse: 3.02, date: '2026-04-01', used: false, reason: 'outlier: -13.71 % from the published value' })
  t.same(rate.sources.filter((s) => s.used).map((s) => s.id), ['peg', 'nbt', 'cbt', 'cbr', 'open-er-api'])
  t.equal(rate.observedAt, '2026-04-01T09:30:00.000Z', 'the latest fetch among the used observations')
})

t.test('a home value far from the median of the others gives way to consensus', async (t) => {
  const others = [87.456261, 87.425978, 87.471429, 87.406303]
  const result = run([
    obs('nbkr', 'KGS', 87.45 * 1.05),
    obs('nbk', 'KGS', others[0]!),
    obs('cbu', 'KGS', others[1]!),
    obs('nbt', 'KGS', others[2]!),
    obs('cbr', 'KGS', others[3]!)
  ])
  const rate = rateOf(t, result, 'KGS')
  const median = (87.425978 + 87.456261) / 2
  t.equal(rate.basis, 'consensus')
  t.equal(rate.inverse, median)
  t.equal(rate.cadence, 'daily')
  const home = voteOf(rate, 'nbkr')
  t.equal(home?.used, false)
  t.equal(home?.reason, `outlier: +${((87.45 * 1.05 / median - 1) * 100).toFixed(2)} % from the median of 4`)
  t.match(home?.reason, /^outlier: \+5\.0\d % from the median of 4$/)
  t.same(rate.sources.filter((s) => s.used).map((s) => s.id), ['nbk', 'cbu', 'nbt', 'cbr'])
  t.same(result.fixings.KGS, { date: '2025-11-26', price: 1 / median, inverse: median, basis: 'consensus', sources: ['nbk', 'cbu', 'nbt', 'cbr'] })
})

t.test('consensus rejects its own outliers and needs two survivors', async (t) => {
  const rate = rateOf(t, run([
    obs('nbk', 'KGS', 87.4),
    obs('cbu', 'KGS', 87.5),
    obs('cbr', 'KGS', 95)
  ]), 'KGS')
  t.equal(rate.basis, 'consensus', 'no NBKR observation at all')
  t.equal(rate.inverse, (87.4 + 87.5) / 2, 'the median of the survivors')
  t.match(voteOf(rate, 'cbr')?.reason, /^outlier: \+8\.5\d % from the median of 3$/)

  const none = run([obs('nbk', 'KGS', 87.4), obs('cbu', 'KGS', 95), obs('cbr', 'KGS', 80)])
  t.same(none.rates.map((r) => r.base), ['TMT'], 'one survivor is not enough')
  t.same(Object.keys(none.fixings), ['TMT'])
})

t.test('a home two weekdays behind the newest source gives way to consensus', async (t) => {
  const others = [obs('nbt', 'UZS', 12037.35), obs('cbr', 'UZS', 12033.95), obs('open-er-api', 'UZS', 12048.4)]
  const rate = rateOf(t, run([obs('cbu', 'UZS', 12041.18, { date: '2025-11-24' }), ...others]), 'UZS')
  t.equal(rate.basis, 'consensus')
  t.equal(rate.inverse, 12037.35)
  t.equal(rate.date, '2025-11-26')
  t.same(voteOf(rate, 'cbu'), { id: 'cbu', inverse: 12041.18, date: '2025-11-24', used: false, reason: 'behind: value date 2025-11-24, newest 2025-11-26' })

  const oneBehind = rateOf(t, run([obs('cbu', 'UZS', 12041.18, { date: '2025-11-25' }), ...others]), 'UZS')
  t.equal(oneBehind.basis, 'official', 'one weekday behind is still current')
  t.equal(oneBehind.date, '2025-11-25')
  t.same(voteOf(oneBehind, 'nbt'), { id: 'nbt', inverse: 12037.35, date: '2025-11-26', used: false, reason: 'value date 2025-11-26, not 2025-11-25' })
})

t.test('a Friday home is current against a Sunday NBT date', async (t) => {
  const result = run([
    obs('nbk', 'KZT', 509.87, { date: '2025-11-28' }),
    obs('cbu', 'KZT', 510.2, { date: '2025-11-28' }),
    obs('cbr', 'KZT', 510.5, { date: '2025-11-28' }),
    obs('nbt', 'KZT', 509.4, { date: '2025-11-30' })
  ], { now: new Date('2025-11-30T10:00:00.000Z') })
  const rate = rateOf(t, result, 'KZT')
  t.equal(rate.basis, 'official')
  t.equal(rate.date, '2025-11-28')
  t.equal(voteOf(rate, 'nbt')?.reason, 'value date 2025-11-30, not 2025-11-28')
  t.equal(rate.nextExpectedAt, '2025-11-30T19:00:00.000Z', 'Monday 00:00 in Almaty')
})

t.test('with fewer than two voters the previous rate stays, ageing', async (t) => {
  const first = run([...kzt])
  const previous = snapshotOf(first.rates)
  const kept = run([obs('cbr', 'KZT', 600)], { previous })
  t.same(kept.rates, first.rates, 'value, date, basis, sources, change as they were')
  t.notOk('KZT' in kept.fixings, 'no fixing for a kept rate')

  const later = new Date(NOW.getTime() + 10 * 86_400_000)
  const aged = run([obs('cbr', 'KZT', 600)], { previous, now: later })
  const rate = rateOf(t, aged, 'KZT')
  t.equal(rate.stale, true)
  t.same({ ...rate, stale: false }, first.rates[0])
  t.equal(first.rates[0]?.stale, false)

  const noHome = run([obs('nbk', 'KZT', 509.9, { date: '2025-11-21' }), obs('cbu', 'KZT', 600)], { previous })
  t.same(noHome.rates, first.rates, 'a home behind plus one voter is not enough either')
})

t.test('a currency with nothing and no previous rate is left out', async (t) => {
  const result = run([obs('cbr', 'KGS', 87.4), ...kzt])
  t.same(result.rates.map((r) => r.base), ['KZT', 'TMT'])
  t.notOk('KGS' in result.fixings)
  const ordered = run([...kzt, obs('nbkr', 'KGS', 87.45)], { currencies: ['KZT', 'KGS'] })
  t.same(ordered.rates.map((r) => r.pair), ['KZT/USD', 'KGS/USD'], 'in `currencies` order')
})

t.test('a low-precision quote does not vote', async (t) => {
  const rate = rateOf(t, run([
    obs('nbkr', 'UZS', 12145.83, { relErr: 0.007 }),
    obs('nbt', 'UZS', 12037.35),
    obs('cbr', 'UZS', 12033.95)
  ]), 'UZS')
  t.equal(rate.inverse, (12037.35 + 12033.95) / 2, 'the median without the coarse NBKR value')
  t.same(voteOf(rate, 'nbkr'), { id: 'nbkr', inverse: 12145.83, date: '2025-11-26', used: false, reason: 'low precision (±0.70 %)' })
  const fine = rateOf(t, run([obs('nbk', 'UZS', 12053.66, { relErr: 0.0012 }), obs('cbr', 'UZS', 12033.95)]), 'UZS')
  t.equal(fine.inverse, (12053.66 + 12033.95) / 2, 'relErr 0.12 % is within a tenth of 1.5 %')
})

t.test('a mirror counts only when its original has no observation of the same date', async (t) => {
  const dup = rateOf(t, run([obs('nbk', 'KZT', 509.87), obs('cbr', 'KZT', 510.48), obs('cbr-xml-daily', 'KZT', 510.48), obs('cbu', 'KZT', 510.2)]), 'KZT')
  t.same(voteOf(dup, 'cbr-xml-daily'), { id: 'cbr-xml-daily', inverse: 510.48, date: '2025-11-26', used: false, reason: 'mirror of cbr' })

  const alone = rateOf(t, run([obs('cbr-xml-daily', 'KZT', 510.48), obs('cbu', 'KZT', 510.2), obs('cbr', 'KZT', 511.6, { date: '2025-11-25' })]), 'KZT')
  t.equal(alone.basis, 'consensus')
  t.equal(alone.inverse, (510.48 + 510.2) / 2)
  t.equal(voteOf(alone, 'cbr-xml-daily')?.used, true)
  t.equal(voteOf(alone, 'cbr')?.reason, 'value date 2025-11-25, not 2025-11-26')
})

t.test('derived feeds vote only when fewer than two others do', async (t) => {
  const fallback = rateOf(t, run([obs('cbr', 'KGS', 87.40), obs('frankfurter', 'KGS', 87.45), obs('fawazahmed0', 'KGS', 87.43)]), 'KGS')
  t.equal(fallback.basis, 'consensus')
  t.equal(fallback.inverse, 87.43)
  t.ok(fallback.sources.every((s) => s.used))

  const enough = rateOf(t, run([obs('cbr', 'KGS', 87.40), obs('nbk', 'KGS', 87.46), obs('frankfurter', 'KGS', 87.45)]), 'KGS')
  t.equal(enough.inverse, (87.40 + 87.46) / 2)
  t.equal(voteOf(enough, 'frankfurter')?.reason, 'derived feed: used only as a fallback')
})

t.test('the newest observation of each source is the one weighed', async (t) => {
  const rate = rateOf(t, run([
    obs('nbk', 'KZT', 509.87),
    obs('nbk', 'KZT', 511.62, { date: '2025-11-25' }),
    obs('cbu', 'KZT', 512.03, { date: '2025-11-25' }),
    obs('cbu', 'KZT', 510.22)
  ]), 'KZT')
  t.same(rate.sources, [
    { id: 'nbk', inverse: 509.87, date: '2025-11-26', used: true },
    { id: 'cbu', inverse: 510.22, date: '2025-11-26', used: true }
  ])
})

t.test('the peg stands alone when no TMT source answers', async (t) => {
  const now = new Date('2025-11-26T20:00:00.000Z') // already the 27th in Ashgabat
  const rate = rateOf(t, run([], { now, currencies: ['TMT'] }), 'TMT')
  t.same(rate.sources, [{ id: 'peg', inverse: 3.5, date: '2025-11-27', used: true }])
  t.equal(rate.date, '2025-11-27')
  t.equal(rate.observedAt, '2025-11-26T19:00:00.000Z', 'midnight in UTC+5')
  t.equal(rate.cadence, 'peg')
  t.equal(rate.nextExpectedAt, null)
  t.equal(rate.change, null)
  const later = rateOf(t, run([obs('cbt', 'TMT', 3.5, { date: '2025-11-20' })], { now: new Date('2026-01-01T00:00:00.000Z') }), 'TMT')
  t.equal(later.stale, false, 'a peg never goes stale')
  t.equal(later.date, '2025-11-20', 'dated by the newest TMT observation')
})

t.test('the same input gives the same output whatever the observation order', async (t) => {
  const all = [...kzt, obs('nbkr', 'KGS', 87.45), obs('cbu', 'KGS', 87.43), obs('cbr', 'TMT', 3.49), obs('cbt', 'TMT', 3.5)]
  const a = run(all)
  const b = run([...all].reverse())
  t.same(b, a)
  t.equal(JSON.stringify(b), JSON.stringify(a))
})

t.test('garbage observations are ignored', async (t) => {
  const rate = rateOf(t, run([...kzt, obs('cbu', 'KZT', -1, { date: '2025-11-27' }), obs('cbt', 'KZT', 510, { date: '2025-02-30' })]), 'KZT')
  t.equal(voteOf(rate, 'cbu')?.inverse, 510.219492, 'a non-positive value cannot displace the last good one')
  t.equal(voteOf(rate, 'cbt')?.inverse, 510.12)
  const unknown = rateOf(t, run([...kzt, obs('some-feed', 'KZT', 510)]), 'KZT')
  t.same(unknown.sources.at(-1), { id: 'some-feed', inverse: 510, date: '2025-11-26', used: false, reason: 'unknown source' })
})

t.test('a kept rate from JSON is normalised to RateSchema key order', async (t) => {
  const first = run([...kzt])
  const reverse = (value: unknown): unknown => Array.isArray(value)
    ? value.map(reverse)
    : value !== null && typeof value === 'object' ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverse(v)])) : value
  const shuffled = reverse(first.rates[0]) as Rate
  t.not(JSON.stringify(shuffled), JSON.stringify(first.rates[0]))
  const kept = run([], { previous: snapshotOf([shuffled]), currencies: ['KZT'] })
  t.equal(JSON.stringify(kept.rates[0]), JSON.stringify(first.rates[0]))
})

t.test('the peg itself gives way when every TMT source moves away from it', async (t) => {
  const rate = rateOf(t, run([obs('cbt', 'TMT', 3.8), obs('cbu', 'TMT', 3.799), obs('cbr', 'TMT', 3.802)]), 'TMT')
  t.equal(rate.basis, 'consensus')
  t.equal(rate.inverse, 3.8)
  t.same(rate.sources[0], { id: 'peg', inverse: 3.5, date: '2025-11-26', used: false, reason: 'outlier: -7.89 % from the median of 3' })
  t.ok(rate.sources.slice(1).every((s) => s.used), 'CBT votes like any other bank')
  t.equal(rate.cadence, 'daily', 'a consensus that overrides the peg is not presented as the peg')
  t.type(rate.nextExpectedAt, 'string')
})

t.test('a decision for an older value date than the one published keeps the published rate', async (t) => {
  const published = rateOf(t, run([obs('nbk', 'KZT', 509.87), obs('cbu', 'KZT', 510.2), obs('cbr', 'KZT', 510.48)]), 'KZT')
  // NBK disappears; the others fall back to Monday's fixing (a lagging mirror, say)
  const older = [obs('cbu', 'KZT', 512.03, { date: '2025-11-24' }), obs('cbr', 'KZT', 512.23, { date: '2025-11-24' })]
  const rate = rateOf(t, run(older, { previous: snapshotOf([published]) }), 'KZT')
  t.equal(rate.date, '2025-11-26', 'the rate does not roll back')
  t.equal(rate.inverse, published.inverse)
})

t.test('the bare peg takes the feeds\' newest date, and confirmed data may replace a guessed date', async (t) => {
  // NBK answers first: TMT has no observation yet
  const first = rateOf(t, run([obs('nbk', 'KZT', 509.87, { date: '2025-11-25' })], { now: new Date('2025-11-27T09:00:00Z') }), 'TMT')
  t.equal(first.date, '2025-11-25', 'not the wall-clock date')
  // a bare peg published on an empty round (dated from the clock) gives way to the confirmed date
  const guessed = rateOf(t, run([], { now: new Date('2025-11-27T09:00:00Z') }), 'TMT')
  t.equal(guessed.date, '2025-11-27')
  const confirmed = rateOf(t, run([obs('cbt', 'TMT', 3.5, { date: '2025-11-26' }), obs('cbr', 'TMT', 3.5001, { date: '2025-11-26' })],
    { now: new Date('2025-11-27T09:00:00Z'), previous: snapshotOf([guessed]) }), 'TMT')
  t.equal(confirmed.date, '2025-11-26')
  t.same(confirmed.sources.map((s) => s.id), ['peg', 'cbt', 'cbr'])
})
