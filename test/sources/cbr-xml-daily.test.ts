import t from 'tap'
import type { Quote } from '../../src/domain/rate.js'
import {
  CBR_XML_DAILY_ORIGIN, createCbrXmlDailySource, parseCbrXmlDaily as parseCbrXmlDailyAt, parseCbrXmlDailyLatest as parseCbrXmlDailyLatestAt, parseCbrXmlDailyPrevious as parseCbrXmlDailyPreviousAt
} from '../../src/sources/cbr-xml-daily.js'
import { assertQuotes, assertRejects, expected, expectedOf, relDiff } from '../support/expected.js'
import { assertFirstFetch } from './adapters.js'
import { NOW, fetchContext } from '../support/fetch-context.js'
import { fixtureServer, fixtureText, serve } from '../support/fixture-server.js'
import { assertSame, assertUnchanged, byBase, seenOf, serveWithEtag } from '../support/quotes.js'
import type { Seen } from '../support/quotes.js'

// the parsers on the recorded payloads' clock (Wed 26 Nov 2025)
const parseCbrXmlDaily = (text: string): Quote[] => parseCbrXmlDailyAt(text, { now: NOW })
const parseCbrXmlDailyLatest = (text: string): Quote[] => parseCbrXmlDailyLatestAt(text, { now: NOW })
const parseCbrXmlDailyPrevious = (text: string): Quote[] => parseCbrXmlDailyPreviousAt(text, { now: NOW })

const DAILY = 'cbr-xml-daily/daily_json-2025-11-26.js'
const LATEST = 'cbr-xml-daily/latest-2025-11-26.js'
const text = fixtureText(DAILY)
const base = parseCbrXmlDaily(text)

interface Valute { CharCode: string, Nominal: unknown, Value: unknown, Previous?: unknown }
interface Daily { Date: string, PreviousDate?: string, Valute: Record<string, Valute> }

/** A transformed copy of the daily fixture, printed the way the mirror prints it. */
function edit (fn: (doc: Daily) => void): string {
  const doc = JSON.parse(text) as Daily
  fn(doc)
  return JSON.stringify(doc, null, 4)
}

function valute (doc: Daily, code: string): Valute {
  const v = doc.Valute[code]
  if (v === undefined) throw new Error(`no ${code} in the fixture`)
  return v
}

t.test('the daily and latest fixtures give their expected units per USD; the 404 page fails', async (t) => {
  const all = expectedOf('cbr-xml-daily')
  t.equal(all.length, 3)
  assertQuotes(t, parseCbrXmlDaily(text), expected(DAILY))
  assertQuotes(t, parseCbrXmlDailyLatest(fixtureText(LATEST)), expected(LATEST))
  for (const want of all.filter((f) => f.kind === 'failure')) {
    assertRejects(t, () => parseCbrXmlDaily(fixtureText(want.file)), 'RATES_SOURCE_PARSE', /HTML/)
    assertRejects(t, () => parseCbrXmlDailyLatest(fixtureText(want.file)), 'RATES_SOURCE_PARSE', /HTML/)
  }
})

t.test('Previous fields give the previous fixing, dated PreviousDate', async (t) => {
  const notes = expected(DAILY).notes
  const previous = Object.fromEntries([...notes.matchAll(/\b([A-Z]{3})=([\d.]+)/g)].map((m) => [m[1], m[2] ?? null]))
  t.same(Object.keys(previous).sort(), ['KGS', 'KZT', 'TJS', 'TMT', 'UZS'])
  const quotes = parseCbrXmlDailyPrevious(text)
  assertQuotes(t, quotes, { effective_date: '2025-11-25', units_per_usd: previous })
  // The same fixing as CBR's own file of that day.
  assertQuotes(t, quotes, expected('cbr/XML_daily-25.11.2025.xml'))
  assertRejects(t, () => parseCbrXmlDailyPrevious(edit((d) => { delete d.PreviousDate })), 'RATES_SOURCE_PARSE', /PreviousDate/)
  const noUsdPrevious = edit((d) => { delete valute(d, 'USD').Previous })
  assertRejects(t, () => parseCbrXmlDailyPrevious(noUsdPrevious), 'RATES_SOURCE_PARSE', /USD/)
  t.equal(parseCbrXmlDaily(noUsdPrevious).length, base.length, 'today\'s values do not need Previous')
})

