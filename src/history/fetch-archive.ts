import type { Dispatcher } from 'undici'
import { addDays } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { withDeadline } from '../sources/deadline.js'
import { createResponseCache } from '../sources/source.js'
import type { ResponseCache } from '../sources/source.js'
import { isRangeSource } from '../sources/url-source.js'
import type { DatedSource, RangeSource } from '../sources/url-source.js'
import { MAX_CARRY_DAYS } from './archive.js'

export interface ArchiveFetchOptions {
  dispatcher: Dispatcher
  /** Deadline of one request; the whole call, redirects of a 404 step included, ends within twice it. */
  timeoutMs: number
  maxBytes: number
  userAgent: string
  now: () => Date
}

/** A source with an archive: asked one day at a time, or a range of days at once. */
export type ArchiveSource = DatedSource | RangeSource

/** One archive request, for the day `to` or (a range source) the days from `from` to `to`, under its deadline; `signal` stops it. */
export type ArchiveFetch = (source: ArchiveSource, from: string, to: string, signal: AbortSignal) => Promise<Quote[]>

/**
 * Asks a source's archive for a date. The quotes are those of the set in force then: dated that day or a
 * few days before (a weekend, a holiday); a set older than MAX_CARRY_DAYS is an archive answering wrong.
 */
export function createArchiveFetcher (opts: ArchiveFetchOptions): ArchiveFetch {
  const caches = new Map<string, ResponseCache>()
  return async (source, from, date, stop) => {
    let cache = caches.get(source.id)
    if (cache === undefined) caches.set(source.id, cache = createResponseCache())
    // parsers judge a value date against the poll's clock: for a past date, the day after it
    const at = Math.min(opts.now().getTime(), Date.parse(`${addDays(date, 1)}T12:00:00.000Z`))
    const quotes = await withDeadline(source.id, stop, opts.timeoutMs * 2, async (signal) => {
      const ctx = { dispatcher: opts.dispatcher, signal, now: new Date(at), cache, userAgent: opts.userAgent, timeoutMs: opts.timeoutMs, maxBytes: opts.maxBytes }
      return isRangeSource(source) ? await source.fetchRange(ctx, from, date) : await source.fetchDay(ctx, date)
    })
    const oldest = isRangeSource(source) ? from : addDays(date, -MAX_CARRY_DAYS)
    const stale = quotes.find((q) => q.date < oldest)
    if (stale !== undefined) {
      throw new RatesError('RATES_SOURCE_DATE', `${source.id}: asked for ${from === date ? date : `${from}..${date}`}, the archive answered a set dated ${stale.date}`, 502)
    }
    return quotes
  }
}
