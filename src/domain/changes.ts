import type { Change, Rate, SourceVote } from './rate.js'

// "Which rates changed" is decided here once: the pipeline publishes (moves seq) only when it is true,
// and the hub pushes exactly the rates it names. Both compare the published form of a rate, so the two
// can never disagree about whether a publish carried news.

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

/** The published form of a rate: its schema's fields in schema order, an absent and an undefined key alike. */
const canonical = (r: Rate): string => JSON.stringify(orderRate(r))

export interface RateDiff {
  /** The rates of `next` whose published fields differ from `previous`, new pairs included, in `next` order. */
  changed: Rate[]
  /** The pairs of `previous` that `next` no longer has. */
  removed: string[]
}

/** What a publish changed, rates matched by pair. */
export function diffRates (previous: readonly Rate[], next: readonly Rate[]): RateDiff {
  const before = new Map(previous.map((r) => [r.pair, canonical(r)]))
  const nextPairs = new Set(next.map((r) => r.pair))
  return {
    changed: next.filter((r) => before.get(r.pair) !== canonical(r)),
    removed: [...before.keys()].filter((pair) => !nextPairs.has(pair))
  }
}

/** The rates of `next` whose published fields differ from `previous` (matched by pair). */
export function changedRates (previous: readonly Rate[], next: readonly Rate[]): Rate[] {
  return diffRates(previous, next).changed
}

/** True when no published field differs (so seq must not move). A list that repeats a pair is never the same. */
export function sameRates (a: readonly Rate[], b: readonly Rate[]): boolean {
  if (a.length !== b.length) return false
  if (new Set(a.map((r) => r.pair)).size !== a.length || new Set(b.map((r) => r.pair)).size !== b.length) return false
  const { changed, removed } = diffRates(a, b)
  return changed.length === 0 && removed.length === 0
}
