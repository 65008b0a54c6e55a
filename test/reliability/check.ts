import type { Rate, Snapshot } from '../../src/domain/rate.js'
import { HOME_SOURCE } from '../../src/domain/sources.js'
import type { SourceId } from '../../src/domain/sources.js'
import { relDiff } from './scope.js'

/** An address or a filesystem path of the deployment where only a short public reason belongs. */
export const LEAK = /\b(?:\d{1,3}\.){3}\d{1,3}\b|\[?[0-9a-f]*::[0-9a-f:]*\]?:\d+|(?:^|[\s"'(=:])\/(?:tmp|home|var|work|usr|app|data|srv|opt|root|proc|etc|mnt)\/|state\.json/i

/** How far a published rate may stray from the expected value: the consensus of banks is well within it. */
export const TOLERANCE = 0.02

/** The published fields of a rate that a fault must not change (not the fetch time or staleness). */
export function signature (r: Rate): string {
  const { observedAt: _o, stale: _s, ...rest } = r
  return JSON.stringify(rest)
}

export interface RateCheck {
  /** Every rate must be this many times its baseline units per USD (one of them, while a move spreads). */
  factors?: number[]
  /** The sources at fault: a currency whose home bank is among them may fall back to the consensus. */
  faulty?: readonly SourceId[]
  /** Nothing may change at all. */
  strict?: boolean
}

/** What is wrong with a published snapshot compared with the baseline one; empty when nothing is. */
export function checkRates (s: Snapshot | undefined, base: Snapshot, { factors = [1], faulty = [], strict = false }: RateCheck = {}): string[] {
  if (s === undefined || !Array.isArray(s.rates)) return ['no snapshot served']
  const problems: string[] = []
  const got = new Map(s.rates.map((r) => [r.pair, r]))
  for (const want of base.rates) {
    const r = got.get(want.pair)
    if (r === undefined) {
      problems.push(`${want.pair} missing`)
      continue
    }
    if (!(Number.isFinite(r.price) && r.price > 0 && Number.isFinite(r.inverse) && r.inverse > 0)) {
      problems.push(`${r.pair} price ${r.price}`)
      continue
    }
    if (Math.abs(r.price * r.inverse - 1) > 1e-9) problems.push(`${r.pair} price × inverse = ${r.price * r.inverse}`)
    if (r.date > want.date) problems.push(`${r.pair} dated ${r.date} (future)`)
    if (r.date < want.date) problems.push(`${r.pair} rolled back to ${r.date}`)
    if (!factors.some((f) => relDiff(r.inverse, want.inverse * f) <= TOLERANCE)) {
      problems.push(`${r.pair} ${fmt(r.inverse)}/USD, expected ${factors.map((f) => fmt(want.inverse * f)).join(' or ')}`)
    }
    const home = HOME_SOURCE[r.base]
    if (factors.length === 1 && factors[0] === 1 && r.basis !== want.basis && (home === undefined || !faulty.includes(home))) {
      problems.push(`${r.pair} ${r.basis} instead of ${want.basis}`)
    }
    if (strict && problems.length === 0 && signature(r) !== signature(want)) problems.push(`${r.pair} changed (${diff(r, want)})`)
  }
  return problems
}

/** Every rate is `factor` times the baseline (within the tolerance). */
export function allAt (s: Snapshot | undefined, base: Snapshot, factor: number): boolean {
  return s !== undefined && base.rates.every((want) => {
    const r = s.rates?.find((x) => x.pair === want.pair)
    return r !== undefined && relDiff(r.inverse, want.inverse * factor) <= TOLERANCE
  })
}

/** The snapshot publishes exactly what the baseline did. */
export function same (s: Snapshot | undefined, base: Snapshot): boolean {
  return s !== undefined && Array.isArray(s.rates) && s.rates.length === base.rates.length &&
    base.rates.every((want) => { const r = s.rates.find((x) => x.pair === want.pair); return r !== undefined && signature(r) === signature(want) })
}

function fmt (n: number): string {
  return Number(n.toPrecision(6)).toString()
}

function diff (r: Rate, want: Rate): string {
  const fields = (Object.keys(want) as Array<keyof Rate>).filter((k) => k !== 'observedAt' && k !== 'stale' && JSON.stringify(r[k]) !== JSON.stringify(want[k]))
  return fields.join(', ')
}
