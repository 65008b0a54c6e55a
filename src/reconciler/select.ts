import { civilDate, weekdaysBetween } from '../domain/dates.js'
import { isUsableObservation } from '../domain/plausible.js'
import type { Basis, Observation } from '../domain/rate.js'
import { HOME_SOURCE, PEGS, SOURCE_IDS, SOURCE_INFO, isSourceId } from '../domain/sources.js'
import type { SourceRole } from '../domain/sources.js'
import { deviationPct, median } from './median.js'
import { reasons } from './reasons.js'

/** Tolerance around a peg, in percent: a managed rate moves far less than a floating one. */
export const PEG_TOLERANCE_PCT = 0.2

/** One observation (or the peg) as the reconciler weighs it. */
export interface Vote {
  id: string
  inverse: number
  date: string
  /** undefined for a source the service does not know. */
  role: SourceRole | 'peg' | undefined
  cadence: 'daily' | 'weekly'
  /** undefined for the peg, which nobody fetched. */
  fetchedAt: string | undefined
  used: boolean
  reason?: string
}

export interface Decision {
  inverse: number
  date: string
  basis: Basis
  /** Cadence of the published value's own source: the home's when official. */
  cadence: 'daily' | 'weekly'
  votes: Vote[]
}

export interface SelectOptions {
  outlierPct: number
  now: Date
  utcOffsetHours: number
  /** The newest value date any primary source gives for any currency: a bare peg's date, so it does not outrun the feeds. */
  newestAnyDate?: string
}

const order = (id: string): number => {
  const i = (SOURCE_IDS as readonly string[]).indexOf(id)
  return i === -1 ? SOURCE_IDS.length : i
}

/** Orders candidates of one source so the first is the one to keep, whatever the input order. */
const preferred = (a: Observation, b: Observation): number =>
  b.date.localeCompare(a.date) || Date.parse(b.fetchedAt) - Date.parse(a.fetchedAt) || a.inverse - b.inverse || a.relErr - b.relErr

/**
 * The newest value date among sources the service knows, derived feeds left out unless `withDerived`.
 * Derived feeds blend the same banks on their own schedule, so a date only they give is no evidence
 * that a bank is behind.
 */
export function newestPrimaryDate (observations: readonly Observation[], withDerived = false): string | undefined {
  let newest: string | undefined
  for (const o of observations) {
    const counts = isSourceId(o.source) && (withDerived || SOURCE_INFO[o.source].role !== 'derived')
    if (counts && (newest === undefined || o.date > newest)) newest = o.date
  }
  return newest
}

/** One observation per source, the newest value date; garbage (implausible value, bad or future date) is dropped. */
function newestPerSource (observations: readonly Observation[], now: Date): Observation[] {
  const bySource = new Map<string, Observation>()
  for (const o of observations) {
    if (!isUsableObservation(o, now)) continue
    const held = bySource.get(o.source)
    if (held === undefined || preferred(o, held) < 0) bySource.set(o.source, o)
  }
  return [...bySource.values()].sort((a, b) => order(a.source) - order(b.source) || a.source.localeCompare(b.source))
}

/** Marks votes that must not count whatever the date: unknown sources, duplicated mirrors, coarse quotes. */
function prejudge (latest: readonly Observation[], tolerancePct: number): Vote[] {
  const dateOf = new Map(latest.map((o) => [o.source, o.date]))
  const maxRelErr = tolerancePct / 100 / 10
  return latest.map((o) => {
    const info = isSourceId(o.source) ? SOURCE_INFO[o.source] : undefined
    const vote: Vote = { id: o.source, inverse: o.inverse, date: o.date, role: info?.role, cadence: o.cadence, fetchedAt: o.fetchedAt, used: false }
    if (info === undefined) {
      vote.reason = reasons.unknownSource
    } else if (info.mirrorOf !== undefined && dateOf.get(info.mirrorOf) === o.date) {
      vote.reason = reasons.mirrorOf(info.mirrorOf)
    } else if (!(o.relErr <= maxRelErr)) {
      // a quote rounded to a few digits cannot confirm or refute a value within the tolerance
      vote.reason = reasons.lowPrecision(o.relErr)
    }
    return vote
  })
}

