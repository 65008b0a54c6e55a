import type { Test } from 'tap'
import { RateSchema } from '../../src/domain/rate.js'
import type { Fixing, Observation, Rate, Snapshot } from '../../src/domain/rate.js'
import { reconcile } from '../../src/reconciler/reconcile.js'
import type { ReconcileInput, ReconcileResult } from '../../src/reconciler/reconcile.js'

/** Wednesday, mid-day in Central Asia. */
export const NOW = new Date('2025-11-26T12:00:00.000Z')
export const DATE = '2025-11-26'
export const CURRENCIES = ['KGS', 'KZT', 'TJS', 'UZS', 'TMT']

/** One observation; a precise daily quote of DATE fetched at 06:00 UTC unless told otherwise. */
export function obs (source: string, base: string, inverse: number, more: Partial<Observation> = {}): Observation {
  return {
    base,
    inverse,
    date: DATE,
    relErr: 1e-6,
    cadence: 'daily',
    source,
    fetchedAt: '2025-11-26T06:00:00.000Z',
    ...more
  }
}

export function run (observations: Observation[], more: Partial<ReconcileInput> = {}): ReconcileResult {
  return reconcile({
    currencies: CURRENCIES,
    quote: 'USD',
    observations,
    previous: undefined,
    history: () => [],
    now: NOW,
    outlierPct: 1.5,
    staleAfterMs: 96 * 3_600_000,
    ...more
  })
}

/** The rate of `base`, after checking that every rate of the result is a valid RateSchema value. */
export function rateOf (t: Test, result: ReconcileResult, base: string): Rate {
  for (const r of result.rates) {
    const parsed = RateSchema.safeParse(r)
    t.ok(parsed.success, `${r.pair} parses with RateSchema`)
    t.ok(Math.abs(r.price * r.inverse - 1) < 1e-12, `${r.pair} price × inverse is 1`)
  }
  const rate = result.rates.find((r) => r.base === base)
  t.ok(rate, `a rate for ${base}`)
  if (rate === undefined) throw new Error(`no rate for ${base}`)
  return rate
}

export function voteOf (rate: Rate, id: string): Rate['sources'][number] | undefined {
  return rate.sources.find((s) => s.id === id)
}

export function snapshotOf (rates: Rate[]): Snapshot {
  return { quote: 'USD', seq: 7, updatedAt: '2025-11-20T10:00:00.000Z', rates }
}

export function historyOf (fixings: Record<string, Fixing[]>): (base: string) => Fixing[] {
  return (base) => fixings[base] ?? []
}
