import type { Fixing, Rate } from '../domain/rate.js'

/**
 * A sparkline's points per base, oldest first: a new object when history arrives; a live rate changes
 * its base's points in place, and tickers redraw on the rate itself.
 */
export type Spark = Record<string, Array<Pick<Fixing, 'date' | 'price' | 'inverse'>>>

// how many fixings a sparkline shows (45 days of history hold them across weekends and holidays)
const POINTS = 30

/**
 * The points of one connection to the service at `base` (ending in `/`): returns the function that
 * brings them up to date with the rates held and returns them. A base not asked for yet is asked for
 * once, `then` is called when its history arrives; until then (and for good without history: an error
 * body has no series, offline rejects) it has no points.
 */
export function history (base: string, then: () => void): (rates: Rate[]) => Spark {
  let spark: Spark = {}
  return (rates) => {
    // marked as asked (no points) as they are listed
    const missing = rates.map((r) => r.base).filter((b) => !spark[b] && (spark[b] = []))
    if (missing[0]) {
      fetch(`${base}v1/history?symbols=${missing}&days=45`).then(async (res) => {
        const { series } = await res.json() as { series: Array<{ base: string, fixings: Spark[string] }> }
        spark = { ...spark }
        for (const s of series) spark[s.base] = s.fixings.slice(-POINTS)
        then()
      }).catch(() => {})
    }
    // a rate of a newer date than the last point adds a point (the oldest leaves), the same date replaces it
    for (const r of rates) {
      const points: Spark[string] | undefined = spark[r.base]
      const last = points?.at(-1)
      if (last && r.date >= last.date) spark[r.base] = [...points!.filter((p) => p.date < r.date), r].slice(-POINTS)
    }
    return spark
  }
}
