import type { Change, Rate, SourceVote } from '../domain/rate.js'

function orderVote (v: SourceVote): SourceVote {
  const vote: SourceVote = { id: v.id, inverse: v.inverse, date: v.date, used: v.used }
  if (v.reason !== undefined) vote.reason = v.reason
  return vote
}

function orderChange (c: Change): Change {
  return c === null ? null : { pct: c.pct, abs: c.abs, prevPrice: c.prevPrice, prevDate: c.prevDate }
}

/**
 * A copy of `r` with keys in RateSchema order, so that a rate read back from JSON or Redis in another
 * key order serialises byte for byte like a freshly computed one.
 */
export function orderRate (r: Rate): Rate {
  return {
    pair: r.pair,
    base: r.base,
    quote: r.quote,
    price: r.price,
    inverse: r.inverse,
    date: r.date,
    basis: r.basis,
    cadence: r.cadence,
    nextExpectedAt: r.nextExpectedAt,
    change: orderChange(r.change),
    stale: r.stale,
    observedAt: r.observedAt,
    sources: r.sources.map(orderVote)
  }
}

const canonical = (r: Rate): string => JSON.stringify(orderRate(r))

/** True when no published field differs (so seq must not move). Rates are matched by pair. */
export function sameRates (a: readonly Rate[], b: readonly Rate[]): boolean {
  if (a.length !== b.length) return false
  const before = new Map(a.map((r) => [r.pair, canonical(r)]))
  if (before.size !== a.length || new Set(b.map((r) => r.pair)).size !== b.length) return false
  return b.every((r) => before.get(r.pair) === canonical(r))
}

/** The rates of `next` whose published fields differ from `previous` (matched by pair), for push updates. */
export function changedRates (previous: readonly Rate[], next: readonly Rate[]): Rate[] {
  const before = new Map(previous.map((r) => [r.pair, canonical(r)]))
  return next.filter((r) => before.get(r.pair) !== canonical(r))
}
