import type { Test } from 'tap'
import { RateSchema } from '../../src/domain/rate.js'
import type { Fixing, Observation, Rate, Snapshot } from '../../src/domain/rate.js'
import { reconcile } from '../../src/reconciler/reconcile.js'
import { SOURCE_IDS } from '../../src/domain/sources.js'
import { expectedOf } from '../support/expected.js'
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

// copies of a file already used (same numbers, another endpoint of the same source)
const DUPLICATES = new Set(['nbk/rates_all.xml', 'cbr-xml-daily/latest-2025-11-26.js'])
// the weekly file is what NBKR serves on 26.11 for TJS, UZS and TMT
const WEEKLY = 'nbkr/weekly.xml'
// quantisation of coarse quotes (UPSTREAMS.md): NBKR UZS 4 dp per unit, NBK KGS/UZS/TJS 2 dp per quant
const REL_ERR: Record<string, number> = { 'nbkr/UZS': 0.007, 'nbk/KGS': 0.0009, 'nbk/UZS': 0.0012, 'nbk/TJS': 0.0002 }

/** The 26.11.2025 payloads of every source (and the weekly file NBKR serves that day). */
export const fixtureFiles = SOURCE_IDS.flatMap((id) => expectedOf(id)).filter((f) =>
  f.kind === 'rates' && !DUPLICATES.has(f.file) && (f.effective_date === '2025-11-26' || f.file === WEEKLY))

/** Every currency of those payloads as the poller would hold it. */
export function fixtureObservations (): Observation[] {
  return fixtureFiles.flatMap((f) => Object.entries(f.units_per_usd).flatMap(([base, text]): Observation[] => text === null
    ? []
    : [{
        base,
        inverse: Number(text),
        date: f.effective_date ?? '',
        relErr: REL_ERR[`${f.source}/${base}`] ?? 1e-6,
        cadence: f.file === WEEKLY ? 'weekly' : 'daily',
        source: f.source,
        fetchedAt: '2025-11-26T06:00:00.000Z'
      }]))
}
