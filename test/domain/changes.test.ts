import t from 'tap'
import type { Rate } from '../../src/domain/rate.js'
import { changedRates, diffRates, orderRate, sameRates } from '../../src/domain/changes.js'
import { NOW, obs, run } from '../reconciler/builders.js'

const base = run([
  obs('nbk', 'KZT', 509.87), obs('cbu', 'KZT', 510.22), obs('cbr', 'KZT', 510.48),
  obs('nbkr', 'KGS', 87.45), obs('cbu', 'KGS', 87.43)
]).rates

const edit = (rates: readonly Rate[], pair: string, change: (r: Rate) => Rate): Rate[] =>
  rates.map((r) => r.pair === pair ? change(structuredClone(r)) : r)

t.test('identical rates are the same, whatever the order or key order', async (t) => {
  t.equal(base.length, 3)
  t.ok(sameRates(base, structuredClone(base)))
  t.ok(sameRates(base, [...base].reverse()), 'matched by pair')
  const reordered = base.map((r) => Object.fromEntries(Object.entries(r).reverse()) as Rate)
  t.ok(sameRates(base, reordered))
  t.same(changedRates(base, reordered), [])
  t.ok(sameRates([], []))
})

t.test('any published field that differs counts', async (t) => {
  const cases: Array<[string, (r: Rate) => Rate]> = [
    ['price', (r) => ({ ...r, price: r.price * 1.0001 })],
    ['stale', (r) => ({ ...r, stale: !r.stale })],
    ['basis', (r) => ({ ...r, basis: 'consensus' })],
    ['change', (r) => ({ ...r, change: { pct: 0, abs: 0, prevPrice: r.price, prevDate: '2025-11-25' } })],
    ['observedAt', (r) => ({ ...r, observedAt: NOW.toISOString() })],
    ['nextExpectedAt', (r) => ({ ...r, nextExpectedAt: null })],
    ['a source reason', (r) => ({ ...r, sources: r.sources.map((s, i) => i === 1 ? { ...s, used: false, reason: 'outlier' } : s) })],
    ['a source fewer', (r) => ({ ...r, sources: r.sources.slice(1) })]
  ]
  for (const [name, change] of cases) {
    const next = edit(base, 'KZT/USD', change)
    t.notOk(sameRates(base, next), `${name} differs`)
    t.same(changedRates(base, next).map((r) => r.pair), ['KZT/USD'], `only KZT/USD changed by ${name}`)
  }
})

t.test('a rate added or removed is a difference', async (t) => {
  const fewer = base.filter((r) => r.pair !== 'KGS/USD')
  t.notOk(sameRates(base, fewer))
  t.notOk(sameRates(fewer, base))
  t.same(changedRates(fewer, base).map((r) => r.pair), ['KGS/USD'], 'a new pair is an update')
  t.same(changedRates(base, fewer), [], 'nothing in next changed')
  const twice = [base[0]!, base[0]!, base[2]!]
  t.notOk(sameRates(base, twice), 'a duplicated pair cannot pass for the missing one')
})

t.test('diffRates names the dropped pairs, which an update cannot express', async (t) => {
  const fewer = base.filter((r) => r.pair !== 'KGS/USD')
  t.same(diffRates(base, fewer), { changed: [], removed: ['KGS/USD'] })
  t.same(diffRates(fewer, base), { changed: base.filter((r) => r.pair === 'KGS/USD'), removed: [] })
  const moved = edit(fewer, 'KZT/USD', (r) => ({ ...r, price: r.price * 1.01 }))
  const both = diffRates(base, moved)
  t.same(both.removed, ['KGS/USD'])
  t.same(both.changed.map((r) => r.pair), ['KZT/USD'])
  t.same(diffRates([], []), { changed: [], removed: [] })
})

t.test('the published form is compared: key order and an undefined optional key do not count', async (t) => {
  const withUndefined = edit(base, 'KZT/USD', (r) => ({ ...r, sources: r.sources.map((s) => ({ ...s, reason: s.reason })) }))
  t.ok(sameRates(base, withUndefined))
  t.same(diffRates(base, withUndefined).changed, [])
  const reordered = base.map((r) => Object.fromEntries(Object.entries(r).reverse()) as Rate)
  t.same(reordered.map(orderRate), base, 'orderRate restores the schema order')
  t.same(Object.keys(orderRate(reordered[0]!)), Object.keys(base[0]!))
})

t.test('the same lists in another order are the same; a repeated pair never is', async (t) => {
  const [a, b, c] = [base[0]!, base[1]!, base[2]!]
  t.ok(sameRates([a, b, c], [c, a, b]))
  t.notOk(sameRates([a, a, b], [a, b, b]), 'repeats on both sides')
  t.notOk(sameRates([a, a], [a, a]), 'a repeated pair cannot be matched')
})
