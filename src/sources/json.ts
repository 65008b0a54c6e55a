import { RatesError } from '../domain/errors.js'
import { looksLikeHtml, stripBom } from './xml.js'

/** JSON.parse for upstream bodies: a BOM is tolerated, HTML pages and garbage throw RATES_SOURCE_PARSE. */
export function parseJson (id: string, text: string): unknown {
  const body = stripBom(text)
  if (looksLikeHtml(body)) throw new RatesError('RATES_SOURCE_PARSE', `${id}: expected JSON, got an HTML page`, 502)
  try {
    return JSON.parse(body)
  } catch (err) {
    throw new RatesError('RATES_SOURCE_PARSE', `${id}: expected JSON, got ${JSON.stringify(body.slice(0, 60))}`, 502, { cause: err })
  }
}
