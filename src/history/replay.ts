import type { Archive } from '../domain/archive.js'
import { addDays } from '../domain/dates.js'
import type { Fixing, Observation } from '../domain/rate.js'
import { zoneOf } from '../reconciler/schedule.js'
import { newestPrimaryDate, select } from '../reconciler/select.js'
import { inForce, isKnown } from './archive.js'

export interface ReplayOptions {
  currencies: readonly string[]
  outlierPct: number
}

/**
 * Every source's publication in force on `date`, as the observations a live poll on that day would have
 * held. A source whose archive has not told what was in force that day (its request failed, or is still
 * to come) has no say: its older set would pass for a day it did not publish.
 */
export function observationsOn (archive: Archive, date: string): Observation[] {
  const observations: Observation[] = []
  for (const [source, entry] of Object.entries(archive)) {
    if (!isKnown(entry, date)) continue
    const set = inForce(entry, date)
    if (set === undefined) continue
    const fetchedAt = `${set.date}T00:00:00.000Z`
    for (const [base, [inverse, relErr]] of Object.entries(set.quotes)) {
      observations.push({ base, inverse, date: set.date, relErr, cadence: 'daily', source, fetchedAt })
    }
  }
  return observations
}

/**
 * The fixings of `date`, per base, reconciled exactly as a live poll would have reconciled them that day:
 * the home bank's set cross-checked against the others, their median when it is missing, behind or off,
 * the peg where there is one. A base gets a fixing only when the decision is dated `date` itself: on a day
 * its bank did not publish, the decision is the earlier set's, which is that earlier day's fixing.
 */
export function fixingsOn (archive: Archive, date: string, opts: ReplayOptions): Record<string, Fixing> {
  const observations = observationsOn(archive, date)
  const fixings: Record<string, Fixing> = {}
  if (observations.length === 0) return fixings
  // the end of that day everywhere: every set in force then is current, none is in the future
  const now = new Date(`${addDays(date, 1)}T12:00:00.000Z`)
  const newestAnyDate = newestPrimaryDate(observations)
  for (const base of opts.currencies) {
    const decision = select(base, observations.filter((o) => o.base === base), {
      outlierPct: opts.outlierPct,
      now,
      utcOffsetHours: zoneOf(base),
      ...(newestAnyDate !== undefined && { newestAnyDate })
    })
    if (decision === undefined || decision.date !== date) continue
    fixings[base] = {
      date,
      price: 1 / decision.inverse,
      inverse: decision.inverse,
      basis: decision.basis,
      sources: decision.votes.filter((v) => v.used).map((v) => v.id)
    }
  }
  return fixings
}
