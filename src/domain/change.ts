import { isPlausibleInverse } from './plausible.js'
import type { Change, Fixing } from './rate.js'

/**
 * Change of `price` on `date` against the most recent fixing strictly before that date (a fixing of the same
 * date is the rate's own). A fixing with an implausible price (an older version's state) is skipped. Values
 * are not rounded; only -0 is turned into 0. The one rule behind every published `change`.
 */
export function changeSince (price: number, date: string, history: readonly Fixing[]): Change {
  let prev: Fixing | undefined
  for (const f of history) {
    if (f.date < date && isPlausibleInverse(f.price) && (prev === undefined || f.date > prev.date)) prev = f
  }
  if (prev === undefined) return null
  const abs = price - prev.price
  const pct = abs / prev.price * 100
  /* c8 ignore next */ if (!Number.isFinite(pct)) return null // unreachable with both prices within the plausible bounds
  return { pct: pct === 0 ? 0 : pct, abs: abs === 0 ? 0 : abs, prevPrice: prev.price, prevDate: prev.date }
}
