import t from 'tap'
import type { Rate } from '../../src/domain/rate.js'
import { changedRates, sameRates } from '../../src/reconciler/reconcile.js'
import { NOW, obs, run } from './builders.js'

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
