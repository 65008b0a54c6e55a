import type { Test } from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import type { SourceId } from '../../src/domain/sources.js'
import { parseCbrXmlDaily, parseCbrXmlDailyLatest, parseCbrXmlDailyPrevious } from '../../src/sources/cbr-xml-daily.js'
import { parseCbr } from '../../src/sources/cbr.js'
import { parseCbt } from '../../src/sources/cbt.js'
import { parseCbu } from '../../src/sources/cbu.js'
import { parseFawazahmed0 } from '../../src/sources/fawazahmed0.js'
import { parseFrankfurter } from '../../src/sources/frankfurter.js'
import { parseNbk } from '../../src/sources/nbk.js'
import { parseNbkr } from '../../src/sources/nbkr.js'
import { parseNbt } from '../../src/sources/nbt.js'
import { parseOpenErApi } from '../../src/sources/open-er-api.js'
import type { FetchContext, Source } from '../../src/sources/source.js'
import { assertQuotes, expected } from '../support/expected.js'
import { fixtureText } from '../support/fixture-server.js'
import { assertRevalidates, byBase } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// Each adapter's test file walks the same list on its own wire format (format variations, windows-1251,
// a scaled nominal, a missing and an unusable currency, error payloads, the fetch): the payload edits and
// the expected numbers are that bank's, so those tests look alike by design. What is common to every
// source is asserted once, here (first fetch, omitted currency) and in test/support.

/** One pure parser of a source, with the recorded payloads it reads (all dated 2025-11-26 but weekly.xml). */
export interface Adapter {
  name: string
  source: SourceId
  fixtures: string[]
  parse: (text: string, now: Date) => Quote[]
}

const NBKR_DAILY = fixtureText('nbkr/daily.xml')

/** Every parser of every adapter. */
export const ADAPTERS: Adapter[] = [
  { name: 'nbkr daily.xml', source: 'nbkr', fixtures: ['nbkr/daily.xml'], parse: (text, now) => parseNbkr(text, { now }) },
  { name: 'nbkr weekly.xml', source: 'nbkr', fixtures: ['nbkr/weekly.xml'], parse: (text, now) => parseNbkr(NBKR_DAILY, { now, weekly: text }) },
  { name: 'nbk', source: 'nbk', fixtures: ['nbk/get_rates-26.11.2025.xml', 'nbk/rates_all.xml'], parse: (text, now) => parseNbk(text, { now }) },
  { name: 'cbu', source: 'cbu', fixtures: ['cbu/all-2025-11-26.json'], parse: (text, now) => parseCbu(text, { now }) },
  { name: 'nbt', source: 'nbt', fixtures: ['nbt/export-2025-11-26.xml'], parse: (text, now) => parseNbt(text, { now }) },
  { name: 'cbt', source: 'cbt', fixtures: ['cbt/26112025.xml'], parse: (text, now) => parseCbt(text, { now }) },
  { name: 'cbr', source: 'cbr', fixtures: ['cbr/XML_daily-26.11.2025.xml'], parse: (text, now) => parseCbr(text, { now }) },
  { name: 'cbr-xml-daily', source: 'cbr-xml-daily', fixtures: ['cbr-xml-daily/daily_json-2025-11-26.js'], parse: (text, now) => parseCbrXmlDaily(text, { now }) },
  { name: 'cbr-xml-daily previous', source: 'cbr-xml-daily', fixtures: ['cbr-xml-daily/daily_json-2025-11-26.js'], parse: (text, now) => parseCbrXmlDailyPrevious(text, { now }) },
  { name: 'cbr-xml-daily latest.js', source: 'cbr-xml-daily', fixtures: ['cbr-xml-daily/latest-2025-11-26.js'], parse: (text, now) => parseCbrXmlDailyLatest(text, { now }) },
  { name: 'open-er-api', source: 'open-er-api', fixtures: ['open-er-api/latest-USD-2025-11-26.json'], parse: (text, now) => parseOpenErApi(text, { now }) },
  { name: 'fawazahmed0', source: 'fawazahmed0', fixtures: ['fawazahmed0/usd-2025-11-26.json', 'fawazahmed0/usd-2025-11-25.min.json'], parse: (text, now) => parseFawazahmed0(text, { now }) },
  { name: 'frankfurter', source: 'frankfurter', fixtures: ['frankfurter/rates-USD-2025-11-26.json'], parse: (text, now) => parseFrankfurter(text, { now }) }
]

/** A recorded payload as text (CBR's XML is windows-1251 bytes). */
export const payload = (file: string): string => fixtureText(file, file.startsWith('cbr/') ? 'windows-1251' : 'utf-8')

/** Dates as the payloads write them: ISO, DD.MM.YYYY, DD/MM/YYYY, and Unix seconds of open-er-api. */
export const DATE_TOKEN = /\b\d{4}-\d{2}-\d{2}(?!\d)|\b\d{2}([./])\d{2}\1\d{4}(?!\d)|("time_\w+_unix"\s*:\s*)(\d+)/g

/** Every date of a payload set to `iso`, in the format each one was written in. */
export function redate (text: string, iso: string): string {
  const [y, m, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)]
  return text.replace(DATE_TOKEN, (token: string, sep?: string, key?: string, secs?: string) => {
    if (key !== undefined && secs !== undefined) {
      // keep the time of day; an epoch before 1970 is negative, which the schema refuses
      return `${key}${Math.floor(Date.UTC(Number(y), Number(m) - 1, Number(d)) / 1000) + (Number(secs) % 86_400)}`
    }
    return sep === undefined ? iso : `${d}${sep}${m}${sep}${y}`
  })
}

/**
 * The first poll of a fresh source: exactly one GET of `url` with a browser User-Agent, the quotes of the
 * recorded `fixture`, then a second poll that revalidates (`revalidation`) and reuses the cached body.
 */
export async function assertFirstFetch (t: Test, source: Source, ctx: FetchContext, seen: Seen[], { url, fixture, revalidation }: { url: string, fixture: string, revalidation: Partial<Seen> }): Promise<Quote[]> {
  const first = await source.fetchQuotes(ctx)
  t.same(seen.map((s) => s.url), [url], `one request, to ${url}`)
  t.match(seen[0]?.ua, /^Mozilla\/5\.0 /, 'a browser User-Agent')
  assertQuotes(t, first, expected(fixture))
  await assertRevalidates(t, source, ctx, first, seen, revalidation)
  return first
}

/** A payload with the rows of `codes` removed gives the quotes of `base` less exactly those, none as zero. */
export function assertOmitted (t: Test, quotes: Quote[], base: Quote[], codes: string[]): Map<string, Quote> {
  const got = byBase(quotes)
  for (const code of codes) t.notOk(got.has(code), `${code} omitted`)
  t.equal(got.size, base.length - codes.length)
  return got
}
