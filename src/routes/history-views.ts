import { createHash } from 'node:crypto'
import { changeSince } from '../domain/change.js'
import { pairOf } from '../domain/rate.js'
import type { Fixing } from '../domain/rate.js'
import type { DateRange, HistoryFormat } from './history-range.js'
import { HistoriesSchema, HistorySchema, RateAtSchema } from './schemas.js'
import type { RateAt } from './schemas.js'
import { serialise } from './views.js'
import type { View } from './views.js'

export interface HistoryViewsOptions {
  history: (base: string) => Fixing[]
  quote: string
  /** Bodies kept at most; the least recently used goes first. */
  maxEntries?: number
  /** Bytes of bodies kept at most (a multi-year CSV of several bases runs to megabytes). */
  maxBytes?: number
}

export interface HistoryViews {
  /** The fixings of `base` in `range`, oldest first. */
  one: (base: string, range: DateRange, format: HistoryFormat) => View
  /** The fixings of each base in `range`, in the order given. */
  several: (bases: readonly string[], range: DateRange, format: HistoryFormat) => View
  /** The fixing of `base` in force on `at`; null when its history holds nothing on or before it. */
  at: (base: string, at: string) => View | null
}

/** The CSV header line; rows and header end in CRLF, as RFC 4180 writes them. */
export const CSV_HEADER = 'date,base,quote,price,inverse,basis'
const CRLF = '\r\n'

interface Entry { versions: Fixing[][], view: View | null }

/**
 * History bodies, serialised once per (history version, range, format) and kept in a bounded LRU cache.
 * A version is the fixings array the store hands out: the engines replace it, never mutate it, when a
 * fixing is upserted, so an unchanged array is an unchanged history. The ETag hashes the body, so every
 * instance holding the same fixings names an answer alike, whatever its snapshot `seq`.
 */
export function createHistoryViews ({ history, quote, maxEntries = 256, maxBytes = 32 * 1024 * 1024 }: HistoryViewsOptions): HistoryViews {
  const cache = new Map<string, Entry>()
  let bytes = 0
  const sizeOf = (e: Entry): number => e.view === null ? 0 : e.view.body.length

  const cached = (key: string, bases: readonly string[], build: (lists: Fixing[][]) => View | null): View | null => {
    const versions = bases.map(history)
    const hit = cache.get(key)
    if (hit !== undefined) {
      cache.delete(key)
      bytes -= sizeOf(hit)
      if (hit.versions.every((v, i) => v === versions[i])) {
        cache.set(key, hit)
        bytes += sizeOf(hit)
        return hit.view
      }
    }
    const entry = { versions, view: build(versions) }
    // a body larger than the whole budget is served but not kept
    if (sizeOf(entry) > maxBytes) return entry.view
    cache.set(key, entry)
    bytes += sizeOf(entry)
    for (const [k, e] of cache) {
      if (cache.size <= maxEntries && bytes <= maxBytes) break
      cache.delete(k)
      bytes -= sizeOf(e)
    }
    return entry.view
  }

  const body = (base: string, fixings: readonly Fixing[], range: DateRange) =>
    ({ pair: pairOf(base, quote), base, quote, fixings: within(fixings, range) })

  return {
    one (base, range, format) {
      return cached(`1|${base}|${range.from}|${range.to ?? ''}|${format}`, [base], ([fixings = []]) => {
        const value = body(base, fixings, range)
        return viewOf(format === 'csv' ? toCsv([value]) : serialise(HistorySchema, value))
      }) as View
    },
    several (bases, range, format) {
      return cached(`n|${bases.join(',')}|${range.from}|${range.to ?? ''}|${format}`, bases, (lists) => {
        const series = bases.map((base, i) => body(base, lists[i] ?? [], range))
        return viewOf(format === 'csv' ? toCsv(series) : serialise(HistoriesSchema, { quote, series }))
      }) as View
    },
    at (base, at) {
      return cached(`@|${base}|${at}`, [base], ([fixings = []]) => {
        const value = rateAt(base, quote, fixings, at)
        return value === null ? null : viewOf(serialise(RateAtSchema, value))
      })
    }
  }
}

/** A strong ETag of the bytes: the same body has the same tag on every instance. */
function viewOf (body: string): View {
  return { etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`, body }
}

/** The fixings dated within `range` (inclusive), oldest first; the history is date-ordered. */
function within (fixings: readonly Fixing[], range: DateRange): Fixing[] {
  let lo = 0
  let hi = fixings.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((fixings[mid] as Fixing).date < range.from) lo = mid + 1
    else hi = mid
  }
  const out: Fixing[] = []
  for (let i = lo; i < fixings.length; i++) {
    const f = fixings[i] as Fixing
    if (range.to !== undefined && f.date > range.to) break
    out.push(f)
  }
  return out
}

function toCsv (series: ReadonlyArray<{ base: string, quote: string, fixings: readonly Fixing[] }>): string {
  let out = CSV_HEADER + CRLF
  for (const { base, quote, fixings } of series) {
    // every field is a code, a date, a number or an enum: nothing to quote
    for (const f of fixings) out += `${f.date},${base},${quote},${String(f.price)},${String(f.inverse)},${f.basis}${CRLF}`
  }
  return out
}

/**
 * The newest fixing dated on or before `at`, with its change against the one before it, by the rule of
 * every published `change`.
 */
export function rateAt (base: string, quote: string, fixings: readonly Fixing[], at: string): RateAt | null {
  let i = fixings.length - 1
  while (i >= 0 && (fixings[i] as Fixing).date > at) i--
  const found = fixings[i]
  if (found === undefined) return null
  return {
    pair: pairOf(base, quote),
    base,
    quote,
    price: found.price,
    inverse: found.inverse,
    date: found.date,
    basis: found.basis,
    sources: found.sources,
    change: changeSince(found.price, found.date, fixings.slice(0, i)),
    at
  }
}
