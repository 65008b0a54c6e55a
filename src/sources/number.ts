import { RatesError } from '../domain/errors.js'

/** The smallest normal double: below it (subnormals, "1,0E-320") the value has lost its digits and its inverse overflows. */
const MIN_NORMAL = 2 ** -1022

/** A number as an upstream published it, with the relative error its last digit carries. */
export interface Decimal {
  value: number
  relErr: number
}

/**
 * Parses an upstream decimal: dot or comma separator, optional .NET exponent ("5,39256E-05"), spaces
 * as thousands separators. `decimals` overrides the digit count when the format strips trailing zeros
 * (NBK publishes 2 dp as "5.4"). Non-finite, subnormal, zero or negative values throw RATES_SOURCE_PARSE.
 */
export function parseDecimal (id: string, field: string, raw: unknown, decimals?: number): Decimal {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim().replace(/[\s\u00a0]/g, '') : ''
  const m = /^([+-]?)(\d+)(?:[.,](\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)
  if (m === null) throw new RatesError('RATES_SOURCE_PARSE', `${id}: ${field} is not a number: ${JSON.stringify(raw)}`, 502)
  const value = Number(`${m[1]}${m[2]}.${m[3] ?? '0'}e${m[4] ?? '0'}`)
  if (!(Number.isFinite(value) && value >= MIN_NORMAL)) {
    throw new RatesError('RATES_SOURCE_PARSE', `${id}: ${field} must be a positive normal number, got ${JSON.stringify(raw)}`, 502)
  }
  const digits = decimals ?? (m[3]?.length ?? 0)
  const exponent = Number(m[4] ?? '0')
  const relErr = 0.5 * 10 ** (exponent - digits) / value
  // digit count and exponent come from the text: thousands of digits must not make the bound Infinity
  if (!Number.isFinite(relErr)) {
    throw new RatesError('RATES_SOURCE_PARSE', `${id}: ${field} has no usable precision: ${JSON.stringify(raw)}`, 502)
  }
  return { value, relErr }
}

/** Parses a nominal ("1", "100", "10 000"): a positive integer. */
export function parseNominal (id: string, field: string, raw: unknown): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim().replace(/[\s\u00a0]/g, '') : ''
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) <= 0) {
    throw new RatesError('RATES_SOURCE_PARSE', `${id}: ${field} is not a positive integer nominal: ${JSON.stringify(raw)}`, 502)
  }
  return Number(text)
}

/** A pivot-currency quote: `value` pivot units per `nominal` units of a currency. */
export interface PivotQuote extends Decimal {
  nominal: number
}

/** Units of X per USD from two quotes in the same pivot: (USD value / nominal) / (X value / nominal). */
export function crossViaPivot (usd: PivotQuote, x: PivotQuote): Decimal {
  return {
    value: (usd.value / usd.nominal) / (x.value / x.nominal),
    relErr: usd.relErr + x.relErr
  }
}
