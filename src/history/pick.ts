import type { Archive } from '../domain/archive.js'
import type { Fixing } from '../domain/rate.js'
import type { StateReads } from '../store/store.js'
import { fixingsOn } from './replay.js'
import type { ReplayOptions } from './replay.js'

/**
 * The fixings of `dates` reconciled from the archives that are worth storing, per base. The live pipeline
 * owns the date it publishes and any later one; an archive fixing replaces a stored one unless that is
 * official and the archive's only a consensus (a bank's own value is not overruled by its neighbours'),
 * and it is not written again when nothing in it changed.
 */
export function pickFixings (archive: Archive, dates: readonly string[], opts: ReplayOptions, reads: Pick<StateReads, 'snapshot' | 'history'>): Record<string, Fixing[]> {
  const live = new Map((reads.snapshot()?.rates ?? []).map((r) => [r.base, r.date]))
  const picked: Record<string, Fixing[]> = {}
  const held = new Map<string, Map<string, Fixing>>()
  const heldOf = (base: string): Map<string, Fixing> => {
    let byDate = held.get(base)
    if (byDate === undefined) {
      byDate = new Map(reads.history(base).map((f) => [f.date, f]))
      held.set(base, byDate)
    }
    return byDate
  }
  for (const date of dates) {
    for (const [base, fixing] of Object.entries(fixingsOn(archive, date, opts))) {
      const liveDate = live.get(base)
      if (liveDate !== undefined && date >= liveDate) continue
      const stored = heldOf(base).get(date)
      if (stored !== undefined && (same(stored, fixing) || (stored.basis === 'official' && fixing.basis === 'consensus' && stored.sources.length > 0))) continue
      ;(picked[base] ??= []).push(fixing)
    }
  }
  return picked
}

function same (a: Fixing, b: Fixing): boolean {
  return a.inverse === b.inverse && a.basis === b.basis && a.sources.length === b.sources.length && a.sources.every((s, i) => s === b.sources[i])
}
