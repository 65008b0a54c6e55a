import { z } from 'zod'
import { civilDateAt } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { checkValueDate, collectQuotes, emit, quoteOf } from './checks.js'
import type { ParseOptions } from './checks.js'
import { parseJson } from './json.js'
import { parseDecimal } from './number.js'
import { joinUrl } from './source.js'
import type { Source, SourceOptions } from './source.js'
import { createUrlSource } from './url-source.js'

export const OPEN_ER_API_ORIGIN = 'https://open.er-api.com'
export const OPEN_ER_API_PATH = '/v6/latest/USD'

const ID = 'open-er-api'

const EnvelopeSchema = z.object({ result: z.string(), 'error-type': z.string().optional() })

const LatestSchema = z.object({
  time_last_update_unix: z.number().int().positive(),
  base_code: z.string(),
  rates: z.record(z.string(), z.unknown())
})

/**
 * Parses /v6/latest/USD: direct units per USD, dated by the UTC day of `time_last_update_unix`.
 * A `result: "error"` envelope is a refusal (unsupported-code, quota-reached...), not an empty fixing:
 * it throws RATES_SOURCE_PARSE naming the error-type, like any other unusable payload. A time stamp
 * out of the value-date window throws RATES_SOURCE_DATE.
 */
export function parseOpenErApi (text: string, { now }: ParseOptions): Quote[] {
  const json = parseJson(ID, text)
  const envelope = EnvelopeSchema.safeParse(json)
  if (!envelope.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected an object with "result"`, 502)
  if (envelope.data.result !== 'success') {
    const why = envelope.data['error-type'] ?? envelope.data.result
    throw new RatesError('RATES_SOURCE_PARSE', `${ID}: upstream answered result ${JSON.stringify(envelope.data.result)}: ${why}`, 502)
  }
  const doc = LatestSchema.safeParse(json)
  if (!doc.success) throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected time_last_update_unix, base_code and rates`, 502)
  if (doc.data.base_code !== 'USD') throw new RatesError('RATES_SOURCE_PARSE', `${ID}: expected base_code USD, got ${JSON.stringify(doc.data.base_code)}`, 502)
  // any integer is accepted by the schema: the date arithmetic saturates, the window refuses
  const date = checkValueDate(ID, civilDateAt(doc.data.time_last_update_unix * 1000, 0), now)
  const rows = Object.entries(doc.data.rates).filter(([code]) => /^[A-Z]{3}$/.test(code))
  // Numbers are printed with up to 6 dp and no trailing zeros: the printed digits bound the error.
  const quotes = collectQuotes(rows, (code, raw) => quoteOf(code, parseDecimal(ID, `${code} rate`, raw), date))
  if (quotes.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no rates for ${date}`, 502)
  return emit(ID, quotes, now)
}

/** open.er-api.com: one market-blended vote, refreshed once a day around 00:00 UTC. */
export function createOpenErApiSource (opts: SourceOptions = {}): Source {
  return createUrlSource(ID, joinUrl(opts.origin ?? OPEN_ER_API_ORIGIN, OPEN_ER_API_PATH), parseOpenErApi)
}
