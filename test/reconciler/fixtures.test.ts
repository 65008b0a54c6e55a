import t from 'tap'
import { HOME_SOURCE, SOURCE_IDS } from '../../src/domain/sources.js'
import { CURRENCIES, NOW, fixtureFiles, fixtureObservations, rateOf, run } from './builders.js'

const homeValue = (base: string): number => {
  const file = fixtureFiles.find((f) => f.source === HOME_SOURCE[base] && f.effective_date === '2025-11-26')
  return Number(file?.units_per_usd[base])
}

t.test('the 26.11.2025 fixtures publish every home bank value as official', async (t) => {
  t.equal(new Set(fixtureFiles.map((f) => f.source)).size, SOURCE_IDS.length, 'one or more files of every source')
  const result = run(fixtureObservations())
  t.same(result.rates.map((r) => r.base), CURRENCIES)
  const want: Record<string, number> = { KGS: 87.45, KZT: 509.87, UZS: 12041.18, TJS: 9.1845, TMT: 3.5 }
  for (const base of CURRENCIES) {
    const rate = rateOf(t, result, base)
    t.equal(rate.inverse, want[base], `${base} = ${want[base]}`)
    t.equal(rate.basis, 'official', `${base} official`)
    t.equal(rate.date, '2025-11-26')
    t.equal(rate.stale, false)
    const home = base === 'TMT' ? 'peg' : HOME_SOURCE[base]
    t.equal(rate.sources.find((s) => s.id === home)?.used, true, `${base}: the ${home} value is used`)
    for (const s of rate.sources) {
      if (s.used) continue
      t.match(s.reason, /^(value date 2025-11-22, not 2025-11-26|low precision \(.+\)|mirror of cbr|derived feed: used only as a fallback)$/,
        `${base}: ${s.id} is left out for a structural reason, not as an outlier`)
    }
    t.ok(rate.sources.filter((s) => s.used).length >= 4, `${base} is confirmed by several sources`)
  }
  const uzs = rateOf(t, result, 'UZS')
  t.match(uzs.sources.find((s) => s.id === 'nbkr')?.reason, /^low precision/, 'the coarse NBKR UZS does not vote')
  t.equal(rateOf(t, result, 'TMT').cadence, 'peg')
  t.equal(rateOf(t, result, 'KGS').sources.find((s) => s.id === 'cbr-xml-daily')?.reason, 'mirror of cbr')
})

t.test('a home value moved by +5 % is replaced by the consensus of the others', async (t) => {
  for (const base of ['KGS', 'KZT', 'UZS', 'TJS']) {
    const home = HOME_SOURCE[base]
    const moved = fixtureObservations().map((o) => o.source === home && o.base === base ? { ...o, inverse: o.inverse * 1.05 } : o)
    const rate = rateOf(t, run(moved, { now: NOW }), base)
    t.equal(rate.basis, 'consensus', `${base} consensus`)
    const vote = rate.sources.find((s) => s.id === home)
    t.equal(vote?.used, false)
    t.match(vote?.reason, /^outlier: \+(4\.\d\d|5\.\d\d) % from the median of \d+$/, `${base}: ${vote?.reason}`)
    const used = rate.sources.filter((s) => s.used).map((s) => s.inverse).sort((a, b) => a - b)
    const mid = used.length >> 1
    const median = used.length % 2 === 1 ? used[mid]! : (used[mid - 1]! + used[mid]!) / 2
    t.ok(used.length >= 2, `${base}: ${used.length} sources agree`)
    t.equal(rate.inverse, median, `${base}: the median of the used sources`)
    t.ok(Math.abs(rate.inverse / homeValue(base) - 1) < 0.015, `${base}: consensus is within the tolerance of the unmoved home value`)
  }
})