/**
 * The votes of one currency: its home bank's fixing (or its peg) when current and in line with the
 * other sources of the same date, else the median of those others, else nothing (undefined), in
 * which case the caller keeps the last good value.
 */
export function select (base: string, observations: readonly Observation[], opts: SelectOptions): Decision | undefined {
  const peg = PEGS[base]
  const tolerance = peg === undefined ? opts.outlierPct : PEG_TOLERANCE_PCT
  const latest = newestPerSource(observations, opts.now)
  const votes = prejudge(latest, tolerance)
  const newest = newestPrimaryDate(latest)

  let home: Vote | undefined
  if (peg !== undefined) {
    // derived feeds date the peg only when no primary source gives any date at all
    const date = newest ?? opts.newestAnyDate ?? newestPrimaryDate(latest, true) ?? civilDate(opts.now, opts.utcOffsetHours)
    home = { id: 'peg', inverse: peg, date, role: 'peg', cadence: 'daily', fetchedAt: undefined, used: false }
    votes.unshift(home)
  } else {
    home = votes.find((v) => v.id === HOME_SOURCE[base] && v.reason === undefined)
  }

  const votersOf = (date: string): Vote[] => {
    const others = votes.filter((v) => v !== home && v.reason === undefined && v.date === date)
    const primary = others.filter((v) => v.role !== 'derived')
    // derived feeds blend the same central banks, so they would only echo votes already counted
    return primary.length >= 2 ? primary : others
  }
  const outside = (v: Vote, value: number): number | undefined => {
    const dev = deviationPct(v.inverse, value)
    return Math.abs(dev) > tolerance ? dev : undefined
  }

  if (home !== undefined && newest !== undefined && peg === undefined) {
    const gap = weekdaysBetween(home.date, newest)
    if (gap > (home.cadence === 'weekly' ? 5 : 1)) home.reason = reasons.behind(home.date, newest)
  }

  if (home !== undefined && home.reason === undefined) {
    const voters = votersOf(home.date)
    if (voters.length >= 2) {
      const dev = outside(home, median(voters.map((v) => v.inverse)))
      if (dev !== undefined) home.reason = reasons.offMedian(dev, voters.length)
    }
    if (home.reason === undefined) {
      home.used = true
      for (const v of voters) {
        const dev = outside(v, home.inverse)
        if (dev === undefined) v.used = true
        else v.reason = reasons.offPublished(dev)
      }
      return { inverse: home.inverse, date: home.date, basis: 'official', cadence: home.cadence, votes: label(votes, home.date) }
    }
  }

  const dates = [...new Set(votes.filter((v) => v !== home && v.reason === undefined).map((v) => v.date))].sort().reverse()
  const date = dates.find((d) => votersOf(d).length >= 2)
  if (date === undefined) return undefined
  const voters = votersOf(date)
  const centre = median(voters.map((v) => v.inverse))
  const survivors = voters.filter((v) => outside(v, centre) === undefined)
  if (survivors.length < 2) return undefined
  for (const v of voters) {
    const dev = outside(v, centre)
    if (dev === undefined) v.used = true
    else v.reason = reasons.offMedian(dev, voters.length)
  }
  const inverse = median(survivors.map((v) => v.inverse))
  return { inverse, date, basis: 'consensus', cadence: 'daily', votes: label(votes, date) }
}

/** Gives every vote not yet decided its reason: another value date, or a derived feed not needed. */
function label (votes: Vote[], date: string): Vote[] {
  for (const v of votes) {
    if (v.used || v.reason !== undefined) continue
    // every undecided vote of the chosen date is a derived feed left out by votersOf
    v.reason = v.date !== date ? reasons.otherDate(v.date, date) : reasons.derivedFallback
  }
  return votes
}
