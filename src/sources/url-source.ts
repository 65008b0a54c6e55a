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
   * Quotes for `date` (YYYY-MM-DD in the publisher's zone): what the upstream answers for that day, which
   * may be an earlier carry-forward, never a later date. fetchQuotes is fetchDay for today in that zone.
   */
  fetchDay: (ctx: FetchContext, date: string) => Promise<Quote[]>
}

export interface DatedUrlOptions {
  /**
   * Earlier days tried, one at a time, while the upstream answers 404 for the day asked (a bank that
   * publishes no file on its days off); every other failure is the fetch's. 0 by default.
   */
  stepBackOn404?: number
}

/** True for a source that can be asked for any date, e.g. to backfill history from a bank's archive. */
export function isDatedSource (source: Source): source is DatedSource {
  return typeof (source as Partial<DatedSource>).fetchDay === 'function'
}

/**
 * A source that GETs `urlOf(date)`, by default for today's date in the publisher's zone (from the poll's
 * clock: the undated URLs of these banks switch at their own midnight, or not at all). The parser is told
 * the date asked for, so a payload dated after it is refused; the value date always comes from the payload.
 */
export function createDatedSource (id: SourceId, urlOf: (date: string) => string, parse: PayloadParser, { stepBackOn404 = 0 }: DatedUrlOptions = {}): DatedSource {
  async function fetchDay (ctx: FetchContext, date: string): Promise<Quote[]> {
    if (validIso(date) !== date) throw new RangeError(`${id}: ${JSON.stringify(date)} is not a YYYY-MM-DD date`)
    for (let back = 0; ; back++) {
      const asked = addDays(date, -back)
      try {
        return parse((await fetchText(id, urlOf(asked), ctx)).text, { now: ctx.now, asked })
      } catch (err) {
        if (back >= stepBackOn404 || !isRatesError(err, 'RATES_SOURCE_HTTP') || err.upstreamStatus !== 404) throw err
      }
    }
  }
  return {
    id,
    fetchDay,
    async fetchQuotes (ctx) {
      return await fetchDay(ctx, civilDate(ctx.now, SOURCE_INFO[id].utcOffsetHours))
    }
  }
}
