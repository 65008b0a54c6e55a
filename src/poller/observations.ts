import { isUsableObservation } from '../domain/plausible.js'
import type { Observation, Quote } from '../domain/rate.js'
import type { SourceId } from '../domain/sources.js'

/**
 * The observations that may be weighed at `now`: a future value date (after tomorrow in the source's
 * zone), a date that is not one, or an implausible value is dropped, whoever stored it.
 */
export function usableObservations (observations: readonly Observation[], now: Date): Observation[] {
  return observations.filter((o) => isUsableObservation(o, now))
}

/**
 * Folds one source's fresh quotes into the set of last good observations.
 * - only `currencies` are kept: the rest of a 160-currency feed is noise here;
 * - a quote that is not usable at `now` (future date, implausible value) never enters, and held ones
 *   that are not usable any more are dropped, so a future date cannot make correct quotes look old;
 * - a currency the source no longer lists keeps its last good observation (an omission is not a zero);
 * - an older value date than the one already held is ignored, so a lagging CDN copy cannot roll a rate back;
 * - an unchanged quote keeps its first `fetchedAt`, so re-polling the same fixing changes nothing downstream.
 */
export function mergeObservations (
  held: readonly Observation[], source: SourceId, quotes: readonly Quote[], fetchedAt: Date, currencies: readonly string[], now: Date
): Observation[] {
  const wanted = new Set(currencies)
  const kept = usableObservations(held, now)
  const mine = new Map(kept.filter((o) => o.source === source).map((o) => [o.base, o]))
  const merged = new Map(mine)
  for (const q of quotes) {
    if (!wanted.has(q.base)) continue
    const fresh: Observation = { ...q, source, fetchedAt: fetchedAt.toISOString() }
    if (!isUsableObservation(fresh, now)) continue
    const old = mine.get(q.base)
    if (old !== undefined && q.date < old.date) continue
    const same = old !== undefined && old.date === q.date && old.inverse === q.inverse && old.relErr === q.relErr && old.cadence === q.cadence
    merged.set(q.base, same ? old : fresh)
  }
  return [...kept.filter((o) => o.source !== source), ...[...merged.values()].sort((a, b) => a.base.localeCompare(b.base))]
}

/** True when two observation sets hold the same facts. */
export function sameObservations (a: readonly Observation[], b: readonly Observation[]): boolean {
  if (a.length !== b.length) return false
  const key = (o: Observation): string => JSON.stringify([o.source, o.base, o.date, o.inverse, o.relErr, o.cadence, o.fetchedAt])
  const set = new Set(a.map(key))
  return b.every((o) => set.has(key(o)))
}
