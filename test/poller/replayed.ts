import type { Test } from 'tap'
import type { ReplayServer } from '../../src/demo/replay.js'
import type { Observation, Snapshot } from '../../src/domain/rate.js'
import { HOME_SOURCE } from '../../src/domain/sources.js'
import { until } from '../support/until.js'

// the service's clock: Wednesday 26 Nov 2025, the recorded payloads' day
export const NOW = new Date('2025-11-26T09:00:00Z')
export const FUTURE = '2025-12-07' // 11 days ahead

/** Resolves once every source has answered at least twice more. */
export async function twoMoreRounds (upstream: ReplayServer): Promise<void> {
  const hits = upstream.hits()
  await until(() => Object.entries(upstream.hits()).every(([id, n]) => n >= (hits[id] ?? 0) + 2) && Object.keys(upstream.hits()).length >= 10,
    { timeoutMs: 15_000, what: 'two more rounds of every source' })
}

/** Every rate official, of the recorded day, from its home bank. */
export function assertCurrent (t: Test, s: Snapshot): void {
  t.same(s.rates.map((r) => r.base), ['KGS', 'KZT', 'TJS', 'UZS', 'TMT'])
  for (const r of s.rates) {
    t.equal(r.date, '2025-11-26', `${r.pair} is dated 2025-11-26`)
    t.equal(r.basis, 'official', `${r.pair} is official`)
    const home = HOME_SOURCE[r.base] ?? 'peg'
    t.equal(r.sources.find((v) => v.id === home)?.used, true, `${r.pair}: ${home} is used`)
    t.notOk(r.sources.some((v) => /behind/.test(v.reason ?? '') || v.date > '2025-11-27'), `${r.pair}: nobody behind, nothing from the future`)
  }
}

export const futureIn = (list: readonly Observation[]): Observation[] => list.filter((o) => o.date > '2025-11-27')
