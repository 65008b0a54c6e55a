import { changeSince } from '../domain/change.js'
import { orderRate } from '../domain/changes.js'
import { startOfDay } from '../domain/dates.js'
import { isPlausibleInverse, isUsableObservation, valueDateWindow } from '../domain/plausible.js'
import type { Cadence, Fixing, Observation, Rate, Snapshot, SourceVote } from '../domain/rate.js'
import { PEGS } from '../domain/sources.js'
import { isStale, nextExpectedAt, zoneOf } from './schedule.js'
import { newestPrimaryDate, select } from './select.js'
import type { Decision } from './select.js'

export interface ReconcileInput {
  /** Bases in output order, e.g. ['KGS', 'KZT', 'TJS', 'UZS', 'TMT']. */
  currencies: string[]
  quote: string
  /** Every source's last good observations, all currencies. */
  observations: Observation[]
  /** The last published snapshot, whose rates stand in when too few sources agree. */
  previous: Snapshot | undefined
  /** Reconciled daily fixings of a base, oldest first. */
  history: (base: string) => Fixing[]
  now: Date
  outlierPct: number
  staleAfterMs: number
}

export interface ReconcileResult {
  /** One per currency that has a value, in `currencies` order. */
  rates: Rate[]
  /** Per base, the fixing of the rate computed this round (none for a rate kept from `previous`). */
  fixings: Record<string, Fixing>
}

/** Turns every source's observations into one rate per currency; pure, deterministic, time from `now`. */
export function reconcile (input: ReconcileInput): ReconcileResult {
  const rates: Rate[] = []
  const fixings: Record<string, Fixing> = {}
  const newestAnyDate = newestPrimaryDate(input.observations.filter((o) => isUsableObservation(o, input.now)))
  for (const base of input.currencies) {
    const pair = `${base}/${input.quote}`
    const tz = zoneOf(base)
    const decision = select(base, input.observations.filter((o) => o.base === base), {
      outlierPct: input.outlierPct,
      now: input.now,
      utcOffsetHours: tz,
      ...(newestAnyDate !== undefined && { newestAnyDate })
    })
    const kept = keepable(input.previous?.rates.find((r) => r.pair === pair))
    // with no decision, or one for an older value date than already published (a lagging source must
    // not roll a rate back), the last good value ages in place: only its staleness follows the clock.
    // A published date in the future was never right, so it holds nothing back.
    if (decision === undefined || !isPlausibleInverse(decision.inverse) ||
      (kept !== undefined && decision.date < kept.date && !barePeg(kept) && !isFuture(kept.date, input.now, tz))) {
      if (kept !== undefined) rates.push(orderRate({ ...kept, stale: isStale(kept.date, kept.cadence, tz, input.now, input.staleAfterMs) }))
      continue
    }
    const rate = rateOf(base, input.quote, decision, input, tz)
    rates.push(rate)
    fixings[base] = { date: rate.date, price: rate.price, inverse: rate.inverse, basis: rate.basis, sources: rate.sources.filter((s) => s.used).map((s) => s.id) }
  }
  return { rates, fixings }
}

function rateOf (base: string, quote: string, d: Decision, input: ReconcileInput, tz: number): Rate {
  const price = 1 / d.inverse
  // an outvoted peg is a market consensus, and says so: not 'peg', and it can go stale
  const cadence: Cadence = d.basis === 'official' ? (PEGS[base] !== undefined ? 'peg' : d.cadence) : 'daily'
  return orderRate({
    pair: `${base}/${quote}`,
    base,
    quote,
    price,
    inverse: d.inverse,
    date: d.date,
    basis: d.basis,
    cadence,
    nextExpectedAt: nextExpectedAt(d.date, cadence, tz),
    change: changeSince(price, d.date, input.history(base)),
    stale: isStale(d.date, cadence, tz, input.now, input.staleAfterMs),
    observedAt: observedAt(d, tz),
    sources: d.votes.map((v): SourceVote => {
      const vote: SourceVote = { id: v.id, inverse: v.inverse, date: v.date, used: v.used }
      if (!v.used && v.reason !== undefined) vote.reason = v.reason
      return vote
    })
  })
}

/** The newest fetch among the used observations; a bare peg was never fetched, so its day's start. */
function observedAt (d: Decision, tz: number): string {
  let latest: number | undefined
  for (const v of d.votes) {
    if (!v.used || v.fetchedAt === undefined) continue
    const at = Date.parse(v.fetchedAt)
    if (Number.isFinite(at) && (latest === undefined || at > latest)) latest = at
  }
  return new Date(latest ?? startOfDay(d.date, tz)).toISOString()
}

/** A published rate that may stand in again: not one with numbers no rate can have (an older version's state). */
function keepable (rate: Rate | undefined): Rate | undefined {
  return rate !== undefined && isPlausibleInverse(rate.inverse) && isPlausibleInverse(rate.price) ? rate : undefined
}

/** After tomorrow in the currency's zone: a date no fixing can have yet. */
function isFuture (date: string, now: Date, tz: number): boolean {
  return date > valueDateWindow(now, tz).latest
}

/** A peg published before any source confirmed it: its date was a guess, so confirmed data may replace it. */
function barePeg (rate: Rate): boolean {
  return rate.sources.every((s) => s.id === 'peg')
}
