// The sparklines, a part of their own (src/widget/parts.ts): imported only by a page with a `spark` ticker.
import type { Fixing, Rate } from '../domain/rate.js'
import type * as Format from './format.js'
import type { Look } from './format.js'
import { W } from './words.js'

// a page with sparklines takes the tooltip from here rather than from a part of its own (parts.ts)
export { tooltip } from './tip.js'

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

/**
 * A line a few pixels high through `values`, highest on top, coloured as a change from the first to the
 * last would be; its accessible name is the range. [markup, accessible text]. Its size and stroke are
 * presentation attributes, so the widget's stylesheet needs no rule for it. The script hands over its
 * number formats rather than this part carrying a copy.
 */
export function sparkline (values: number[], { locale, words }: Look, { formatPrice, formatChange }: Pick<typeof Format, 'formatPrice' | 'formatChange'>): [string, string] {
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  const text = `${(words[W.range] as string).replace('#', `${values.length}`)} ${formatPrice(lo, locale)}\u2013${formatPrice(hi, locale)}`
  // 40 x 10 units in a 3em x .9em box (a unit of margin above and below for the stroke); y runs down from
  // the highest value, and a flat line runs through the middle
  const points = values.map((v, i) => `${i * 40 / (values.length - 1)},${hi > lo ? (hi - v) / (hi - lo) * 10 : 5}`).join(' ')
  const dir = formatChange(((values.at(-1) as number) / (values[0] as number) - 1) * 100, locale)[0]
  return [` <svg class="${dir}" width="3em" height=".9em" fill="none" stroke="currentColor" stroke-width="1.2" viewBox="0 -1 40 12" role="img" aria-label="${text}"><path d="M${points}"/></svg>`, text]
}
