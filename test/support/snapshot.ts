import type { Rate } from '../../src/domain/rate.js'
import type { PublishInput } from '../../src/store/store.js'

/** A valid published rate for tests: `inverse` units of `base` per USD. */
export function rate (base: string, inverse: number, overrides: Partial<Rate> = {}): Rate {
  const date = overrides.date ?? '2025-11-26'
  return {
    pair: `${base}/USD`,
    base,
    quote: 'USD',
    price: 1 / inverse,
    inverse,
    date,
    basis: 'official',
    cadence: 'daily',
    nextExpectedAt: '2025-11-27T00:00:00.000Z',
    change: null,
    stale: false,
    observedAt: `${date}T06:00:00.000Z`,
    sources: [{ id: 'cbr', inverse, date, used: true }],
    ...overrides
  }
}

/** A publish of the given rates with their fixings, as the ingest plugin would hand it to the store. */
export function publishInput (rates: Rate[]): PublishInput {
  return {
    rates,
    fixings: Object.fromEntries(rates.map((r) => [r.base, { date: r.date, price: r.price, inverse: r.inverse, basis: r.basis, sources: r.sources.filter((s) => s.used).map((s) => s.id) }])),
    observations: []
  }
}

/** The five default currencies at late-November-2025 levels. */
export function fiveRates (overrides: Partial<Record<string, number>> = {}): Rate[] {
  const levels: Record<string, number> = { KGS: 87.45, KZT: 509.87, TJS: 9.1845, UZS: 12041.18, TMT: 3.5, ...overrides } as Record<string, number>
  return Object.entries(levels).map(([base, inverse]) => rate(base, inverse, base === 'TMT' ? { cadence: 'peg', nextExpectedAt: null } : {}))
}
