import { z } from 'zod'
import { validIso } from '../domain/dates.js'
import { RatesError } from '../domain/errors.js'
import type { Quote } from '../domain/rate.js'
import { isFutureValueDate, valueDateProblem, zoneOfSource } from '../domain/plausible.js'
import { checkValueDate, clockOf, collectQuotes, emit, quoteOf, rejectLaterDate } from './checks.js'
import type { ParseOptions } from './checks.js'
import { parseJson } from './json.js'
import { parseDecimal } from './number.js'
import { joinUrl } from './source.js'
import type { SourceOptions } from './source.js'
import { createDatedSource } from './url-source.js'
import type { DatedSource } from './url-source.js'

export const FRANKFURTER_ORIGIN = 'https://api.frankfurter.dev'
export const FRANKFURTER_PATH = '/v2/rates?base=USD&quotes=KGS,KZT,RUB,TJS,TMT,UZS'

const ID = 'frankfurter'

const RowSchema = z.object({
  date: z.string(),
  base: z.string(),
  quote: z.string().regex(/^[A-Z]{3}$/),
  rate: z.unknown()
})

const MessageSchema = z.object({ message: z.string() })

/**
 * Parses /v2/rates: an array of {date, base, quote, rate}. Each row carries its own value date (the
 * blend's providers publish on different days). Skipped: rows not based on USD, repeats of a currency,
 * and rows too old to use (one provider of the blend may have stopped). A row dated in the future throws
 * RATES_SOURCE_DATE: an upstream whose clock is wrong is wrong about every row; so does, for an archive
 * request, a row dated after the `asked` date.
 */
export function parseFrankfurter (text: string, options: ParseOptions): Quote[] {
  const now = clockOf(options)
  const json = parseJson(ID, text)
  if (!Array.isArray(json)) {
    const message = MessageSchema.safeParse(json)
    const what = message.success ? `upstream said ${JSON.stringify(message.data.message)}` : 'expected an array of rates'
    throw new RatesError('RATES_SOURCE_PARSE', `${ID}: ${what}`, 502)
  }
  const rows = json.flatMap((raw) => {
    const row = RowSchema.safeParse(raw)
    return row.success && row.data.base === 'USD' ? [[row.data.quote, row.data] as const] : []
  })
  let tooOld: string | undefined
  const quotes = collectQuotes(rows, (code, row) => {
    const date = validIso(row.date)
    if (date === undefined) return undefined
    rejectLaterDate(ID, date, options.asked)
    if (isFutureValueDate(date, now, ID)) checkValueDate(ID, date, now)
    if (valueDateProblem(date, now, zoneOfSource(ID)) !== undefined) {
      tooOld = date
      return undefined
    }
    return quoteOf(code, parseDecimal(ID, `${code} rate`, row.rate), date)
  })
  // nothing but rows too old to use: the date is what is wrong, and the error says so
  if (quotes.length === 0 && tooOld !== undefined) checkValueDate(ID, tooOld, now)
  if (quotes.length === 0) throw new RatesError('RATES_SOURCE_EMPTY', `${ID}: no USD-based rates`, 502)
  return emit(ID, quotes, now)
}

/** Frankfurter v2: a blend of the same central banks, used only to fill in; `date=` asks for a past day. */
export function createFrankfurterSource (opts: SourceOptions = {}): DatedSource {
  const url = joinUrl(opts.origin ?? FRANKFURTER_ORIGIN, FRANKFURTER_PATH)
  return createDatedSource(ID, (date) => `${url}&date=${date}`, parseFrankfurter, { latestUrl: url })
}
