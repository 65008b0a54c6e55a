/** Every source id the service knows, in the order they are described in the docs. */
export const SOURCE_IDS = [
  'nbkr', 'nbk', 'cbu', 'nbt', 'cbt', 'cbr', 'cbr-xml-daily', 'open-er-api', 'fawazahmed0', 'frankfurter'
] as const
export type SourceId = typeof SOURCE_IDS[number]

/**
 * How the reconciler weighs a source: central banks and one market feed vote; a mirror votes only when
 * its original is absent; derived feeds (blends of the same central banks, opaque aggregators) fill in
 * only when fewer than two votes exist.
 */
export type SourceRole = 'central-bank' | 'mirror' | 'market' | 'derived'

export interface SourceInfo {
  id: SourceId
  name: string
  role: SourceRole
  /** The source this one copies, for a mirror. */
  mirrorOf?: SourceId
  /** Offset of the publisher's civil time from UTC, in hours (none of them observes DST). */
  utcOffsetHours: number
}

export const SOURCE_INFO: Record<SourceId, SourceInfo> = {
  nbkr: { id: 'nbkr', name: 'National Bank of the Kyrgyz Republic', role: 'central-bank', utcOffsetHours: 6 },
  nbk: { id: 'nbk', name: 'National Bank of Kazakhstan', role: 'central-bank', utcOffsetHours: 5 },
  cbu: { id: 'cbu', name: 'Central Bank of Uzbekistan', role: 'central-bank', utcOffsetHours: 5 },
  nbt: { id: 'nbt', name: 'National Bank of Tajikistan', role: 'central-bank', utcOffsetHours: 5 },
  cbt: { id: 'cbt', name: 'Central Bank of Turkmenistan', role: 'central-bank', utcOffsetHours: 5 },
  cbr: { id: 'cbr', name: 'Central Bank of Russia', role: 'central-bank', utcOffsetHours: 3 },
  'cbr-xml-daily': { id: 'cbr-xml-daily', name: 'cbr-xml-daily.ru (mirror of the Central Bank of Russia)', role: 'mirror', mirrorOf: 'cbr', utcOffsetHours: 3 },
  'open-er-api': { id: 'open-er-api', name: 'open.er-api.com', role: 'market', utcOffsetHours: 0 },
  fawazahmed0: { id: 'fawazahmed0', name: 'fawazahmed0 currency-api', role: 'derived', utcOffsetHours: 0 },
  frankfurter: { id: 'frankfurter', name: 'Frankfurter', role: 'derived', utcOffsetHours: 0 }
}

/** The central bank whose fixing is the official rate of each currency. */
export const HOME_SOURCE: Readonly<Record<string, SourceId>> = {
  KGS: 'nbkr',
  KZT: 'nbk',
  UZS: 'cbu',
  TJS: 'nbt',
  TMT: 'cbt'
}

/** Administrative pegs, units per USD: TMT has been held at 3.50 since 2015-01-01. */
export const PEGS: Readonly<Record<string, number>> = { TMT: 3.5 }

export function isSourceId (id: string): id is SourceId {
  return (SOURCE_IDS as readonly string[]).includes(id)
}