t.test('format variations do not change the result', async (t) => {
  const reordered = edit((d) => { d.Valute = Object.fromEntries(Object.entries(d.Valute).reverse()) })
  t.not(reordered, text)
  assertSame(t, parseCbrXmlDaily(reordered), base, { date: false })
  assertSame(t, parseCbrXmlDaily('\ufeff' + text), base, { date: false })
  assertSame(t, parseCbrXmlDaily(text.replace(/\r?\n/g, '\r\n')), base, { date: false })
  assertSame(t, parseCbrXmlDaily(JSON.stringify(JSON.parse(text))), base, { date: false })
})

t.test('a changed nominal with the value scaled gives the same rate', async (t) => {
  const xml = edit((d) => {
    const kzt = valute(d, 'KZT')
    kzt.Value = Number(kzt.Value) / 10
    kzt.Nominal = 10
    const uzs = valute(d, 'UZS')
    uzs.Value = Number(uzs.Value) / 100
    uzs.Nominal = 100
  })
  assertUnchanged(t, byBase(parseCbrXmlDaily(xml)), byBase(base), ['KZT', 'UZS'])
})

t.test('missing and unusable entries are skipped, not zero', async (t) => {
  const got = byBase(parseCbrXmlDaily(edit((d) => {
    delete d.Valute.TJS
    valute(d, 'KGS').Value = 0
    valute(d, 'KZT').Value = 'n/a'
    valute(d, 'EUR').Value = -92.334
    valute(d, 'AUD').Nominal = 0
    valute(d, 'GBP').Value = null
  })))
  for (const code of ['TJS', 'KGS', 'KZT', 'EUR', 'AUD', 'GBP']) t.notOk(got.has(code), `${code} absent`)
  t.equal(got.size, base.length - 6)
  t.ok(relDiff(got.get('UZS')?.inverse ?? NaN, Number(expected(DAILY).units_per_usd.UZS)) < 1e-6)
})

t.test('without a usable USD entry nothing can be crossed', async (t) => {
  assertRejects(t, () => parseCbrXmlDaily(edit((d) => { delete d.Valute.USD })), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbrXmlDaily(edit((d) => { valute(d, 'USD').Value = 0 })), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbrXmlDaily(edit((d) => { (d.Valute as Record<string, unknown>).USD = 'x' })), 'RATES_SOURCE_PARSE', /USD/)
})

t.test('malformed and empty payloads', async (t) => {
  assertRejects(t, () => parseCbrXmlDaily(edit((d) => { d.Valute = {} })), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseCbrXmlDaily('{"Date": "2025-11-26T11:30:00+03:00"}'), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbrXmlDaily(text.slice(0, 400)), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbrXmlDaily(''), 'RATES_SOURCE_PARSE')
  assertRejects(t, () => parseCbrXmlDaily(edit((d) => { d.Date = '26.11.2025' })), 'RATES_SOURCE_PARSE', /Date/)
  assertRejects(t, () => parseCbrXmlDaily(edit((d) => { d.Date = '2025-11-31T11:30:00+03:00' })), 'RATES_SOURCE_PARSE', /Date/)
})

