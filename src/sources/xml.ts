import { XMLParser } from 'fast-xml-parser'
import { z } from 'zod'
import { RatesError } from '../domain/errors.js'

/**
 * An XMLParser that keeps every text and attribute a string ("87,4500", "036" must not become numbers)
 * and always makes `arrayTags` arrays, so a feed with a single entry has the same shape as one with many.
 * Attributes are read as `@_Name`.
 */
export function createXmlParser (arrayTags: readonly string[]): XMLParser {
  const repeated = new Set(arrayTags)
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    isArray: (name) => repeated.has(name)
  })
}

/** True for an HTML page (error page, WAF or DDoS interstitial) served where data was expected. */
export function looksLikeHtml (text: string): boolean {
  return /^\s*(?:<!doctype\s+html|<html[\s>])/i.test(stripBom(text)) || /<html[\s>]/i.test(text.slice(0, 2048))
}

export function stripBom (text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/** Parses a well-formed XML document; HTML pages and malformed text throw RATES_SOURCE_PARSE. */
export function parseXml (id: string, text: string, parser: XMLParser): unknown {
  const body = stripBom(text)
  if (looksLikeHtml(body)) throw new RatesError('RATES_SOURCE_PARSE', `${id}: expected XML, got an HTML page`, 502)
  if (!/^\s*</.test(body)) throw new RatesError('RATES_SOURCE_PARSE', `${id}: expected XML, got ${JSON.stringify(body.slice(0, 40))}`, 502)
  try {
    return parser.parse(body, true)
  } catch (err) {
    throw new RatesError('RATES_SOURCE_PARSE', `${id}: malformed XML: ${err instanceof Error ? err.message : String(err)}`, 502, { cause: err })
  }
}

/** A zod object for a parsed element; an element with neither attributes nor children parses as '', read as {}. */
export function xmlElement<T extends z.ZodRawShape> (shape: T) {
  return z.preprocess((v) => v === '' ? {} : v, z.object(shape))
}
