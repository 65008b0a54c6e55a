import { z } from 'zod'
import { civilDate } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { createUrlSource } from './http.js'
import { parseJson } from './json.js'
import { parseDecimal } from './number.js'
import { joinUrl } from './source.js'
import type { Source, SourceOptions } from './source.js'

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
 * it throws RATES_SOURCE_PARSE naming the error-type, like any other unusable payload.
 */
export function parseOpenErApi (text: string): Quote[] {
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
  const date = civilDate(new Date(doc.data.time_last_update_unix * 1000), 0)
  const quotes: Quote[] = []
  for (const [code, raw] of Object.entries(doc.data.rates)) {
    if (code === 'USD' || !/^[A-Z]{3}$/.test(code)) continue
    try {
      // Numbers are printed with up to 6 dp and no trailing zeros: the printed digits bound the error.
      const d = parseDecimal(ID, `${code} rate`, raw)
      quotes.push({ base: code, inverse: d.value, date, relErr: d.relErr, cadence: 'daily' })
    } catch {
      continue // one unusable rate must not sink the rest
    }
  }
  if (quotes.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no rates for ${date}`, 502)
  return quotes
}

/** open.er-api.com: one market-blended vote, refreshed once a day around 00:00 UTC. */
export function createOpenErApiSource (opts: SourceOptions = {}): Source {
  return createUrlSource(ID, joinUrl(opts.origin ?? OPEN_ER_API_ORIGIN, OPEN_ER_API_PATH), parseOpenErApi)
}