t.test('the value date is the calendar date of Date in Moscow time', async (t) => {
  // Friday afternoon in Moscow: Saturday's set is already out
  const friday = { now: new Date('2025-11-28T12:00:00Z') }
  const quotes = parseCbrXmlDailyAt(edit((d) => { d.Date = '2025-11-29T11:30:00+03:00' }), friday)
  t.ok(quotes.every((q) => q.date === '2025-11-29' && q.cadence === 'daily'))
  assertRejects(t, () => parseCbrXmlDailyAt(edit((d) => { d.Date = '2025-11-30T11:30:00+03:00' }), friday), 'RATES_SOURCE_DATE', /2025-11-30.*future/)
  const got = byBase(base)
  t.ok(relDiff(got.get('RUB')?.inverse ?? NaN, Number(expected(DAILY).extra_units_per_usd.RUB)) < 1e-9)
  const uzs = got.get('UZS')?.relErr ?? 0
  t.ok(uzs > 0 && uzs < 1e-5, `UZS relErr at 4 dp per 10000 is small (${uzs})`)
})

t.test('latest.js: reorders, missing and bad rates, base and USD checks', async (t) => {
  const latest = fixtureText(LATEST)
  const doc = JSON.parse(latest) as { base: string, date: string, rates: Record<string, unknown> }
  const print = (fn: (d: typeof doc) => void): string => {
    const copy = structuredClone(doc)
    fn(copy)
    return JSON.stringify(copy, null, 4)
  }
  const was = byBase(parseCbrXmlDailyLatest(latest))
  assertSame(t, parseCbrXmlDailyLatest('\ufeff' + print((d) => { d.rates = Object.fromEntries(Object.entries(d.rates).reverse()) }).replace(/\n/g, '\r\n')), [...was.values()], { date: false })
  const got = byBase(parseCbrXmlDailyLatest(print((d) => {
    delete d.rates.TJS
    d.rates.KZT = 0
    d.rates.KGS = 'x'
  })))
  for (const code of ['TJS', 'KZT', 'KGS']) t.notOk(got.has(code), `${code} absent`)
  t.ok(relDiff(got.get('UZS')?.inverse ?? NaN, Number(expected(LATEST).units_per_usd.UZS)) < 1e-6)
  assertRejects(t, () => parseCbrXmlDailyLatest(print((d) => { delete d.rates.USD })), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbrXmlDailyLatest(print((d) => { d.rates.USD = -1 })), 'RATES_SOURCE_PARSE', /USD/)
  assertRejects(t, () => parseCbrXmlDailyLatest(print((d) => { d.base = 'USD' })), 'RATES_SOURCE_PARSE', /base/)
  assertRejects(t, () => parseCbrXmlDailyLatest(print((d) => { d.date = '2025-13-01' })), 'RATES_SOURCE_PARSE', /date/)
  assertRejects(t, () => parseCbrXmlDailyLatest(print((d) => { d.rates = {} })), 'RATES_SOURCE_EMPTY')
  assertRejects(t, () => parseCbrXmlDailyLatest('[]'), 'RATES_SOURCE_PARSE')
})

t.test('fetchQuotes asks daily_json.js and revalidates with the ETag', async (t) => {
  const seen: Seen[] = []
  const server = await fixtureServer(t, (req, res) => {
    seen.push(seenOf(req))
    if (req.url?.startsWith('/gone/') === true) serve(res, 'cbr-xml-daily/archive-2025-11-30-404.html', 'text/html', 404)
    else serveWithEtag(req, res, DAILY, 'application/javascript', 'W/"d1"')
  })
  const ctx = fetchContext(t)
  const source = createCbrXmlDailySource({ origin: `${server.url}/mirror` })
  t.equal(source.id, 'cbr-xml-daily')
  await assertFirstFetch(t, source, ctx, seen, { url: '/mirror/daily_json.js', fixture: DAILY, revalidation: { inm: 'W/"d1"' } })
  await t.rejects(createCbrXmlDailySource({ origin: `${server.url}/gone` }).fetchQuotes(ctx), { code: 'RATES_SOURCE_HTTP', upstreamStatus: 404 })
  t.equal(CBR_XML_DAILY_ORIGIN, 'https://www.cbr-xml-daily.ru')
})
