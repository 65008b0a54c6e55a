import { addDays, civilDate, validIso } from '../domain/dates.js'
import { isRatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { SOURCE_INFO } from '../domain/sources.js'
import type { SourceId } from '../domain/sources.js'
import type { ParseOptions } from './checks.js'
import { fetchText } from './http.js'
import type { FetchContext, Source } from './source.js'

/** A parser of one payload, told the poll's clock and, for a dated URL, the date that was asked for. */
export type PayloadParser = (text: string, opts: ParseOptions) => Quote[]

/** A source that GETs one fixed URL (the latest publication) and parses its body against the poll's clock. */
export function createUrlSource (id: SourceId, url: string, parse: PayloadParser): Source {
  return {
    id,
    async fetchQuotes (ctx) {
      return parse((await fetchText(id, url, ctx)).text, { now: ctx.now })
    }
  }
}

/** A source whose upstream can be asked for the publication in force on one civil date. */
export interface DatedSource extends Source {
  /**
   * The publication in force on `date` (YYYY-MM-DD in the publisher's calendar), in exactly one request:
   * its quotes carry `date` or an earlier value date (a carry-forward), never a later one. `[]` when the
   * archive answers 404 (no publication that day); every other failure rejects with a RatesError.
   */
  fetchDay: (ctx: FetchContext, date: string) => Promise<Quote[]>
}

export interface DatedUrlOptions {
  /**
   * The undated URL of the latest publication, which the live poll reads. Without one, the live poll asks
   * the dated URL for today's date in the publisher's zone.
   */
  latestUrl?: string
  /**
   * Live poll of the dated URL only: earlier days tried, one at a time, while the upstream answers 404
   * for the day asked (a bank that publishes no file on its days off). 0 by default.
   */
  stepBackOn404?: number
}

/** A source whose upstream answers the publications of a range of days in one request. */
export interface RangeSource extends Source {
  /** Quotes of every day in [from, to] that had a publication (at most a year); RATES_SOURCE_EMPTY when none. */
  fetchRange: (ctx: FetchContext, from: string, to: string) => Promise<Quote[]>
}

/** True for a source that answers a range of days at once. */
export function isRangeSource (source: Source): source is RangeSource {
  return typeof (source as Partial<RangeSource>).fetchRange === 'function'
}

/** True for a source that can be asked for any date, e.g. to backfill history from a bank's archive. */
export function isDatedSource (source: Source): source is DatedSource {
  return typeof (source as Partial<DatedSource>).fetchDay === 'function'
}

function isNotFound (err: unknown): boolean {
  return isRatesError(err, 'RATES_SOURCE_HTTP') && err.upstreamStatus === 404
}

/**
 * A source with a dated archive URL `urlOf(date)` and a live poll of either its undated `latestUrl` or
 * the dated URL for today in the publisher's zone (from the poll's clock: the undated URLs of some banks
 * switch only at their own midnight). A dated answer is parsed with the date asked, so a payload dated
 * after it is refused; the value date always comes from the payload.
 */
export function createDatedSource (id: SourceId, urlOf: (date: string) => string, parse: PayloadParser, { latestUrl, stepBackOn404 = 0 }: DatedUrlOptions = {}): DatedSource {
  const fetchDated = async (ctx: FetchContext, asked: string): Promise<Quote[]> =>
    parse((await fetchText(id, urlOf(asked), ctx)).text, { now: ctx.now, asked })
  return {
    id,
    async fetchDay (ctx, date) {
      if (validIso(date) !== date) throw new RangeError(`${id}: ${JSON.stringify(date)} is not a YYYY-MM-DD date`)
      try {
        return await fetchDated(ctx, date)
      } catch (err) {
        if (isNotFound(err)) return []
        throw err
      }
    },
    async fetchQuotes (ctx) {
      if (latestUrl !== undefined) return parse((await fetchText(id, latestUrl, ctx)).text, { now: ctx.now })
      const today = civilDate(ctx.now, SOURCE_INFO[id].utcOffsetHours)
      for (let back = 0; ; back++) {
        try {
          return await fetchDated(ctx, addDays(today, -back))
        } catch (err) {
          if (back >= stepBackOn404 || !isNotFound(err)) throw err
        }
      }
    }
  }
}
